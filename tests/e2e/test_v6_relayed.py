"""Relayed DHCPv6 end to end: ISC ``dhcrelay -6 -I`` in the middle namespace (Interface-ID), a static
/56 keyed by that Interface-ID delivered from an SQLite file built with ``dhcpbridge build-sqlite``
(or a DBM file built with ``dhcpbridge build-dbm``) and picked up on SIGHUP; a static prefix keyed by Remote-ID delivered when ``dhcpbridge probe -6``
acts as the relay (dhcrelay cannot add a Remote-ID); nested relays; perfdhcp -6 -A 1."""

from __future__ import annotations

import ipaddress
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.testing.clients import Dhclient, relay_for
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology
from dhcpbridge.testing.perfdhcp import perfdhcp6
from dhcpbridge.testing.server import default_dhcpbridge_exe, wait_for

pytestmark = pytest.mark.e2e

CLIENT_NET = ipaddress.ip_network("fd69::/64")
STATIC_BY_INTERFACE = "2001:db8:aa00::/56"
STATIC_BY_REMOTE = "2001:db8:bb00::/56"
EXE = str(default_dhcpbridge_exe())


def build_table(csv_path: Path, db_path: Path) -> None:
    """``dhcpbridge build-sqlite`` (*.db) or ``build-dbm`` (*.dbm)."""
    verb = "build-dbm" if db_path.suffix == ".dbm" else "build-sqlite"
    result = subprocess.run(
        [EXE, verb, str(csv_path), str(db_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "assignment(s)" in result.stdout


@pytest.mark.parametrize("table", ["customers.db", "customers.dbm"])
def test_dhcrelay_interface_id_selects_a_static_prefix_from_sqlite(
    relayed6: Topology, server6_class: Any, relayed6_plan: Any, table: str
) -> None:
    require_e2e("dhclient", "dhcrelay")
    work = relayed6.workdir / f"iface-id-{Path(table).suffix[1:]}"
    work.mkdir()
    csv_path, db = work / "customers.csv", work / table
    csv_path.write_text("id,address,prefix\ninterface-id-str:nobody,,2001:db8:ee00::/56\n")
    build_table(csv_path, db)
    extra = {"source": [{"type": "static6", "files": [str(db)]}, {"type": "pools"}]}
    server = server6_class(relayed6["srv"], work / "srv", relayed6_plan, extra)
    with server, relay_for(relayed6["rly"], 6, relayed6.spec.facts) as relay:
        assert relay.interface_id  # dhcrelay -I
        # 1. no assignment for this line yet: address and prefix come from the pools
        with Dhclient(relayed6["cli"], mode="6-napd") as client:
            lease = client.obtain(timeout=30)
            assert lease.address6 is not None and lease.address6.ip in CLIENT_NET
            assert lease.prefix is not None and lease.prefix.subnet_of(ipaddress.ip_network("fd69:1000::/40"))
            rows = server.leases()
            iface = {r["interface_id"] for r in rows}
            assert len(iface) == 1 and all(r["source"] == "pools" for r in rows)
            interface_id = iface.pop()
            assert interface_id  # what dhcrelay put in its Interface-ID option, kept with the lease
            assert client.release(timeout=15)
        # 2. the customer database gets a /56 for that line; rebuild the file, reload the server
        csv_path.write_text(
            "id,address,prefix\n"
            "interface-id-str:nobody,,2001:db8:ee00::/56\n"
            f"interface-id:{interface_id.hex()},,{STATIC_BY_INTERFACE}\n"
        )
        build_table(csv_path, db)
        assert server.proc is not None
        server.proc.signal(signal.SIGHUP)
        assert wait_for(lambda: "reloaded" in server.log(), 10.0), server.log()[-2000:]
        # 3. a client behind that relay port now gets the static prefix (and a pool address)
        with Dhclient(relayed6["cli"], mode="6-napd") as client:
            lease = client.obtain(timeout=30)
            assert lease.prefixes == (ipaddress.ip_network(STATIC_BY_INTERFACE),)
            assert lease.address6 is not None and lease.address6.ip in CLIENT_NET
            row = next(r for r in server.leases() if r["address"] == STATIC_BY_INTERFACE.split("/")[0])
            assert row["source"] == "static6" and row["state"] == 1 and row["interface_id"] == interface_id
            renewed = client.renew(timeout=30)  # RENEW is multicast, relayed again
            assert renewed.prefixes == lease.prefixes
            assert client.release(timeout=15)
        log = relay.log()
        assert "Relaying Solicit from" in log and "Relaying Reply to" in log
    assert "Traceback" not in server.log()


def probe(ns: Any, *args: str, timeout: float = 30) -> list[dict[str, Any]]:
    result = ns.run([EXE, "probe", "-6", "--json", *args], timeout=timeout, check=False)
    steps = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 0, (result.stdout, result.stderr)
    return steps


def granted(reply: dict[str, Any]) -> tuple[list[str], list[str]]:
    addrs, prefixes = [], []
    for opt in reply["options"]:
        for sub in opt["value"]["options"] if opt["code"] in (3, 25) else []:
            value = sub["value"]
            if sub["code"] == 5 and value["valid"]:
                addrs.append(value["address"])
            if sub["code"] == 26 and value["valid"]:
                prefixes.append(value["prefix"])
    return addrs, prefixes


def test_probe_as_relay_with_remote_id_gets_the_static_prefix(
    relayed6: Topology, server6_class: Any, relayed6_plan: Any
) -> None:
    require_e2e()
    extra = {"static6": [{"id": "remote-id:4491:0a0b0c0d", "prefix": STATIC_BY_REMOTE}]}
    server = server6_class(relayed6["srv"], relayed6.workdir / "remote-id", relayed6_plan, extra)
    rly = relayed6["rly"]
    common = ["--server", "fd68::1", "--relay-address", "fd68::2", "--link-address", "fd69::1", "--ia-pd"]
    with server:
        steps = probe(rly, *common, "--remote-id", "4491:0x0a0b0c0d", "--full", "--renew", "--release")
        assert [s["step"] for s in steps] == [
            "SOLICIT -> ADVERTISE",
            "REQUEST -> REPLY",
            "RENEW -> REPLY",
            "RELEASE -> REPLY",
        ]
        for step in steps[:3]:
            addrs, prefixes = granted(step["reply"])
            assert prefixes == [STATIC_BY_REMOTE]
            assert len(addrs) == 1 and ipaddress.ip_address(addrs[0]) in CLIENT_NET
        rows = {r["address"]: r for r in server.leases()}
        assert rows[STATIC_BY_REMOTE.split("/")[0]]["remote_id"] == bytes.fromhex("0a0b0c0d")
        assert rows[STATIC_BY_REMOTE.split("/")[0]]["state"] == 2  # released
        # another enterprise number is another line: a pool prefix
        other = probe(rly, *common, "--remote-id", "9:0x0a0b0c0d")
        assert granted(other[0]["reply"])[1][0] != STATIC_BY_REMOTE
        # eight nested relays, the Remote-ID on the one closest to the client
        deep = probe(rly, *common, "--relays", "8", "--remote-id", "4491:0x0a0b0c0d", "--full")
        assert granted(deep[1]["reply"])[1] == [STATIC_BY_REMOTE]
        # INFORMATION-REQUEST through the relay: the link's options, no IA
        info = probe(
            rly, "--server", "fd68::1", "--relay-address", "fd68::2", "--link-address", "fd69::1", "--info"
        )
        names = [o["name"] for o in info[0]["reply"]["options"]]
        assert names == ["clientid", "serverid", "dns-servers", "domain-list"]
    assert "Traceback" not in server.log()


def test_perfdhcp_relay_mode_address_and_prefix(
    relayed6: Topology, server6_class: Any, relayed6_plan: Any
) -> None:
    require_e2e("perfdhcp")
    server = server6_class(relayed6["srv"], relayed6.workdir / "perfdhcp", relayed6_plan)
    with server:
        result = perfdhcp6(
            relayed6["rly"],
            rate=300,
            period=3,
            interface="rly1",
            relay=True,
            link_address="fd69::1",
            lease_type="address-and-prefix",
            clients=1000,
            server_pid=server.pid,
            cpu=None,
        )
        assert result.completed > 500, result.line()
        assert result.drop_pct < 1.0, result.line()
        kinds = [r["kind"] for r in server.leases() if r["state"] == 1]
        assert kinds.count(6) >= 500 and kinds.count(7) >= 500  # one address and one prefix each


FUZZ = r"""
import os, random, socket, sys
random.seed(int(sys.argv[1]))
seeds = [bytes.fromhex(h) for h in sys.argv[2:]]
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd68::2", 0))
for i in range(3000):
    data = bytearray(random.choice(seeds))
    for _ in range(random.randint(1, 6)):
        pos = random.randrange(len(data))
        op = random.random()
        if op < 0.5:
            data[pos] ^= 1 << random.randrange(8)
        elif op < 0.7:
            del data[pos:]
        elif op < 0.9:
            data[pos:pos] = os.urandom(random.randint(1, 8))
        else:
            data[pos:pos + 2] = random.getrandbits(16).to_bytes(2, "big")
        if not data:
            data = bytearray(os.urandom(10))
    s.sendto(bytes(data), ("fd68::1", 547))
print("sent")
"""


def test_a_flood_of_mutated_packets_does_not_hurt_the_server(
    relayed6: Topology, server6_class: Any, relayed6_plan: Any
) -> None:
    """3000 mutated relayed SOLICITs/REQUESTs/RELEASEs by UDP: the server stays up, logs no engine
    failure, counts the malformed ones, and still answers a good client afterwards."""
    require_e2e()
    import sys

    server = server6_class(relayed6["srv"], relayed6.workdir / "fuzz", relayed6_plan)
    rly = relayed6["rly"]
    common = ["--server", "fd68::1", "--relay-address", "fd68::2", "--link-address", "fd69::1"]
    with server:
        # a relayed SOLICIT (IA_NA + IA_PD) and a relayed REQUEST (IA_NA with an address)
        solicit = (
            "0c00fd690000000000000000000000000001fe800000000000000000000000000001"
            "00090040" + "01000001" + "0001000a00030001020000000001" + "0003000c000000010000000000000000"
            "0019000c000000020000000000000000" + "0006000400170018" + "000800020000"
        )
        request = (
            "0c00fd690000000000000000000000000001fe800000000000000000000000000001"
            "00090052" + "03000002" + "0001000a00030001020000000001" + "0002000a00030001026800000001"
            "0003002800000001000000000000000000050018fd690000000000000000000001000005"
            "0000000000000000" + "000800020000"
        )
        seeds = [solicit, request]
        result = rly.run([sys.executable, "-c", FUZZ, "7", *seeds], timeout=60, check=False)
        assert result.returncode == 0 and "sent" in result.stdout, result.stderr
        assert server.alive()
        steps = probe(rly, *common, "--full")
        assert steps[-1]["step"] == "REQUEST -> REPLY"
    log = server.log()
    assert "engine failure" not in log and "Traceback" not in log
    assert "malformed:" in log  # drops are logged (rate-limited) with their reason
