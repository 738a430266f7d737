"""Sources that answer synchronously only from a cache (the HTTP bridge): run inline, the engine
raises ``NeedsIO`` when the cache has no answer, and the same packet run again with ``io=True``
(what the runtime does in a task) awaits the source. For DISCOVER/REQUEST, for a unicast renewal
(the path that remembers relay ids) and for a DHCPv6 SOLICIT."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.chain import NeedsIO, SourceChain
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Action, Answer
from dhcpbridge.engine.ports import Query
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import encode, ip4_str
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, MessageType6

V4 = Any  # the harness class lives in conftest.py
MAC = "02:67:00:00:00:0c"


class CachedRemote:
    """Answers synchronously only what it has fetched before; fetching really suspends."""

    in_process = False
    name = "remote"

    def __init__(self) -> None:
        self.cache: dict[bytes, Answer] = {}
        self.fetched = 0

    def reserved(self) -> frozenset[int]:
        return frozenset()

    def answer(self, query: Query) -> Answer:
        found = self.cache.get(query.client_mac or query.client_id)
        if found is None:
            raise NeedsIO
        return found

    async def ask(self, query: Query) -> Answer:
        await asyncio.sleep(0)  # a real suspension: run_inline could not drive this
        self.fetched += 1
        answer = Answer(Action.ASSIGN, source=self.name, dynamic=True)
        self.cache[query.client_mac or query.client_id] = answer
        return answer


def run(engine: Any, data: bytes, meta: Any, now: float) -> tuple[Any, bool]:
    """What the runtime does: inline first; on ``NeedsIO`` the whole packet again, with IO."""
    try:
        return run_inline(engine.process(data, meta, now)), False
    except NeedsIO:
        return asyncio.run(engine.process(data, meta, now, True)), True


@pytest.fixture
def remote_v4(v4: Callable[..., V4]) -> tuple[V4, CachedRemote]:
    h = v4()
    source = CachedRemote()
    h.engine.env.sources = SourceChain([source])
    assert h.engine.env.sources.sync
    return h, source


def test_a_cold_cache_moves_the_packet_to_a_task_and_a_warm_one_stays_inline(
    remote_v4: tuple[V4, CachedRemote],
) -> None:
    h, source = remote_v4
    offer_out, needed_io = run(h.engine, encode(h.msg(1, MAC)), h.direct(), h.now)
    assert needed_io and source.fetched == 1
    offer = h.reply(offer_out)
    assert offer.msg_type == 2 and 100 <= offer.yiaddr & 255 <= 199
    assert h.stats.received["DHCPDISCOVER"] == 1  # the inline attempt is not counted twice
    request = h.msg(3, MAC, xid=offer.xid, requested=ip4_str(offer.yiaddr), server_id="10.67.0.1")
    ack_out, needed_io = run(h.engine, encode(request), h.direct(), h.now)
    assert not needed_io and source.fetched == 1
    assert h.reply(ack_out).msg_type == 5


def test_a_unicast_renewal_with_a_cold_cache_is_asked_in_a_task(
    remote_v4: tuple[V4, CachedRemote],
) -> None:
    """The renewal path (ciaddr, no relay) first looks the lease up, then asks the sources: inline
    it must raise ``NeedsIO`` instead of driving the source's IO without a task."""
    h, source = remote_v4
    offer, _ = run(h.engine, encode(h.msg(1, MAC)), h.direct(), h.now)
    address = ip4_str(h.reply(offer).yiaddr)
    request = h.msg(3, MAC, xid=h.reply(offer).xid, requested=address, server_id="10.67.0.1")
    assert h.reply(run(h.engine, encode(request), h.direct(), h.now)[0]).msg_type == 5
    source.cache.clear()  # the answer went stale
    renew = h.msg(3, MAC, ciaddr=address)
    out, needed_io = run(h.engine, encode(renew), h.unicast(address), h.now + 60)
    assert needed_io and source.fetched == 2
    reply = h.reply(out)
    assert reply.msg_type == 5 and ip4_str(reply.yiaddr) == address


def test_dhcpv6_solicit_with_a_cold_cache_is_asked_in_a_task(tmp_path: Any) -> None:
    doc = {
        "server6": {"server-duid": "ll:02:67:00:00:00:01"},
        "subnet6": [{"subnet": "fd67::/64", "pools": ["fd67::100:0/120"], "interface": "srv0"}],
    }
    cfg = loader.from_dict(doc).with_base_dir(tmp_path)
    stats = Stats()
    engine = build_engine6(cfg, MemoryStore(), HostInfo6({}), stats, build_sources(cfg), [])
    source = CachedRemote()
    engine.env.sources = SourceChain([source])
    meta = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
    solicit = encode6(Message6(MessageType6.SOLICIT, 9, [ClientId(Duid.ll(1, bytes(6))), IANA(1)]))
    out, needed_io = run(engine, solicit, meta, 1e9)
    assert needed_io and source.fetched == 1
    reply = parse6(out.data)
    assert isinstance(reply, Message6) and reply.msg_type == MessageType6.ADVERTISE
    assert reply.ia_na[0].addresses
    again, needed_io = run(engine, solicit, meta, 1e9 + 1)
    assert not needed_io and source.fetched == 1 and parse6(again.data).ia_na[0].addresses
