"""The PostgreSQL store's batched binds (``pg_batch``): the ``commit`` calls of one event-loop turn
are one statement; two binds of one address in a turn never both win; a bind PostgreSQL refuses
fails only its own call; other ``now``s and second binds of a client go in statements of their own."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import psycopg
import pytest

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.shared import pg_batch, pg_pump
from dhcpbridge.leases.shared.postgresql import PostgresStore
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = LeaseKind.V4
BASE = ip("10.67.1.0")


def bound(addr: int, client: bytes, now: float, **kw: object) -> Lease:
    return Lease(addr, client, LeaseState.BOUND, now, now + 3600, V4, **kw)  # type: ignore[arg-type]


def client(i: int) -> bytes:
    return b"\x01" + i.to_bytes(6, "big")


async def _many_in_one_turn(url: str) -> None:
    store = PostgresStore(url)
    try:
        now = time.time()
        await store.commit(bound(BASE, client(999), now), now)  # the pool is open, schema checked
        before, singles = store._commits.statements, store._commits.singles
        got = await asyncio.gather(
            *(store.commit(bound(BASE + 1 + i, client(i), now), now) for i in range(20))
        )
        assert (store._commits.statements - before, store._commits.singles - singles) == (1, 0)
        assert [g.address if g else None for g in got] == [BASE + 1 + i for i in range(20)]
        assert [g.client if g else None for g in got] == [client(i) for i in range(20)]
        await store.flush()
        rows = await store.leases(V4)
        assert {(r.address, r.client) for r in rows if r.state == LeaseState.BOUND} >= {
            (BASE + 1 + i, client(i)) for i in range(20)
        }
    finally:
        await store.close()


def test_binds_of_one_turn_are_one_statement(pg_url: str) -> None:
    asyncio.run(_many_in_one_turn(pg_url))


async def _one_address_twice(url: str) -> None:
    store = PostgresStore(url)
    try:
        now = time.time()
        a, b = client(1), client(2)
        first, second = await asyncio.gather(
            store.commit(bound(BASE, a, now), now), store.commit(bound(BASE, b, now), now)
        )
        assert first is not None and first.client == a
        assert second is None  # bound to a: never bound to b too
        await store.flush()
        row = await store.get(V4, BASE)
        assert row is not None and row.client == a and row.state == LeaseState.BOUND
    finally:
        await store.close()


def test_two_binds_of_one_address_in_one_turn_never_both_win(pg_url: str) -> None:
    asyncio.run(_one_address_twice(pg_url))


async def _refused_row(url: str) -> None:
    store = PostgresStore(url)
    try:
        now = time.time()
        await store.commit(bound(BASE, client(999), now), now)
        bad = bound(BASE + 1, client(1), now, hostname="nul\x00byte")  # PostgreSQL text takes no NUL
        results = await asyncio.gather(
            store.commit(bound(BASE + 2, client(2), now), now),
            store.commit(bad, now),
            store.commit(bound(BASE + 3, client(3), now), now),
            return_exceptions=True,
        )
        assert isinstance(results[1], StoreError)
        assert store._commits.singles == 3  # the refused statement's binds, one by one
        good = [results[0], results[2]]
        assert all(isinstance(g, Lease) for g in good)
        assert [g.address for g in good if isinstance(g, Lease)] == [BASE + 2, BASE + 3]
        assert await store.get(V4, BASE + 1) is None
    finally:
        await store.close()


def test_a_refused_bind_fails_only_its_own_call(pg_url: str) -> None:
    asyncio.run(_refused_row(pg_url))


async def _client_twice(url: str) -> None:
    store = PostgresStore(url)
    try:
        now = time.time()
        a = client(1)
        await store.commit(bound(BASE + 9, client(9), now), now)
        before, singles = store._commits.statements, store._commits.singles
        first, second = await asyncio.gather(
            store.commit(bound(BASE, a, now), now), store.commit(bound(BASE + 1, a, now), now)
        )
        # the second bind reads the first's binding: a statement of its own
        assert (store._commits.statements - before, store._commits.singles - singles) == (2, 0)
        assert first is not None and second is not None
        others = await store.find_client(V4, a)
        assert {lease.address for lease in others} == {BASE, BASE + 1}
    finally:
        await store.close()


def test_a_second_bind_of_a_client_in_one_turn_sees_the_first(pg_url: str) -> None:
    asyncio.run(_client_twice(pg_url))


def _call(addr: int, who: bytes, now: float) -> tuple[float, pg_batch._Call]:
    loop = asyncio.new_event_loop()
    try:
        return now, pg_batch._Call(bound(addr, who, now), 1, loop.create_future())
    finally:
        loop.close()


@pytest.mark.parametrize(
    ("calls", "sizes"),
    [
        ([(BASE, 1, 1.0), (BASE + 1, 2, 1.0), (BASE + 2, 3, 1.0)], [3]),
        ([(BASE, 1, 1.0), (BASE, 2, 1.0), (BASE + 1, 3, 1.0)], [2, 1]),  # one address twice
        ([(BASE, 1, 1.0), (BASE + 1, 1, 1.0)], [1, 1]),  # one client twice
        ([(BASE, 1, 1.0), (BASE + 1, 2, 2.0), (BASE + 2, 3, 1.0)], [2, 1]),  # two ``now``s
        ([(BASE, 1, 1.0), (BASE + 1, 2, 1.1), (BASE + 2, 3, 1.2)], [3]),  # ``now``s within the slack
    ],
)
def test_rounds_split_a_turn_only_where_they_must(
    calls: list[tuple[int, int, float]], sizes: list[int]
) -> None:
    made = [_call(addr, client(who), now) for addr, who, now in calls]
    got = pg_batch.rounds(made)
    assert [len(members) for _, members in got] == sizes
    # every call once, and each round has one ``now``, no address or client twice
    assert sorted(id(c) for _, members in got for c in members) == sorted(id(c) for _, c in made)
    for now, members in got:  # decided at the latest ``now`` of its calls, all within the slack
        nows = [n for n, c in made if c in members]
        assert now == max(nows) and max(nows) - min(nows) <= pg_pump.NOW_SLACK
        assert len({c.key for c in members}) == len(members)
        assert len({c.lease.client for c in members}) == len(members)


# --- the first searches of new clients (pg_claims) -------------------------------------------


@dataclass(frozen=True)
class R:
    first: int
    last: int


SMALL = (R(BASE + 10, BASE + 19),)  # 10 addresses
WIDE = (R(BASE + 10, BASE + 400),)


def offer_hold(who: bytes, now: float, hint: int = 0, exclude: frozenset[int] = frozenset()) -> Hold:
    return Hold(Lease(0, who, LeaseState.OFFERED, now, now + 30, V4), SMALL, now, hint, exclude)


async def _claims_of_one_turn(url: str) -> None:
    store = PostgresStore(url)
    try:
        now = time.time()
        await store.commit(bound(BASE, client(999), now), now)  # the pool is open, schema checked
        before = store._claims.statements
        # 12 new clients, one hint, 10 addresses, two of them excluded: 8 win, none twice
        exclude = frozenset({BASE + 12, BASE + 15})
        got = await asyncio.gather(
            *(store.allocate(offer_hold(client(i), now, 0, exclude)) for i in range(12))
        )
        assert store._claims.statements - before == 1
        won = [g.address for g in got if g is not None]
        assert len(won) == len(set(won)) == 8
        assert set(won) == {BASE + 10 + k for k in range(10)} - exclude
        assert [g.client for g in got if g is not None] == [
            client(i) for i in range(12) if got[i] is not None
        ]
    finally:
        await store.close()


def test_new_clients_of_one_turn_are_searched_in_one_statement_and_never_share(pg_url: str) -> None:
    asyncio.run(_claims_of_one_turn(pg_url))


async def _two_servers_one_turn(url: str) -> None:
    one, two = PostgresStore(url), PostgresStore(url)
    try:
        now = time.time()
        got = await asyncio.gather(
            *(
                store.allocate(offer_hold(client(100 * k + i), now, i))
                for i in range(12)
                for k, store in enumerate((one, two))
            )
        )
        won = [g.address for g in got if g is not None]
        assert len(won) == len(set(won)) == 10  # two servers, 24 DISCOVERs, 10 addresses
    finally:
        await one.close()
        await two.close()


def test_two_servers_batching_at_once_never_hold_one_address_twice(pg_url: str) -> None:
    asyncio.run(_two_servers_one_turn(pg_url))


async def _known_and_repeated(url: str) -> None:
    store = PostgresStore(url)
    try:
        now = time.time()
        a = client(1)
        await store.commit(bound(BASE + 17, a, now), now)  # a has a record: the usual search
        first, again, new = await asyncio.gather(
            store.allocate(offer_hold(a, now)),
            store.allocate(offer_hold(client(2), now)),
            store.allocate(offer_hold(client(2), now)),  # the same DISCOVER twice in one turn
        )
        assert first is not None and first.address == BASE + 17  # its own address, not the first free
        assert again is not None and new is not None and again.address == new.address
        held = [r for r in await store.leases(V4) if r.client == client(2)]
        assert len(held) == 1
    finally:
        await store.close()


def test_a_known_client_keeps_its_address_and_a_repeated_discover_one_hold(pg_url: str) -> None:
    asyncio.run(_known_and_repeated(pg_url))


async def _returning(url: str) -> None:
    store = PostgresStore(url)
    try:
        now = time.time()
        a, b, c, d, e = (client(50 + k) for k in range(5))
        await store.commit(bound(BASE + 50, a, now), now)  # a: bound, live
        assert await store.offer(Lease(BASE + 60, b, LeaseState.OFFERED, now, now + 30, V4), now)
        await store.commit(bound(BASE + 70, c, now), now)
        await store.release(V4, BASE + 70, c, now)  # c: released
        await store.commit(bound(BASE + 500, d, now), now)  # d: a record outside the range
        await store.commit(bound(BASE + 80, e, now), now)
        await store.decline(V4, BASE + 80, e, now, now + 600)  # e: its record declined
        await store.flush()
        long_way: list[bytes] = []
        usual = store._allocate

        async def counted(conn: psycopg.AsyncConnection[object], hold: Hold) -> Lease | None:
            long_way.append(hold.lease.client)
            return await usual(conn, hold)  # type: ignore[arg-type]

        store._allocate = counted  # type: ignore[method-assign]
        before = store._claims.statements
        got = await asyncio.gather(
            *(
                store.allocate(Hold(Lease(0, who, LeaseState.OFFERED, now, now + 30, V4), WIDE, now, 100))
                for who in (a, b, c, d, e)
            )
        )
        assert store._claims.statements - before == 1
        assert long_way == [e]  # only the declined record needs the usual search (it is not free)
        ga, gb, gc, gd, ge = got
        assert ga is not None and (ga.address, ga.state) == (BASE + 50, LeaseState.BOUND)  # unchanged
        assert gb is not None and (gb.address, gb.state) == (BASE + 60, LeaseState.OFFERED)
        assert gc is not None and (gc.address, gc.state) == (BASE + 70, LeaseState.OFFERED)
        assert gd is not None and gd.address == BASE + 110  # from its hint: none of its own here
        assert ge is not None and ge.address not in (BASE + 80, gd.address)
        assert {g.client for g in got if g is not None} == {a, b, c, d, e}
    finally:
        await store.close()


def test_returning_clients_of_one_turn_get_their_own_addresses_in_one_statement(pg_url: str) -> None:
    """Under overload most DISCOVERs come from clients seen before; they are decided in the batch
    as ``allocate`` decides them (their latest record in the one pool range first), not two or
    three statements each."""
    asyncio.run(_returning(pg_url))


# --- under load: one statement at a time, the calls of many turns in the next (pg_pump) --------


async def _while_busy(url: str, what: str) -> None:
    """100 calls, each in a loop turn of its own, while PostgreSQL is held up (the table locked by
    another transaction): they wait in the store's queue and go as one statement when the first
    is done; none fails. Before: a statement per turn, each waiting for a pool connection, and
    past the pool's queue the calls failed (``store-unavailable``) although PostgreSQL was up."""
    store = PostgresStore(url)
    try:
        now = time.time()
        await store.commit(bound(BASE, client(999), now), now)  # the pool is open, schema checked
        batcher = store._commits if what == "commit" else store._claims
        before = batcher.statements
        async with await psycopg.AsyncConnection.connect(url) as locker:
            await locker.execute("LOCK TABLE leases IN SHARE ROW EXCLUSIVE MODE")  # writes wait
            calls: list[asyncio.Future[Lease | None]] = []
            for i in range(100):
                if what == "commit":
                    call = store.commit(bound(BASE + 1 + i, client(i), now), now)
                else:
                    hold = Hold(Lease(0, client(i), LeaseState.OFFERED, now, now + 30, V4), WIDE, now, 3 * i)
                    call = store.allocate(hold)
                calls.append(asyncio.ensure_future(call))
                await asyncio.sleep(0)  # the next call in the next loop turn
            await asyncio.sleep(0.3)
            await locker.commit()
        got = await asyncio.gather(*calls, return_exceptions=True)
        assert [g for g in got if not isinstance(g, Lease)] == []
        assert len({g.address for g in got if isinstance(g, Lease)}) == 100
        assert batcher.statements - before == 2  # the first call(s), then all that queued meanwhile
        assert batcher.largest >= 95
    finally:
        await store.close()


