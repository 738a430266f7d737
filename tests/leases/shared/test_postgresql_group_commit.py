"""The group commit's check of this server's writes (``flush``): a write PostgreSQL lost (a crash
before its WAL reached the disk; simulated here by undoing the row with plain SQL) is written
again; a write another server superseded for the same client (a late renewal after our reaper
expired the lease) is left alone; one another server took for another client fails the flush, so
the server sends no ACK for it."""

from __future__ import annotations

import time

import psycopg
import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.shared.postgresql import PostgresStore
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = LeaseKind.V4
X = ip("10.67.0.10")
A, B = b"\x01client-a", b"\x01client-b"


def sql(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement.encode())


async def test_a_lost_write_is_written_again(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        now = time.time()
        assert await store.commit(Lease(X, A, LeaseState.BOUND, now, now + 60, hostname="pc"), now)
        sql(pg_url, "DELETE FROM leases")  # the claim never reached the disk
        await store.flush()
        again = await store.get(V4, X)
        assert again is not None and (again.client, again.state, again.hostname) == (
            A,
            LeaseState.BOUND,
            "pc",
        )
        assert store.rewritten == 1
    finally:
        await store.close()


async def test_an_address_taken_by_another_client_meanwhile_fails_the_flush(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        now = time.time()
        assert await store.commit(Lease(X, A, LeaseState.BOUND, now, now + 60), now)
        sql(
            pg_url,
            "UPDATE leases SET client = 'other', stamp = 1, updated = clock_timestamp() + interval '1 s'",
        )
        with pytest.raises(StoreError, match="taken by other clients"):
            await store.flush()
        assert (await store.get(V4, X)).client == b"other"  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_a_later_write_of_another_server_for_the_same_client_wins(pg_url: str) -> None:
    reaper, other = PostgresStore(pg_url, owner="reaper"), PostgresStore(pg_url, owner="other")
    try:
        now = time.time()
        assert await reaper.commit(Lease(X, A, LeaseState.BOUND, now - 10, now - 1), now - 10)
        await reaper.flush()
        assert [lease.address for lease in await reaper.reap(now)] == [X]  # expired, not yet flushed
        renewed = await other.commit(Lease(X, A, LeaseState.BOUND, now, now + 3600), now)
        assert renewed is not None
        await other.flush()
        await reaper.flush()  # must not turn the renewal back into the expiry
        current = await other.get(V4, X)
        assert (
            current is not None
            and current.state == LeaseState.BOUND
            and abs(current.expires - (now + 3600)) < 1e-3
        )
        assert reaper.rewritten == 0
    finally:
        await reaper.close()
        await other.close()
