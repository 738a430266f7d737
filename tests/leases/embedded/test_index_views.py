"""The lease index's operator views: the counts per kind and state that ``put``/``delete`` keep
(always equal to a scan of the table, whatever the churn: offers, commits, releases, declines,
reaping, purging, a restart's load), and ``page``: address order from a cursor, whatever the
order addresses came in, with records that left (and came back) neither lost nor repeated, at a
cost that follows the page, not the table."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.subnets import PoolRange
from dhcpbridge.leases.base import LeaseQuery, count_key
from dhcpbridge.leases.embedded import index as index_module
from dhcpbridge.leases.embedded.index import LeaseIndex
from dhcpbridge.leases.embedded.memory import MemoryStore

NOW = 1_700_000_000.0


def scan_counts(index: LeaseIndex) -> dict[str, int]:
    counts: dict[str, int] = {}
    for lease in index.all():
        counts[count_key(lease)] = counts.get(count_key(lease), 0) + 1
    return counts


def bound(addr: int, client: bytes, kind: LeaseKind = LeaseKind.V4) -> Lease:
    return Lease(addr, client, LeaseState.BOUND, NOW, NOW + 600, kind=kind)


def test_counts_follow_every_kind_of_change() -> None:
    rng = random.Random(12)
    index = LeaseIndex()
    ranges = [PoolRange(1000, 1199)]
    now = NOW
    for step in range(6000):
        client = bytes([rng.randrange(120)])
        op = rng.randrange(7)
        if op == 0:
            index.allocate(
                Lease(0, client, LeaseState.OFFERED, now, now + 30), ranges, now, client[0], frozenset(), 0
            )
        elif op == 1:
            held = index.find_client(LeaseKind.V4, client)
            if held:
                lease = replace(
                    held[0], state=LeaseState.BOUND, starts=now, expires=now + rng.choice((20, 600))
                )
                index.commit(lease, now)
        elif op == 2:
            for lease in index.find_client(LeaseKind.V4, client)[:1]:
                index.release(LeaseKind.V4, lease.address, client, now)
        elif op == 3:
            for lease in index.find_client(LeaseKind.V4, client)[:1]:
                index.decline(LeaseKind.V4, lease.address, client, now, now + 50)
        elif op == 4:
            for lease in index.find_client(LeaseKind.V4, client)[:1]:
                index.unhold(LeaseKind.V4, lease.address, client)
        elif op == 5:
            index.put(bound(rng.randrange(2000, 2050), client, LeaseKind.NA), durable=True)
        else:
            now += rng.choice((1, 10, 100))
            index.reap(now)
            index.purge(now - 300)
        if step % 500 == 0:
            assert index.counts() == scan_counts(index)
    assert index.counts() == scan_counts(index)
    assert sum(index.counts().values()) == len(index.all())
    reloaded = LeaseIndex()
    reloaded.begin_load()
    for lease in index.all():
        reloaded.load(lease)
    reloaded.end_load()
    assert reloaded.counts() == index.counts()


def test_pages_in_address_order_through_churn() -> None:
    rng = random.Random(5)
    index = LeaseIndex()
    present: set[int] = set()
    for round_ in range(40):
        for _ in range(200):
            addr = rng.randrange(5000)
            if addr in present and rng.random() < 0.4:
                index.delete(LeaseKind.V4, addr)
                present.discard(addr)
            else:
                index.put(bound(addr, bytes([addr % 251, addr // 251])), durable=False)
                present.add(addr)
        walked: list[int] = []
        cursor = -1
        while True:
            page = index.page(LeaseKind.V4, cursor, rng.randrange(1, 97))
            if not page:
                break
            walked += [lease.address for lease in page]
            cursor = page[-1].address
        assert walked == sorted(present), round_


def test_a_page_does_not_walk_the_table() -> None:
    index = LeaseIndex()
    for addr in range(200_000, 0, -1):
        index.put(bound(addr, addr.to_bytes(3, "big")), durable=False)
    index.page(LeaseKind.V4, -1, 1)  # takes the new addresses in once
    page = index.page(LeaseKind.V4, 123_456, 50)
    assert [lease.address for lease in page] == list(range(123_457, 123_507))

    def best(call: Callable[[], object], runs: int) -> float:
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        return min(times)

    one_page = best(lambda: index.page(LeaseKind.V4, 123_456, 50), 20)
    one_walk = best(lambda: index.all(LeaseKind.V4), 3)  # what a walk of the table costs
    assert one_page * 20 < one_walk, (one_page, one_walk)  # a page costs ~1/1000 of it


def test_too_many_new_addresses_rebuild_the_order(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(index_module, "FRESH_LIMIT", 10)
    index = LeaseIndex()
    for addr in range(100, 0, -1):
        index.put(bound(addr, bytes([addr])), durable=False)
    assert len(index._fresh[LeaseKind.V4]) <= 10
    assert [lease.address for lease in index.page(LeaseKind.V4, 0, 1000)] == list(range(1, 101))


async def test_store_query_pages_by_cursor_over_kinds_and_states() -> None:
    store = MemoryStore()
    now = time.time()
    for addr in (9, 3, 7, 1):
        assert await store.commit(bound(addr, bytes([addr])), now)
        assert await store.commit(bound(addr, bytes([addr]), LeaseKind.NA), now)
    assert await store.release(LeaseKind.V4, 7, bytes([7]), now)
    first = await store.query(LeaseQuery(limit=3))
    assert [(lease.kind, lease.address) for lease in first] == [(LeaseKind.V4, a) for a in (1, 3, 7)]
    rest = await store.query(LeaseQuery(limit=10, after=(int(LeaseKind.V4), 7)))
    assert [(lease.kind, lease.address) for lease in rest] == [
        (LeaseKind.V4, 9),
        *((LeaseKind.NA, a) for a in (1, 3, 7, 9)),
    ]
    bound_v4 = await store.query(LeaseQuery(LeaseKind.V4, LeaseState.BOUND, offset=1, limit=5))
    assert [lease.address for lease in bound_v4] == [3, 9]
    assert store.count_by_state() == {"v4_bound": 3, "v4_released": 1, "na_bound": 4}
