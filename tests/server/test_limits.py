"""Issue 9 points 6 and 7 at the endpoint: the rate limiter before the engine keeps a flood from one
relay from starving the others (a real v4 engine over a memory store), packets waiting for IO are
bounded, oversized datagrams are counted, and ``[limits]`` reaches the endpoints."""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace
from typing import Any

from dhcpbridge import logs
from dhcpbridge.assemble import build_engine4
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.server.commit import GroupCommit
from dhcpbridge.server.endpoint import Endpoint
from dhcpbridge.server.limits import apply_limits
from dhcpbridge.server.ratelimit import RateLimiter4
from dhcpbridge.server.tasks import TaskOwner
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, parse

from .fakes import Harness, Socket

SERVER = ip4_int("10.68.0.1")
RELAY_A, RELAY_B = "10.68.0.2", "10.68.0.3"
POOL = 50

CONFIG: dict[str, Any] = {
    "leases": {"store": "memory://"},
    "subnet4": [
        {
            "subnet": "10.68.0.0/16",
            "pools": [f"10.68.1.0-10.68.1.{POOL - 1}"],
            "relay-addresses": [RELAY_A, RELAY_B],
        }
    ],
}


class Wire:
    """A socket that hands the endpoint real DHCPv4 datagrams with their ``Meta4``."""

    port = 67
    oversized = 0

    def __init__(self) -> None:
        self.queue: list[tuple[bytes, Meta4]] = []

    def fileno(self) -> int:
        return -1

    def receive(self, limit: int) -> list[tuple[bytes, Meta4]]:
        out, self.queue = self.queue[:limit], self.queue[limit:]
        return out

    def close(self) -> None:
        pass


def discover(mac: bytes, giaddr: str, xid: int) -> tuple[bytes, Meta4]:
    msg = Message4(xid=xid, hlen=6, hops=1, giaddr=ip4_int(giaddr), chaddr=mac, options={53: b"\x01"})
    return encode(msg), Meta4(ip4_int(giaddr), 67, SERVER, SERVER, 3, "eth1")


def v4_endpoint(config: dict[str, Any]) -> tuple[Endpoint, Wire, list[Any], Stats]:
    cfg = from_dict(config)
    stats = Stats()
    store = MemoryStore()
    host = HostInfo.build({"eth1": (SERVER,)})
    engine: Engine4 = build_engine4(cfg, store, host, stats)
    loop = asyncio.get_running_loop()
    tasks = TaskOwner()
    tasks.bind(loop)
    wire = Wire()
    sent: list[Any] = []
    endpoint = Endpoint(
        "v4",
        wire,
        engine,
        lambda outcome, meta: sent.append(outcome),
        stats,
        GroupCommit(store, loop, tasks),
        tasks,
        lambda event: None,
    )
    apply_limits(SimpleNamespace(config=cfg, endpoints={"v4": endpoint}))
    return endpoint, wire, sent, stats


def drain(endpoint: Endpoint, wire: Wire) -> None:
    for _ in range(1000):
        if not wire.queue:
            return
        endpoint.on_readable()


async def test_a_flood_of_random_macs_from_one_relay_leaves_the_other_relays_clients_served() -> None:
    config = {**CONFIG, "limits": {"relay-rate": 5, "relay-burst": 20}}
    endpoint, wire, sent, stats = v4_endpoint(config)
    try:
        rng = random.Random(9)
        flood = 2000  # bounded: 40x the pool, at full rate (all in one go)
        wire.queue = [discover(rng.randbytes(6), RELAY_A, i) for i in range(flood)]
        drain(endpoint, wire)
        assert stats.drops["rate-relay"] >= flood - 25  # the relay's burst, and what refilled meanwhile
        assert len(sent) <= 25
        offered_before = len(sent)
        wire.queue = [discover(bytes.fromhex("02680000b001"), RELAY_B, 99_999)]
        drain(endpoint, wire)
        assert len(sent) == offered_before + 1  # the other relay's client got its OFFER
        offer = parse(sent[-1].data)
        assert offer.options[53] == b"\x02" and offer.yiaddr >> 8 == ip4_int("10.68.1.0") >> 8
    finally:
        logs.stop_queue()


async def test_without_relay_limits_the_same_flood_starves_the_pool() -> None:
    """The control: what the relay bucket prevents (the pool really is exhaustible)."""
    endpoint, wire, sent, _stats = v4_endpoint(CONFIG)
    try:
        rng = random.Random(9)
        wire.queue = [discover(rng.randbytes(6), RELAY_A, i) for i in range(200)]
        drain(endpoint, wire)
        assert len(sent) == POOL
        wire.queue = [discover(bytes.fromhex("02680000b001"), RELAY_B, 99_999)]
        drain(endpoint, wire)
        assert len(sent) == POOL  # nothing left for relay B's client
    finally:
        logs.stop_queue()


