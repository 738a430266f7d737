"""Other servers' changes reach this server's event bus (LISTEN/NOTIFY): a lease server A binds,
releases or lets expire shows up at server B as the matching ``LeaseEvent`` once A's group commit
is durable; B is not told about its own changes (its packet path emitted those already)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.leases.base import WatchesChanges
from dhcpbridge.leases.shared.pg_notify import parse
from dhcpbridge.leases.shared.postgresql import PostgresStore
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = LeaseKind.V4
X = ip("10.67.0.10")


async def next_event(events: asyncio.Queue[LeaseEvent]) -> LeaseEvent:
    return await asyncio.wait_for(events.get(), timeout=20)


async def test_changes_of_another_server_reach_the_bus(pg_url: str) -> None:
    a, b = PostgresStore(pg_url, owner="a"), PostgresStore(pg_url, owner="b")
    assert isinstance(b, WatchesChanges)
    seen_by_b: asyncio.Queue[LeaseEvent] = asyncio.Queue()
    seen_by_a: asyncio.Queue[LeaseEvent] = asyncio.Queue()
    ready_a, ready_b = asyncio.Event(), asyncio.Event()
    watchers = [
        asyncio.create_task(b.watch(seen_by_b.put_nowait, ready_b)),
        asyncio.create_task(a.watch(seen_by_a.put_nowait, ready_a)),
    ]
    try:
        await asyncio.wait_for(asyncio.gather(ready_a.wait(), ready_b.wait()), timeout=20)
        now = time.time()
        assert await a.commit(Lease(X, b"\x01c", LeaseState.BOUND, now, now + 2, hostname="pc"), now)
        await a.flush()
        event = await next_event(seen_by_b)
        assert (event.event, event.lease.address, event.lease.hostname) == ("commit", X, "pc")
        assert await a.release(V4, X, b"\x01c", now + 1)
        await a.flush()
        assert (await next_event(seen_by_b)).event == "release"
        assert await a.commit(Lease(X + 1, b"\x01d", LeaseState.BOUND, now, now + 1), now)
        await a.flush()
        assert (await next_event(seen_by_b)).event == "commit"
        assert [lease.address for lease in await a.reap(now + 5)] == [X + 1]
        await a.flush()
        expired = await next_event(seen_by_b)
        assert (expired.event, expired.lease.address, expired.lease.state) == (
            "expire",
            X + 1,
            LeaseState.EXPIRED,
        )
        assert seen_by_a.empty()  # nobody tells a server about its own changes
    finally:
        for w in watchers:
            w.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await w
        await a.close()
        await b.close()


def test_parse_skips_own_and_malformed_notifications() -> None:
    assert parse('{"o": "a", "k": "v4", "a": "10.67.0.10", "s": "bound"}', "b") == ("commit", V4, X)
    assert parse('{"o": "b", "k": "v4", "a": "10.67.0.10", "s": "bound"}', "b") is None
    assert parse('{"o": "a", "k": "v4", "a": "10.67.0.10", "s": "offered"}', "b") is None
    assert parse("not json", "b") is None
    assert parse('{"o": "a", "k": "zz", "a": "x", "s": "bound"}', "b") is None
