"""Three ``dhcpbridge serve`` in namespaces of their own share one PostgreSQL (through its Unix
socket, ``postgresql:///DB?host=/var/run/postgresql``): perfdhcp loads all three at once from one
small pool, and a real client (dhcpcd behind ISC dhcrelay, which forwards to all three) keeps its
address when the server it was bound by is killed and it rebinds with another; the servers that
did not bind it hear of the binding (LISTEN/NOTIFY -> their event bus).

Upstream segment: a Linux bridge br0 in ``sw``::

    srva(srv0 10.68.0.11) --+
    srvb(srv0 10.68.0.12) --+                        +-- rly(rly1 10.68.0.2 | rly0 10.69.0.1) -- cli(cli0)
    srvc(srv0 10.68.0.13) --+-- sw(br0) -------------+
    lda/ldb/ldc (10.68.0.21-23, perfdhcp as relay agents, one per server)

Asserted: on the wire (tshark on br0) no address is ACKed to two clients; in the table every
ACKed address is bound to the client it was ACKed to, and no client holds two addresses.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.capture import Capture
from dhcpbridge.testing.clients import Dhcpcd, Dhcrelay
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Address, Route, Topology, TopologySpec, Veth
from dhcpbridge.testing.perfdhcp import perfdhcp4
from dhcpbridge.testing.pg import drop_database, throwaway_database
from dhcpbridge.testing.plan import AddressPlan, Subnet4
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e

SERVERS = {"srva": "10.68.0.11", "srvb": "10.68.0.12", "srvc": "10.68.0.13"}
LOADERS = {"lda": ("10.68.0.21", "srva"), "ldb": ("10.68.0.22", "srvb"), "ldc": ("10.68.0.23", "srvc")}
SOCKET_DIR = Path("/var/run/postgresql")
LOAD_POOL = ("10.68.0.100", "10.68.0.250")  # 151 addresses for 180 perfdhcp clients: contention


def _mac(n: int, m: int) -> str:
    return f"02:7b:00:00:{n:02x}:{m:02x}"


HIVE = TopologySpec(
    roles=("sw", *SERVERS, *LOADERS, "rly", "cli"),
    veths=(
        *(Veth("sw", f"sw{i}", _mac(1, i), role, "srv0", _mac(2, i)) for i, role in enumerate(SERVERS)),
        *(Veth("sw", f"sl{i}", _mac(3, i), role, "ld0", _mac(4, i)) for i, role in enumerate(LOADERS)),
        Veth("sw", "swr", _mac(5, 0), "rly", "rly1", _mac(5, 1)),
        Veth("rly", "rly0", _mac(6, 0), "cli", "cli0", _mac(6, 1)),
    ),
    addresses=(
        *(Address(role, "srv0", f"{addr}/24") for role, addr in SERVERS.items()),
        *(Address(role, "ld0", f"{addr}/24") for role, (addr, _) in LOADERS.items()),
        Address("rly", "rly1", "10.68.0.2/24"),
        Address("rly", "rly0", "10.69.0.1/24"),
    ),
    routes=tuple(Route(role, "10.69.0.0/24", "10.68.0.2") for role in SERVERS),
    forwarding=("rly",),
    description="three servers, three perfdhcp relays and dhcrelay on bridge br0; a client behind dhcrelay",
)
PLAN = AddressPlan(
    interfaces=(),
    subnets4=(
        Subnet4("10.68.0.0/24", (f"{LOAD_POOL[0]}-{LOAD_POOL[1]}",), routers=("10.68.0.1",)),
        Subnet4(
            "10.69.0.0/24", ("10.69.0.100-10.69.0.199",), routers=("10.69.0.1",), domain_name="hive.test"
        ),
    ),
    subnets6=(),
)


@pytest.fixture(scope="module")
def hive() -> Iterator[tuple[Topology, dict[str, Any], str]]:
    require_e2e("perfdhcp", "dhcpcd", "dhcrelay", "tshark")
    if not (SOCKET_DIR / ".s.PGSQL.5432").exists():
        pytest.fail(f"PostgreSQL's Unix socket is not in {SOCKET_DIR} (scripts/ensure-services.sh starts it)")
    url = throwaway_database("hive")
    name = url.rsplit("/", 1)[1]
    socket_url = f"postgresql:///{name}?host={SOCKET_DIR}&user=postgres"
    try:
        with Topology(HIVE) as topo:
            sw = topo["sw"]
            sw.ip("link", "add", "br0", "type", "bridge")
            for port in (*(f"sw{i}" for i in range(3)), *(f"sl{i}" for i in range(3)), "swr"):
                sw.ip("link", "set", port, "master", "br0")
            sw.ip("link", "set", "br0", "up")
            servers = {}
            for role in SERVERS:
                server = h.V4Server(topo[role], topo.workdir / role, PLAN)
                server.lease_store = socket_url
                servers[role] = server
            with servers["srva"], servers["srvb"], servers["srvc"]:
                yield topo, servers, url
    finally:
        drop_database(url)


def events_delivered(server: Any) -> int:
    """Lease events the server's event bus delivered so far (its own and other servers')."""
    delivered: int = server.control({"cmd": "stats"})["events"]["delivered"]
    return delivered


def bound_rows(url: str) -> list[tuple[str, str, bytes]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT host(address), subnet, hwaddr FROM leases WHERE state = 'bound' AND expires > now()"
        ).fetchall()
    return [(r[0], r[1], bytes(r[2])) for r in rows]


def test_three_servers_under_perfdhcp_hand_out_no_address_twice(
    hive: tuple[Topology, dict[str, Any], str],
) -> None:
    topo, servers, url = hive
    before = {role: s.stats()["sent"].get("DHCPACK", 0) for role, s in servers.items()}
    with (
        Capture(topo["sw"], "br0", capture_filter="udp port 67") as cap,
        concurrent.futures.ThreadPoolExecutor(3) as pool,
    ):
        runs = [
            pool.submit(
                perfdhcp4,
                topo[loader],
                rate=100,
                period=8,
                server=SERVERS[target],
                clients=60,
                cpu=None,
                extra=["-b", f"mac={_mac(0x10 + i, 0)}"],
            )
            for i, (loader, (_, target)) in enumerate(LOADERS.items())
        ]
        results = [r.result() for r in runs]
    assert all(r.exit_code is not None for r in results), [r.command for r in results]
    acks = cap.fields("dhcp.ip.your", "dhcp.hw.mac_addr", display_filter="dhcp.option.dhcp == 5")
    assert len(acks) > 100, f"only {len(acks)} ACKs on the wire"
    owners: dict[str, set[str]] = {}
    for yiaddr, mac in acks:
        owners.setdefault(yiaddr, set()).add(mac.split(",")[0].lower())  # option 61 repeats it
    twice = {addr: macs for addr, macs in owners.items() if len(macs) > 1}
    assert twice == {}, f"addresses ACKed to more than one client: {twice}"
    after = {role: s.stats()["sent"].get("DHCPACK", 0) for role, s in servers.items()}
    assert all(after[role] > before[role] for role in servers), (before, after)  # all three served
    rows = [r for r in bound_rows(url) if r[1] == "10.68.0.0/24"]
    table = {addr: hw.hex(":") for addr, _, hw in rows}
    assert len(set(table.values())) == len(table)  # no client holds two addresses
    lo, hi = (ipaddress.ip_address(a) for a in LOAD_POOL)
    assert all(lo <= ipaddress.ip_address(a) <= hi for a in table)
    for addr, macs in owners.items():  # every ACK on the wire was committed first (ACK after COMMIT)
        assert table.get(addr) in macs, f"{addr} ACKed to {macs}, bound to {table.get(addr)}"


def test_a_client_keeps_its_address_when_its_server_is_killed(
    hive: tuple[Topology, dict[str, Any], str],
) -> None:
    topo, servers, url = hive
    relay = Dhcrelay(topo["rly"], downstream=("rly0",), upstream=("rly1",), servers=tuple(SERVERS.values()))
    before = {role: events_delivered(s) for role, s in servers.items()}
    for _ in range(20):  # events of the previous test may still arrive: wait until quiet
        time.sleep(0.5)
        now = {role: events_delivered(s) for role, s in servers.items()}
        if now == before:
            break
        before = now
    with relay, Dhcpcd(topo["cli"], family=4, arp_probe=False) as client:
        lease = client.obtain(timeout=40)
        assert lease.address is not None and lease.domain_name == "hive.test"
        address = str(lease.address.ip)
        first = next(role for role, sid in SERVERS.items() if str(lease.server_id) == sid)
        assert (address, "10.69.0.0/24") in [(a, s) for a, s, _ in bound_rows(url)]
        # the other servers heard of the binding (LISTEN/NOTIFY -> their event bus)
        others = [role for role in SERVERS if role != first]
        assert wait_for(lambda: all(events_delivered(servers[r]) > before[r] for r in others), 20), (
            before,
            {r: events_delivered(servers[r]) for r in others},
        )
        servers[first].stop()  # the server that bound the client is gone
        try:
            again = client.rebind(timeout=60)
            assert again.address is not None and str(again.address.ip) == address
            assert str(again.server_id) != SERVERS[first]
            rows = [(a, hw) for a, s, hw in bound_rows(url) if s == "10.69.0.0/24"]
            assert [a for a, _ in rows] == [address]
        finally:
            servers[first].start()