async def test_one_client_repeating_itself_is_limited_by_its_own_bucket() -> None:
    endpoint, wire, sent, stats = v4_endpoint({**CONFIG, "limits": {"client-rate": 1, "client-burst": 4}})
    try:
        mac = bytes.fromhex("02680000c001")
        wire.queue = [discover(mac, RELAY_A, i) for i in range(50)]
        drain(endpoint, wire)
        assert len(sent) <= 5 and stats.drops["rate-client"] >= 45
        wire.queue = [discover(bytes.fromhex("02680000c002"), RELAY_A, 77)]
        drain(endpoint, wire)
        assert parse(sent[-1].data).chaddr[:6] == bytes.fromhex("02680000c002")  # others are not
    finally:
        logs.stop_queue()


async def test_limits_reach_the_endpoint_and_a_reload_keeps_the_buckets() -> None:
    endpoint, wire, _sent, _stats = v4_endpoint(
        {**CONFIG, "limits": {"max-pending": 7, "max-datagram4": 1500}}
    )
    try:
        assert endpoint.max_pending == 7 and wire.max_datagram == 1500  # type: ignore[attr-defined]
        limiter = endpoint.limiter
        assert isinstance(limiter, RateLimiter4) and limiter.relays is None  # relay buckets: off by default
        cfg = from_dict({**CONFIG, "limits": {"max-pending": 9}})
        apply_limits(SimpleNamespace(config=cfg, endpoints={"v4": endpoint}))
        assert endpoint.limiter is limiter and endpoint.max_pending == 9
        cfg = from_dict({**CONFIG, "limits": {"client-rate": 0}})
        apply_limits(SimpleNamespace(config=cfg, endpoints={"v4": endpoint}))
        assert endpoint.limiter is None
    finally:
        logs.stop_queue()


class Blocking:
    """An engine whose every packet waits for IO until ``release`` is set."""

    extra_async = True

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def process(self, data: bytes, meta: Any, now: float, io: bool = False) -> Any:
        self.started += 1
        await self.release.wait()
        from .fakes import Outcome

        return Outcome(b"reply")


async def test_packets_waiting_for_io_are_bounded_and_the_overflow_counted() -> None:
    h = Harness([[b"p%d" % i for i in range(10)], [b"q%d" % i for i in range(5)]], inline=False)
    engine = Blocking()
    h.endpoint.engine = engine
    h.endpoint.max_pending = 4
    h.endpoint.on_readable()
    await asyncio.sleep(0)
    assert h.endpoint.pending == 4 and engine.started == 4
    assert h.stats.drops["overload"] == 6
    engine.release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert h.endpoint.pending == 0 and len(h.sent) == 4
    h.endpoint.on_readable()  # room again: the next batch runs
    await h.settle()
    assert len(h.sent) == 8 and h.stats.drops["overload"] == 7


async def test_oversized_datagrams_the_socket_refused_are_counted_as_drops() -> None:
    h = Harness([[b"a"]])
    sock: Socket = h.sock
    sock.oversized = 3
    h.endpoint.on_readable()
    assert h.stats.drops["oversize"] == 3 and sock.oversized == 0
    assert h.sent == [b"reply:a"]


def test_limits_settings_are_kebab_case_with_defaults_and_checked() -> None:
    import pytest

    from dhcpbridge.config import ConfigError

    defaults = from_dict({}).limits
    assert (defaults.max_datagram4, defaults.max_datagram6, defaults.max_pending) == (2048, 4096, 4096)
    assert (defaults.client_rate, defaults.client_burst, defaults.relay_rate) == (2.0, 16, 0.0)
    cfg = from_dict({"limits": {"relay-rate": 50, "relay-burst": 100, "log-queue": 500}}).limits
    assert (cfg.relay_rate, cfg.relay_burst, cfg.log_queue) == (50, 100, 500)
    for bad in ({"max-datagram4": 100}, {"relay-rates": 5}, {"client-rate": -1}):
        with pytest.raises(ConfigError):
            from_dict({"limits": bad})


def on_circuit(packet: tuple[bytes, Meta4], circuit: bytes) -> tuple[bytes, Meta4]:
    """The same DISCOVER with the relay's option 82 Circuit-ID sub-option added."""
    msg = parse(packet[0])
    msg.options[82] = bytes([1, len(circuit)]) + circuit
    return encode(msg), packet[1]


async def test_a_flooding_circuit_spends_its_own_tokens_not_its_relays() -> None:
    """Issue 9 point 6: one port of an access switch floods; the relay's other ports stay served."""
    limits = {"client-rate": 0, "circuit-rate": 2, "circuit-burst": 10, "relay-rate": 0}
    endpoint, wire, sent, stats = v4_endpoint({**CONFIG, "limits": limits})
    try:
        rng = random.Random(5)
        flood = 300
        wire.queue = [on_circuit(discover(rng.randbytes(6), RELAY_A, i), b"port-1") for i in range(flood)]
        drain(endpoint, wire)
        assert stats.drops["rate-circuit"] >= flood - 15
        assert len(sent) <= 15
        before = len(sent)
        wire.queue = [on_circuit(discover(bytes.fromhex("02680000d001"), RELAY_A, 4242), b"port-2")]
        drain(endpoint, wire)
        assert len(sent) == before + 1  # same relay, another port: served
    finally:
        logs.stop_queue()


