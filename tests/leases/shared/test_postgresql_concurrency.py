"""Many servers on one PostgreSQL: two stores (two connection pools, as two servers have) and many
concurrent tasks claim from one small pool at once. PostgreSQL decides every claim under its row
locks, so no address is ever held or bound by two clients, and every claim that won is in the
table after the group commit."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

import psycopg

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.base import SharedStore, StoreError
from dhcpbridge.leases.shared.postgresql import PostgresStore
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = LeaseKind.V4


@dataclass(frozen=True)
class R:
    first: int
    last: int


POOL = [R(ip("10.67.0.10"), ip("10.67.0.29"))]  # 20 addresses


async def dora(store: PostgresStore, client: bytes, hint: int) -> int | None:
    """DISCOVER (allocate) then REQUEST (commit) then the group commit, as the engine does; a
    client tries again when the store was busy (no connection within its wait)."""
    for _ in range(10):
        try:
            return await _dora(store, client, hint)
        except StoreError:
            await asyncio.sleep(0.2)
    raise AssertionError("the store stayed unavailable")


async def _dora(store: PostgresStore, client: bytes, hint: int) -> int | None:
    now = time.time()
    offer = await store.allocate(Hold(Lease(0, client, LeaseState.OFFERED, now, now + 30), POOL, now, hint))
    if offer is None:
        return None
    bound = await store.commit(Lease(offer.address, client, LeaseState.BOUND, now, now + 3600), now)
    if bound is None:
        return None
    await store.flush()
    return bound.address


async def test_two_stores_many_tasks_one_small_pool_no_duplicates(pg_url: str) -> None:
    stores = [PostgresStore(pg_url, owner=f"server-{i}") for i in range(2)]
    try:
        rng = random.Random(10)
        clients = [b"\x01" + rng.randbytes(6) for _ in range(80)]
        # every client asks through both servers at once, from colliding hints
        jobs = [dora(stores[i % 2], c, rng.randrange(4)) for c in clients for i in range(2)]
        results = await asyncio.gather(*jobs)
        granted: dict[int, set[bytes]] = {}
        for (client, _), addr in zip([(c, i) for c in clients for i in range(2)], results, strict=True):
            if addr is not None:
                granted.setdefault(addr, set()).add(client)
        assert len(granted) == 20  # the whole pool was handed out ...
        assert all(len(owners) == 1 for owners in granted.values())  # ... each address to one client
        rows = await stores[0].leases(V4)
        bound = {lease.address: lease.client for lease in rows if lease.state == LeaseState.BOUND}
        assert bound == {addr: next(iter(owners)) for addr, owners in granted.items()}
    finally:
        for s in stores:
            await s.close()


async def test_concurrent_commits_of_one_address_have_one_winner(pg_url: str) -> None:
    stores = [PostgresStore(pg_url, owner=f"server-{i}") for i in range(2)]
    try:
        now = time.time()
        for round_ in range(20):
            addr = ip("10.67.0.10") + round_
            attempts = [
                stores[i % 2].commit(Lease(addr, b"c%d" % i, LeaseState.BOUND, now, now + 60), now)
                for i in range(12)
            ]
            won = [lease for lease in await asyncio.gather(*attempts) if lease is not None]
            assert len(won) == 1
            assert (await stores[1].get(V4, addr)).client == won[0].client  # type: ignore[union-attr]
    finally:
        for s in stores:
            await s.close()


async def test_reaper_role_is_held_by_one_server_at_a_time(pg_url: str) -> None:
    a, b = PostgresStore(pg_url), PostgresStore(pg_url)
    try:
        assert isinstance(a, SharedStore)
        assert await a.claim_role("reaper", "a", 0.5)
        assert not await b.claim_role("reaper", "b", 0.5)
        assert await a.claim_role("reaper", "a", 0.5)  # kept while renewed
        await asyncio.sleep(0.7)
        assert await b.claim_role("reaper", "b", 5)  # a stopped renewing: b takes over
        assert not await a.claim_role("reaper", "a", 5)
    finally:
        await a.close()
        await b.close()


async def test_a_duplicate_address_is_impossible_even_for_plain_sql(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        now = time.time()
        assert await store.commit(Lease(ip("10.67.0.10"), b"a", LeaseState.BOUND, now, now + 60), now)
        await store.flush()
    finally:
        await store.close()
    with psycopg.connect(pg_url) as conn:
        try:
            conn.execute(
                "INSERT INTO leases (kind, address, prefix_len, state, client, starts, expires) "
                "VALUES ('v4', '10.67.0.10', 32, 'bound', 'b', now(), now())"
            )
        except psycopg.errors.UniqueViolation:
            pass
        else:
            raise AssertionError("a second row for 10.67.0.10 was accepted")


async def test_find_client_after_commit_in_one_task_reads_what_the_table_holds(pg_url: str) -> None:
    """A commit reads its client's other records for the engine's next ``find_client`` in the same
    packet (one round trip less per REQUEST): the same answer as the table, most recent first."""
    store = PostgresStore(pg_url)
    try:
        now = time.time()
        a, x = b"\x01client-a", ip("10.67.0.10")
        for i in range(3):
            assert await store.commit(Lease(x + i, a, LeaseState.BOUND, now, now + 60), now)
        assert await store.release(V4, x, a, now + 1)

        async def request() -> tuple[list[Lease], list[Lease]]:
            assert await store.commit(Lease(x + 5, a, LeaseState.BOUND, now, now + 60), now)
            cached = await store.find_client(V4, a)  # from the commit's statement
            fresh = await store.find_client(V4, a)  # a query (the cached answer is used once)
            return cached, fresh

        cached, fresh = await asyncio.create_task(request())
        assert cached == fresh
        assert [lease.address for lease in cached] == [x + 5, x, x + 2, x + 1]
        assert [lease.state for lease in cached][:2] == [LeaseState.BOUND, LeaseState.RELEASED]
        assert await store.find_client(V4, b"\x01other") == []
    finally:
        await store.close()