@pytest.mark.parametrize("what", ["commit", "allocate"])
def test_calls_made_while_a_statement_runs_go_together_in_the_next(pg_url: str, what: str) -> None:
    asyncio.run(_while_busy(pg_url, what))


async def _busy(url: str) -> None:
    """One pool connection held up by a lock: the calls beyond its queue fail at once as
    ``StoreBusy`` (overload), and the store is not reported failing (PostgreSQL is up)."""
    from dhcpbridge.leases.base import StoreBusy
    from dhcpbridge.leases.shared.postgresql import MAX_WAITING

    store = PostgresStore(url, pool_size=1)
    try:
        now = time.time()
        await store.commit(bound(BASE, client(999), now), now)  # the pool is open, schema checked
        await store.flush()
        async with await psycopg.AsyncConnection.connect(url) as locker:
            await locker.execute("LOCK TABLE leases IN SHARE ROW EXCLUSIVE MODE")  # writes wait
            calls = [asyncio.ensure_future(store.release(V4, BASE, client(999), now)) for _ in range(20)]
            await asyncio.sleep(0.3)
            busy = [c for c in calls if c.done()]
            assert len(busy) == 20 - 1 - MAX_WAITING  # one runs, MAX_WAITING wait
            assert all(isinstance(c.exception(), StoreBusy) for c in busy)
            assert store.failing() is None and store.errors == 0
            await locker.commit()
        await asyncio.gather(*calls, return_exceptions=True)
        assert store.failing() is None
    finally:
        await store.close()


def test_calls_beyond_the_pool_queue_are_busy_not_an_outage(pg_url: str) -> None:
    asyncio.run(_busy(pg_url))
