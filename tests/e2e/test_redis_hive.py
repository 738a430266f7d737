"""The hive mind: three ``dhcpbridge serve`` (three namespaces) share one pool in one Redis (a
private redis-server on a unix socket, which the namespaces reach through the file system).

Two relay agents of our own and perfdhcp (a third relay) load the three servers at the same
time from disjoint clients: no address is ever ACKed to two clients (on the wire, and in Redis
every bound address has the client it was ACKed to); any server lists the whole pool; a real
client (udhcpc) whose server is gone gets its address back from another server; one server holds
the reaper role. Segment layout (two Linux bridges in ``sw``)::

    srva/srvb/srvc srv0 (10.67.0.1/.3/.4) --br0-- cli(cli0)
    srva/srvb/srvc srv1 (10.68.0.1/.3/.4) --br1-- rly1 (10.68.0.11), rly2 (.12), rly3 (.13, perfdhcp)
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.testing.clients import Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Address, Topology, TopologySpec, Veth
from dhcpbridge.testing.perfdhcp import perfdhcp4
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.redis import RedisServer
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e

SERVERS = {"srva": 1, "srvb": 3, "srvc": 4}  # last octet of each server's addresses
RELAYS = {"rly1": "10.68.0.11", "rly2": "10.68.0.12", "rly3": "10.68.0.13"}


def _mac(n: int) -> str:
    return f"02:7a:00:00:00:{n:02x}"


def _spec() -> TopologySpec:
    veths: list[Veth] = []
    addresses: list[Address] = []
    n = 1
    for role, octet in SERVERS.items():
        veths.append(Veth("sw", f"{role}0", _mac(n), role, "srv0", _mac(n + 1)))
        veths.append(Veth("sw", f"{role}1", _mac(n + 2), role, "srv1", _mac(n + 3)))
        addresses += [
            Address(role, "srv0", f"10.67.0.{octet}/24"),
            Address(role, "srv1", f"10.68.0.{octet}/16"),
        ]
        n += 4
    veths.append(Veth("sw", "swcli", _mac(n), "cli", "cli0", _mac(n + 1)))
    n += 2
    for role, addr in RELAYS.items():
        veths.append(Veth("sw", f"sw{role}", _mac(n), role, "rly0", _mac(n + 1)))
        addresses.append(Address(role, "rly0", f"{addr}/16"))
        n += 2
    return TopologySpec(
        roles=("sw", *SERVERS, "cli", *RELAYS),
        veths=tuple(veths),
        addresses=tuple(addresses),
        description=__doc__ or "",
    )


@pytest.fixture(scope="module")
def hive() -> Iterator[tuple[Topology, dict[str, Any], RedisServer]]:
    require_e2e("udhcpc", "perfdhcp", "redis-server")
    directory = Path(tempfile.mkdtemp(prefix="dhcpA-hive-", dir="/tmp"))
    directory.chmod(0o755)
    redis = RedisServer(directory).start()
    try:
        with Topology(_spec()) as topo:
            sw = topo["sw"]
            for bridge, ports in (
                ("br0", [f"{r}0" for r in SERVERS] + ["swcli"]),
                ("br1", [f"{r}1" for r in SERVERS] + [f"sw{r}" for r in RELAYS]),
            ):
                sw.ip("link", "add", bridge, "type", "bridge")
                for port in ports:
                    sw.ip("link", "set", port, "master", bridge)
                sw.ip("link", "set", bridge, "up")
            servers: dict[str, Any] = {}
            for role in SERVERS:
                server = h.V4Server(topo[role], topo.workdir / role, LAB_PLAN, leases={"reap-interval": 2})
                server.lease_store = redis.url(**{"key-prefix": "hive:"})
                servers[role] = server
            with servers["srva"], servers["srvb"], servers["srvc"]:
                yield topo, servers, redis
    finally:
        redis.stop()
        shutil.rmtree(directory, ignore_errors=True)


async def _bound(url: str) -> dict[int, bytes]:
    """Every bound IPv4 lease in Redis: address -> client."""
    store = open_store(url)
    try:
        return {
            lease.address: lease.client
            for lease in await store.leases(LeaseKind.V4)
            if lease.state == LeaseState.BOUND
        }
    finally:
        await store.close()


def test_three_servers_under_load_never_give_one_address_twice(
    hive: tuple[Topology, dict[str, Any], RedisServer],
) -> None:
    topo, servers, redis = hive
    targets = {"rly1": "10.68.0.1", "rly2": "10.68.0.3"}
    sockets = [h.relay_socket(topo[role], RELAYS[role]) for role in targets]
    loaders = [
        h.RelayLoader(
            sock, (targets[role], 67), RELAYS[role], count=600, window=32, max_seconds=120, first=n * 10_000
        )
        for n, (sock, role) in enumerate(zip(sockets, targets, strict=True))
    ]
    try:
        for loader in loaders:
            loader.start()
        perf = perfdhcp4(topo["rly3"], rate=150, period=10, server="10.68.0.4", clients=2000, cpu=None)
        for loader in loaders:
            assert loader.join(160), "loader did not finish"
    finally:
        for loader in loaders:
            loader.stop()
        for sock in sockets:
            sock.close()
    for loader in loaders:
        assert not loader.errors and not loader.conflicts, (loader.errors, loader.conflicts)
        assert len(loader.acks) == 600, (len(loader.acks), servers["srva"].log()[-3000:])
    assert perf.completed > 0, perf.output[-2000:]
    # on the wire: distinct clients never got one address
    acked = [(mac, addr) for loader in loaders for mac, addr in loader.acks.items()]
    assert len({addr for _, addr in acked}) == len(acked)
    # in Redis: every ACKed address is bound to the client it was ACKed to
    bound = asyncio.run(_bound(redis.url(**{"key-prefix": "hive:"})))
    for mac, addr in acked:
        assert bound.get(addr) == b"\x01" + mac, (h.int2ip(addr), bound.get(addr))
    assert len(bound) >= len(acked) + perf.completed // 2  # perfdhcp's leases are there too
    # any server shows the whole pool (its lease list is read from Redis)
    listed = servers["srvc"].control_leases()
    assert {h.int2ip(addr) for _, addr in acked} <= set(listed)
    for server in servers.values():
        assert "Traceback" not in server.log(), server.log()[-3000:]


def test_a_client_whose_server_is_gone_keeps_its_address(
    hive: tuple[Topology, dict[str, Any], RedisServer],
) -> None:
    topo, servers, redis = hive
    first_client = Udhcpc(topo["cli"], release_on_exit=False)
    with first_client:
        first = first_client.obtain(timeout=40)
    assert first.address is not None and first.server_id is not None
    gone = next(role for role, octet in SERVERS.items() if first.server_id == f"10.67.0.{octet}")
    servers[gone].stop()
    try:
        with Udhcpc(topo["cli"], workdir=topo.workdir / "udhcpc-again") as again:
            second = again.obtain(timeout=40)
        assert second.server_id != first.server_id
        assert second.address == first.address  # another server found its lease in Redis
    finally:
        servers[gone].start()
    # one server reaps at a time: the role key names its holder
    import redis as redis_py

    client = redis_py.Redis(unix_socket_path=str(redis.socket), decode_responses=True)
    try:
        assert wait_for(lambda: client.get("hive:dhcpbridge:role:reaper") is not None, 20)
    finally:
        client.close()


def test_redis_stopped_for_ten_seconds_under_load(hive: tuple[Topology, dict[str, Any], RedisServer]) -> None:
    """Redis killed for 10 s while a relay loads srva: the servers stay up and ACK nothing they
    could not record (``store-unavailable`` drops), serve again by themselves when Redis is back
    (the clients' retransmissions get through), and every ACKed lease is in Redis."""
    topo, servers, redis = hive
    sock = h.relay_socket(topo["rly1"], RELAYS["rly1"])
    window = 16
    loader = h.RelayLoader(
        sock, ("10.68.0.1", 67), RELAYS["rly1"], count=1500, window=window, max_seconds=150, first=50_000
    )
    try:
        loader.start()
        assert wait_for(lambda: loader.acked >= 200, 60), loader.errors
        redis.kill()  # appendfsync always: what Redis confirmed is on disk
        at_stop = loader.acked
        time.sleep(10)
        assert loader.acked <= at_stop + window  # at most the exchanges already past Redis
        redis.start()
        assert loader.join(160), "loader did not finish"
    finally:
        loader.stop()
        sock.close()
    assert not loader.errors and not loader.conflicts, (loader.errors, loader.conflicts)
    assert len(loader.acks) == 1500, (len(loader.acks), servers["srva"].log()[-3000:])
    assert servers["srva"].stats()["drops"].get("store-unavailable", 0) > 0
    for server in servers.values():
        assert server.alive(), server.log()[-3000:]
    bound = asyncio.run(_bound(redis.url(**{"key-prefix": "hive:"})))
    for mac, addr in loader.acks.items():
        assert bound.get(addr) == b"\x01" + mac, h.int2ip(addr)
