"""Namespace topologies come up as specified and are removed completely, whatever happens."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import (
    LAB_MACS,
    NetnsError,
    Topology,
    lab_topology,
    list_namespaces,
    relayed_topology,
)
from dhcpbridge.testing.process import pid_alive

pytestmark = pytest.mark.e2e

SRC = Path(__file__).resolve().parents[2] / "src"


def host_link_macs() -> set[str]:
    out = subprocess.run(["ip", "-j", "link"], capture_output=True, text=True, check=True).stdout
    return {link.get("address", "") for link in json.loads(out)}


def assert_gone(topo: Topology) -> None:
    names = set(list_namespaces())
    for name in topo.names:
        assert name not in names
        assert not Path("/etc/netns", name).exists()
        assert not Path("/run/netns", name).exists()
    assert not topo.workdir.exists()


def test_lab_topology_up_and_down() -> None:
    require_e2e()
    with lab_topology() as topo:
        names = set(list_namespaces())
        assert set(topo.names) <= names
        assert all(n.startswith(f"dbt{os.getpid()}-") for n in topo.names)
        srv, cli, rly = topo["srv"], topo["cli"], topo["rly"]
        assert {str(a) for a in srv.addresses("srv0", scope="global")} == {"10.67.0.1/24", "fd67::1/64"}
        assert {str(a) for a in srv.addresses("srv1", scope="global")} == {"10.68.0.1/16", "fd68::1/64"}
        assert {str(a) for a in rly.addresses("rly0", scope="global")} == {"10.68.0.2/16", "fd68::2/64"}
        assert cli.addresses("cli0", scope="global") == []  # the client side has no IPv4 at all
        # fixed MACs give stable EUI-64 link-local addresses
        assert [str(a) for a in cli.addresses("cli0", scope="link")] == ["fe80::67:ff:fe00:2/64"]
        link = json.loads(cli.ip("-j", "link", "show", "dev", "cli0"))[0]
        assert link["address"] == LAB_MACS["cli0"]
        assert "UP" in link["flags"]
        assert "tentative" not in cli.ip("-6", "addr", "show", "dev", "cli0")
        assert cli.run(["sysctl", "-n", "net.ipv6.conf.cli0.accept_dad"]).stdout.strip() == "0"
        assert "UP" in json.loads(cli.ip("-j", "link", "show", "dev", "lo"))[0]["flags"]
        # the veths exist only inside the namespaces
        assert not set(LAB_MACS.values()) & host_link_macs()
        # a private resolv.conf shadows the host's inside the namespaces
        assert cli.run(["cat", "/etc/resolv.conf"]).stdout == ""
    assert_gone(topo)


def test_traffic_between_namespaces() -> None:
    require_e2e()
    echo = "import socket,sys;s=socket.socket();s.bind((sys.argv[1],9999));s.listen();c,_=s.accept();c.send(c.recv(9))"
    call = (
        "import socket,sys;s=socket.create_connection((sys.argv[1],9999),timeout=5);"
        "s.send(b'ping');print(s.recv(9).decode())"
    )
    with lab_topology() as topo:
        server = topo["srv"].popen([sys.executable, "-c", echo, "10.68.0.1"])
        deadline = time.monotonic() + 5
        while not topo["srv"].run(["ss", "-Hltn", "sport = :9999"]).stdout.strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        out = topo["rly"].run([sys.executable, "-c", call, "10.68.0.1"], timeout=10).stdout
        assert out.strip() == "ping"
        server.stop()


def test_relayed_topology_routes_through_the_relay() -> None:
    require_e2e()
    echo = "import socket;s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);s.bind(('fd68::1',9999));d,a=s.recvfrom(9);s.sendto(d,a)"
    call = (
        "import socket;s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);s.settimeout(3);"
        "s.sendto(b'hi',('fd68::1',9999));print(s.recvfrom(9)[0].decode())"
    )
    with relayed_topology() as topo:
        cli, rly, srv = topo["cli"], topo["rly"], topo["srv"]
        assert {str(a) for a in rly.addresses("rly0", scope="global")} == {"10.69.0.1/24", "fd69::1/64"}
        assert "10.69.0.0/24 via 10.68.0.2" in srv.ip("-4", "route")
        assert "fd69::/64 via fd68::2" in srv.ip("-6", "route")
        assert rly.run(["sysctl", "-n", "net.ipv4.ip_forward"]).stdout.strip() == "1"
        # a client with an address behind the relay reaches the server (IPv6 both ways)
        cli.ip("-6", "addr", "add", "fd69::50/64", "dev", "cli0", "nodad")
        cli.ip("-6", "route", "add", "default", "via", "fd69::1")
        server = srv.popen([sys.executable, "-c", echo])
        time.sleep(0.3)
        assert cli.run([sys.executable, "-c", call], timeout=10).stdout.strip() == "hi"
        server.stop()
    assert_gone(topo)


def test_cleanup_on_exception_kills_leftover_processes() -> None:
    require_e2e()
    topo = lab_topology()
    with pytest.raises(RuntimeError, match="boom"), topo:
        proc = topo["cli"].popen(["sleep", "300"])
        # a process that ignores SIGTERM must still go (SIGKILL)
        stubborn = topo["srv"].popen(["sh", "-c", "trap '' TERM; while :; do sleep 1; done"])
        time.sleep(0.2)
        assert proc.alive() and stubborn.alive()
        raise RuntimeError("boom")
    assert not pid_alive(proc.pid)
    assert not pid_alive(stubborn.pid)
    assert_gone(topo)


def test_two_topologies_at_once_have_distinct_names() -> None:
    require_e2e()
    with lab_topology() as a, lab_topology() as b:
        assert not set(a.names) & set(b.names)
        assert a["cli"].link_exists("cli0") and b["cli"].link_exists("cli0")
    assert_gone(a)
    assert_gone(b)


def test_run_timeout_and_background_stop() -> None:
    require_e2e()
    with lab_topology() as topo:
        t0 = time.monotonic()
        with pytest.raises(NetnsError, match="timed out"):
            topo["cli"].run(["sleep", "30"], timeout=0.5)
        assert time.monotonic() - t0 < 5
        with pytest.raises(NetnsError, match="exit 3"):
            topo["cli"].run(["sh", "-c", "echo oops >&2; exit 3"])
        proc = topo["cli"].popen(
            ["sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.1; done"], name="stubborn"
        )
        time.sleep(0.2)
        t0 = time.monotonic()
        proc.stop(timeout=0.5)
        assert not proc.alive()
        assert 0.4 < time.monotonic() - t0 < 5
        assert "started" in proc.log()
        assert proc.returncode == -signal.SIGKILL


def test_checksum_offload_off() -> None:
    require_e2e("ethtool")
    with lab_topology(checksum_offload=False) as topo:
        out = topo["cli"].run(["ethtool", "-k", "cli0"]).stdout
        assert "tx-checksumming: off" in out
        topo.set_checksum_offload(True)
        assert "tx-checksumming: on" in topo["cli"].run(["ethtool", "-k", "cli0"]).stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_cleans_up(tmp_path: Path, sig: signal.Signals) -> None:
    """Ctrl-C (SIGINT) or SIGTERM while a topology is up still removes everything."""
    require_e2e()
    script = tmp_path / "hold.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, time
            sys.path.insert(0, {str(SRC)!r})
            from dhcpbridge.testing.netns import lab_topology
            with lab_topology() as topo:
                topo["cli"].popen(["sleep", "300"])
                print(" ".join(topo.names), topo.workdir, flush=True)
                time.sleep(60)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().split()
    names, workdir = line[:-1], Path(line[-1])
    assert len(names) == 3 and set(names) <= set(list_namespaces())
    proc.send_signal(sig)
    proc.wait(timeout=20)
    assert not set(names) & set(list_namespaces())
    assert not workdir.exists()