async def test_leases_per_circuit_caps_what_one_port_can_take_from_the_pool() -> None:
    limits = {"client-rate": 0, "leases-per-circuit": 5}
    endpoint, wire, sent, stats = v4_endpoint({**CONFIG, "limits": limits})
    try:
        rng = random.Random(6)
        macs = [rng.randbytes(6) for _ in range(200)]
        wire.queue = [on_circuit(discover(mac, RELAY_A, i), b"port-1") for i, mac in enumerate(macs)]
        drain(endpoint, wire)
        assert len(sent) == 5 and stats.drops["lease-cap-circuit"] == 195
        first = parse(sent[0].data)
        # a client holding an offer asks again: it is not refused (it is counted already)
        wire.queue = [on_circuit(discover(macs[0], RELAY_A, 7000), b"port-1")]
        drain(endpoint, wire)
        assert len(sent) == 6 and parse(sent[-1].data).yiaddr == first.yiaddr
        # another port of the same relay, and a direct client of relay B, still get addresses
        wire.queue = [
            on_circuit(discover(bytes.fromhex("02680000e001"), RELAY_A, 7001), b"port-2"),
            discover(bytes.fromhex("02680000e002"), RELAY_B, 7002),
        ]
        drain(endpoint, wire)
        assert len(sent) == 8
    finally:
        logs.stop_queue()


async def test_leases_per_mac_prefix_caps_one_vendors_random_macs() -> None:
    limits = {"client-rate": 0, "leases-per-mac-prefix": 3}
    endpoint, wire, sent, stats = v4_endpoint({**CONFIG, "limits": limits})
    try:
        oui = bytes.fromhex("0a1b2c")
        wire.queue = [discover(oui + bytes([0, 0, i]), RELAY_A, i) for i in range(40)]
        drain(endpoint, wire)
        assert len(sent) == 3 and stats.drops["lease-cap-mac-prefix"] == 37
        wire.queue = [discover(bytes.fromhex("0a1b2d000001"), RELAY_A, 99)]
        drain(endpoint, wire)
        assert len(sent) == 4  # another prefix
    finally:
        logs.stop_queue()


async def test_packets_waiting_for_io_are_bounded_by_the_rate_they_finish_at() -> None:
    """An overloaded server admits no more packets than it finishes in half a second (here 100 a
    second: 50, but at least ``FLOOR``) instead of ``max-pending``, so the admitted are answered in
    time; before, all 4,096 waited and every answer came late."""
    from dhcpbridge.server import admission

    clock = [0.0]
    h = Harness([[b"p%d" % i for i in range(128)] for _ in range(40)], inline=False)
    engine = Blocking()
    h.endpoint.engine = engine
    h.endpoint.admission = admission.Admission(lambda: clock[0])
    for _ in range(100):  # one second in which 100 packets finished
        clock[0] += 0.0101
        h.endpoint.admission.finished()
    assert h.endpoint.admission.limit == admission.FLOOR  # 100/s x 0.5 s = 50, the floor is higher
    for _ in range(40):  # 5,120 DISCOVERs arrive while none finishes
        h.endpoint.on_readable()
    await asyncio.sleep(0)
    assert h.endpoint.pending == engine.started == admission.FLOOR
    assert h.stats.drops["overload"] == 40 * 128 - admission.FLOOR
    for _ in range(2002):  # then 2,000 finish in a second: room for about 1,000
        clock[0] += 0.0005
        h.endpoint.admission.finished()
    assert 990 <= h.endpoint.admission.limit <= 1010
    engine.release.set()
    await h.settle()
    assert len(h.sent) == admission.FLOOR


async def test_an_overloaded_server_keeps_room_for_the_requests_of_the_offers_it_made() -> None:
    """Under overload most arrivals are new DISCOVERs. They may fill only ``NEW_SHARE`` of the
    bound, so the REQUESTs that follow the OFFERs already sent are still admitted and those
    exchanges finish; before, the DISCOVERs took every place and the REQUESTs were dropped."""
    from dhcpbridge.server import admission

    rng = random.Random(8)
    discovers = [discover(rng.randbytes(6), RELAY_A, i)[0] for i in range(3 * 128)]
    requests = []
    for i in range(128):
        msg = parse(discovers[i])
        msg.options[53] = b"\x03"
        msg.options[50] = bytes([10, 68, 1, i % POOL])
        requests.append(encode(msg))
    h = Harness([discovers[:128], discovers[128:256], discovers[256:], requests], inline=False)
    engine = Blocking()
    h.endpoint.engine = engine
    share = int(admission.FLOOR * admission.NEW_SHARE)
    for _ in range(3):  # 384 DISCOVERs while none finishes: half the bound of 256 takes them
        h.endpoint.on_readable()
    await asyncio.sleep(0)
    assert h.endpoint.pending == engine.started == share
    assert h.stats.drops["overload"] == 3 * 128 - share
    h.endpoint.on_readable()  # 128 REQUESTs: the other half is theirs
    await asyncio.sleep(0)
    assert h.endpoint.pending == admission.FLOOR
    assert h.stats.drops["overload"] == 3 * 128 - share
    engine.release.set()
    await h.settle()
    assert len(h.sent) == admission.FLOOR
