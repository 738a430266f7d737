"""``dhcpbridge harvest`` end to end: lease files written by the real dhcpd, Kea and dnsmasq in a
namespace lab, harvested into a BIND ``$INCLUDE`` fragment; ``rndc reload`` makes a real ``named``
serve the names. ``--verify`` keeps the namespace hosts that answer ICMP echo and leaves out those
that do not."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from dhcpbridge.leases.files import read_lease_file
from dhcpbridge.testing.bind import BindServer
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.kea import Kea4, Kea6
from dhcpbridge.testing.netns import Namespace, Topology, lab_topology
from dhcpbridge.testing.peers import Dhcpd, Dnsmasq, NamedDhclient6
from dhcpbridge.testing.pinghosts import add_hosts, host_v4, host_v6, ping_topology
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import ManagedServer

pytestmark = pytest.mark.e2e
DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))
ZONE = "harvest.test"
DNS_PORT, RNDC_PORT = 53253, 53254  # on the server namespace's own loopback


def _probe(rly: Namespace, n: int, name: str) -> None:
    argv = [DHCPBRIDGE, "probe", "--server", "10.68.0.1", "--giaddr", "10.68.0.2"]
    argv += ["--mac", f"02:00:00:00:0c:{n:02x}", "--hostname", name, "--full"]
    rly.run(argv, timeout=60)


def _bind(topo: Topology) -> tuple[BindServer, Path]:
    workdir = topo.workdir / "bind"
    workdir.mkdir()
    include = workdir / "harvest.inc"
    include.write_text("; empty until the first harvest\n")
    (workdir / f"{ZONE}.zone").write_text(
        f"$TTL 60\n$ORIGIN {ZONE}.\n@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 60\n"
        f"@ IN NS ns.{ZONE}.\nns IN A 127.0.0.1\n$INCLUDE {include}\n"
    )
    bind = BindServer(workdir, [], port=DNS_PORT, ns=topo["srv"], rndc_port=RNDC_PORT, static_zones=[ZONE])
    return bind, include


def _harvest(ns: Namespace, bind: BindServer, include: Path, *args: str) -> dict[str, object]:
    argv = [DHCPBRIDGE, "harvest", "--dest", str(include), "--json", *args]
    argv += ["--zone", ZONE, "--rndc-server", "127.0.0.1", "--rndc-port", str(RNDC_PORT)]
    argv += ["--rndc-key", str(bind.rndc_key_path)]
    out = ns.run(argv, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _resolves(bind: BindServer, name: str, want: list[str]) -> bool:
    deadline = time.monotonic() + 20  # named loads a reloaded zone asynchronously
    while time.monotonic() < deadline:
        if bind.query(f"{name}.{ZONE}", "A") == want:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("peer", ["dhcpd", "kea4", "dnsmasq"])
def test_lease_file_of_a_real_server_is_harvested_and_served_by_bind(peer: str) -> None:
    require_e2e("named", "rndc", {"dhcpd": "dhcpd", "kea4": "kea-dhcp4", "dnsmasq": "dnsmasq"}[peer])
    with lab_topology() as topo:
        srv = topo["srv"]
        server: ManagedServer
        if peer == "dhcpd":
            server = Dhcpd(srv, topo.workdir / peer)
        elif peer == "kea4":
            server = Kea4(srv, topo.workdir / peer, LAB_PLAN)
        else:
            server = Dnsmasq(srv, topo.workdir / peer, v6=False)
        lease_file: Path = server.lease_file  # type: ignore[attr-defined]
        with server:
            for n, name in enumerate(("cord-1", "compute-1", "compute-2"), 1):
                _probe(topo["rly"], n, name)
        leases = {x.hostname: x.address_text for x in read_lease_file(lease_file).leases}
        assert set(leases) == {"cord-1", "compute-1", "compute-2"}
        bind, include = _bind(topo)
        with bind:
            fmt = {"dhcpd": "dhcpd", "kea4": "kea-csv", "dnsmasq": "dnsmasq"}[peer]
            result = _harvest(
                srv, bind, include, "--leases", str(lease_file), "--format", fmt, "--filter", "^(?!cord)"
            )
            assert result["changed"] and result["reloaded"] and result["records"] == 2, result
            assert _resolves(bind, "compute-1", [leases["compute-1"]])
            assert _resolves(bind, "compute-2", [leases["compute-2"]])
            assert bind.query(f"cord-1.{ZONE}", "A") == []  # filtered out
            again = _harvest(srv, bind, include, "--leases", str(lease_file), "--filter", "^(?!cord)")
            assert not again["changed"] and not again["reloaded"]  # same content: no write, no reload
            everything = _harvest(srv, bind, include, "--leases", str(lease_file))
            assert everything["added"] and _resolves(bind, "cord-1", [leases["cord-1"]])


@pytest.mark.parametrize("peer", ["kea6", "dnsmasq"])
def test_v6_lease_file_gives_aaaa_records(peer: str) -> None:
    require_e2e("named", "rndc", "dhclient", "kea-dhcp6" if peer == "kea6" else "dnsmasq")
    with lab_topology() as topo:
        srv = topo["srv"]
        server: ManagedServer = (
            Kea6(srv, topo.workdir / peer, LAB_PLAN) if peer == "kea6" else Dnsmasq(srv, topo.workdir / peer)
        )
        with server:
            client = NamedDhclient6(topo["cli"], fqdn="six")
            try:
                address = str(client.obtain().addresses6[0].ip)
            finally:
                client.close(flush=False)
        lease_file: Path = server.lease_file  # type: ignore[attr-defined]
        bind, include = _bind(topo)
        with bind:
            result = _harvest(srv, bind, include, "--leases", str(lease_file))
            assert result["reloaded"] and result["records"] == 1, result
            deadline = time.monotonic() + 20
            while bind.query(f"six.{ZONE}", "AAAA") != [address] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert bind.query(f"six.{ZONE}", "AAAA") == [address]


def test_wrong_rndc_key_reports_rndc_output_and_keeps_the_old_file() -> None:
    require_e2e("named", "rndc")
    with lab_topology() as topo:
        srv = topo["srv"]
        bind, include = _bind(topo)
        leases = topo.workdir / "dnsmasq.leases"
        leases.write_text(f"{int(time.time()) + 3600} 02:00:00:00:0c:01 10.67.0.150 web *\n")
        with bind:
            bad_key = topo.workdir / "bad.key"
            bad_key.write_text(
                'key "rndc-key" { algorithm hmac-sha256; secret "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; };\n'
            )
            argv = [DHCPBRIDGE, "harvest", "--dest", str(include), "--leases", str(leases), "--zone", ZONE]
            argv += ["--rndc-server", "127.0.0.1", "--rndc-port", str(RNDC_PORT), "--rndc-key", str(bad_key)]
            out = srv.run(argv, timeout=120, check=False)
            assert out.returncode == 1 and "rndc" in out.stderr and "exit 1" in out.stderr, out.stderr
            assert include.read_text() == "; empty until the first harvest\n"
            assert bind.query(f"web.{ZONE}", "A") == []


def test_verify_keeps_hosts_that_answer() -> None:
    require_e2e()
    with ping_topology() as topo:
        up = [host_v4(1), host_v4(2), host_v4(3), host_v6(1)]
        down = [host_v4(201), host_v4(202), host_v6(201)]
        add_hosts(topo["hosts"], up)
        end = int(time.time()) + 3600
        lines = [f"{end} 02:00:00:00:0d:{i:02x} {a} up-{i} *" for i, a in enumerate(up[:3], 1)]
        lines += [f"{end} 02:00:00:00:0e:{i:02x} {a} down-{i} *" for i, a in enumerate(down[:2], 1)]
        lines += ["duid 00:01:00:01:00:00:00:01:02:98:00:00:00:01"]
        lines += [
            f"{end} 1 {up[3]} up-six 00:01:00:01:aa:bb:cc:dd",
            f"{end} 2 {down[2]} down-six 00:01:00:01:aa:bb:cc:ee",
        ]
        leases = topo.workdir / "dnsmasq.leases"
        leases.write_text("\n".join(lines) + "\n")
        dest = topo.workdir / "harvest.inc"
        argv = [
            DHCPBRIDGE,
            "harvest",
            "--leases",
            str(leases),
            "--dest",
            str(dest),
            "--verify",
            "--timeout",
            "1s",
        ]
        out = topo["hv"].run([*argv, "--workers", "8", "--json"], timeout=120)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        assert sorted(result["unreachable"]) == sorted(down)
        assert result["records"] == 4
        text = dest.read_text()
        assert all(a in text for a in up) and not any(a in text for a in down)
        assert "up-six\tIN AAAA\tfd97::1" in text
