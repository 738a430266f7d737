"""Other servers' changes reach this server's event bus (Redis Pub/Sub): a lease server A binds,
releases or lets expire shows up at server B, two stores on one real Redis, as the matching
``LeaseEvent``; B is not told about its own changes (its packet path emitted those already), and
a store with another key prefix (another pool of servers) hears nothing; a listener whose connection
is lost subscribes again by itself."""

from __future__ import annotations

import asyncio
import contextlib
import time

import redis

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.leases.base import WatchesChanges
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.leases.shared.redis_watch import parse
from dhcpbridge.testing.redis import RedisServer
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = LeaseKind.V4
X = ip("10.67.0.10")


class Range:
    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last


async def next_event(events: asyncio.Queue[LeaseEvent]) -> LeaseEvent:
    return await asyncio.wait_for(events.get(), timeout=20)


async def test_changes_of_another_server_reach_the_bus(shared_url: str) -> None:
    a, b = open_store(shared_url), open_store(shared_url)
    other = open_store(shared_url.replace("key-prefix=", "key-prefix=x"))
    assert isinstance(a, RedisStore) and isinstance(b, RedisStore) and isinstance(other, RedisStore)
    assert isinstance(b, WatchesChanges)
    seen: dict[str, asyncio.Queue[LeaseEvent]] = {
        "a": asyncio.Queue(),
        "b": asyncio.Queue(),
        "x": asyncio.Queue(),
    }
    ready = [asyncio.Event() for _ in seen]
    watchers = [
        asyncio.create_task(store.watch(seen[name].put_nowait, event))
        for (name, store), event in zip((("a", a), ("b", b), ("x", other)), ready, strict=True)
    ]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), timeout=20)
        now = time.time()
        assert await a.commit(Lease(X, b"\x01c", LeaseState.BOUND, now, now + 2, hostname="pc"), now)
        event = await next_event(seen["b"])
        assert (event.event, event.lease.address, event.lease.hostname) == ("commit", X, "pc")
        assert await a.release(V4, X, b"\x01c", now + 1)
        assert (await next_event(seen["b"])).event == "release"
        # an offer is no event; its commit is
        held = await a.allocate(
            Hold(Lease(0, b"\x01d", LeaseState.OFFERED, now, now + 1), [Range(X, X + 5)], now, 1)
        )
        assert held is not None
        assert await a.commit(Lease(held.address, b"\x01d", LeaseState.BOUND, now, now + 1), now)
        assert (await next_event(seen["b"])).event == "commit"
        assert [lease.address for lease in await a.reap(now + 5)] == [held.address]
        expired = await next_event(seen["b"])
        assert (expired.event, expired.lease.address, expired.lease.state) == (
            "expire",
            held.address,
            LeaseState.EXPIRED,
        )
        # and the other way round
        assert await b.commit(Lease(X + 7, b"\x01e", LeaseState.BOUND, now, now + 60), now)
        assert (await next_event(seen["a"])).lease.address == X + 7
        await asyncio.sleep(0.2)
        assert seen["b"].empty()  # nobody tells a server about its own changes
        assert seen["x"].empty()  # nor about another prefix's
    finally:
        for w in watchers:
            w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await w
        for store in (a, b, other):
            await store.close()


def test_parse_skips_own_and_malformed_messages() -> None:
    rec = b'{"kind":"v4","address":"10.67.0.10","client":"01","state":"bound","starts":"1.0","expires":"2.0"}'
    event = parse(b"a " + rec, "b")
    assert event is not None and (event.event, event.lease.address) == ("commit", X)
    assert parse(b"b " + rec, "b") is None
    assert parse(b"a " + rec.replace(b"bound", b"offered"), "b") is None
    assert parse(b"a not json", "b") is None
    assert parse(b"a {}", "b") is None


async def test_the_listener_subscribes_again_after_its_connection_is_lost(
    private_redis: RedisServer,
) -> None:
    url = private_redis.url()
    a, b = open_store(url), open_store(url)
    assert isinstance(a, RedisStore) and isinstance(b, RedisStore)
    events: asyncio.Queue[LeaseEvent] = asyncio.Queue()
    ready = asyncio.Event()
    watcher = asyncio.create_task(b.watch(events.put_nowait, ready))
    plain = redis.Redis(unix_socket_path=str(private_redis.socket))
    try:
        await asyncio.wait_for(ready.wait(), timeout=20)
        assert plain.client_kill_filter(_type="pubsub") == 1  # the listener's connection
        deadline = time.monotonic() + 20
        while not plain.pubsub_numsub("dhcpbridge:changes")[0][1]:  # subscribed again (backoff)
            assert time.monotonic() < deadline, "the listener did not subscribe again"
            await asyncio.sleep(0.05)
        now = time.time()
        assert await a.commit(Lease(X, b"\x01c", LeaseState.BOUND, now, now + 60), now)
        assert (await next_event(events)).lease.address == X
    finally:
        plain.close()
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await a.close()
        await b.close()


async def test_a_lone_server_publishes_nothing_until_someone_else_listens(private_redis: RedisServer) -> None:
    """Its own listener is the only subscriber: no PUBLISH (it would only read its own changes
    back); a second server's listener, or an operator's ``SUBSCRIBE``, makes it publish again."""
    url = private_redis.url()
    a, b = open_store(url), open_store(url)
    assert isinstance(a, RedisStore) and isinstance(b, RedisStore)
    plain = redis.Redis(unix_socket_path=str(private_redis.socket))

    def published() -> int:
        return int(plain.info("commandstats").get("cmdstat_publish", {}).get("calls", 0))

    a_events: asyncio.Queue[LeaseEvent] = asyncio.Queue()
    b_events: asyncio.Queue[LeaseEvent] = asyncio.Queue()
    a_ready, b_ready = asyncio.Event(), asyncio.Event()
    watchers = [asyncio.create_task(a.watch(a_events.put_nowait, a_ready))]
    try:
        await asyncio.wait_for(a_ready.wait(), timeout=20)
        now = time.time()
        before = published()
        assert await a.commit(Lease(X, b"\x01c", LeaseState.BOUND, now, now + 60), now)
        assert await a.release(V4, X, b"\x01c", now + 1)
        assert published() == before  # alone: nothing published
        watchers.append(asyncio.create_task(b.watch(b_events.put_nowait, b_ready)))
        await asyncio.wait_for(b_ready.wait(), timeout=20)
        assert await a.commit(Lease(X + 1, b"\x01d", LeaseState.BOUND, now, now + 60), now)
        assert (await next_event(b_events)).lease.address == X + 1
        assert published() == before + 1
        # without its own listener, a server publishes to anyone who listens (an operator)
        watchers.pop(0).cancel()
        deadline = time.monotonic() + 20
        while plain.pubsub_numsub(f"dhcpbridge:changes:{a.owner}")[0][1]:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert await a.release(V4, X + 1, b"\x01d", now + 2)
        assert (await next_event(b_events)).event == "release"
    finally:
        plain.close()
        for w in watchers:
            w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await w
        await a.close()
        await b.close()
