"""PostgreSQL stopped under load (a cluster of the test's own, crashed with ``pg_ctl -m immediate``
for 10 s, then started again): the store raises ``StoreError`` meanwhile (so the server sends no
ACK it could not record) and reports ``failing()``; when PostgreSQL is back the pool reconnects
by itself and claims succeed again, and every lease whose flush returned (what the server ACKed)
is in the table."""

from __future__ import annotations

import asyncio
import time

import psycopg
import pytest

from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.shared.postgresql import PostgresStore
from dhcpbridge.testing.pg import PrivateCluster, throwaway_database
from dhcpbridge.wire.v4.message import ip4_int as ip

BASE = ip("10.70.0.0")
TASKS = 8
PER_TASK = 4000  # bounded: each task commits at most this many leases


@pytest.fixture
def cluster() -> object:
    with PrivateCluster("b") as c:
        c.wait_ready()
        yield c


async def test_outage_under_load_loses_no_acked_lease_and_recovers(cluster: PrivateCluster) -> None:
    url = throwaway_database("o", admin_url=cluster.url)
    store = PostgresStore(url)
    acked: dict[int, bytes] = {}
    refused = 0
    deadline = time.monotonic() + 60
    load_done = asyncio.Event()

    async def client_loop(k: int) -> None:
        nonlocal refused
        for i in range(PER_TASK):
            if load_done.is_set() or time.monotonic() > deadline:
                return
            addr, client = BASE + k * PER_TASK + i, b"\x01t%d-%d" % (k, i)
            now = time.time()
            try:
                lease = await store.commit(Lease(addr, client, LeaseState.BOUND, now, now + 3600), now)
                assert lease is not None
                await store.flush()
            except StoreError:
                refused += 1
                await asyncio.sleep(0.05)
                continue
            acked[addr] = client  # the server would send the ACK now

    try:
        loops = [asyncio.create_task(client_loop(k)) for k in range(TASKS)]
        await asyncio.sleep(1.5)
        before = len(acked)
        assert before > 0
        await asyncio.to_thread(cluster.stop, "immediate")  # a crash: no shutdown checkpoint
        await asyncio.sleep(10)
        failing = store.failing()
        assert failing is not None and failing[0] > 0 and refused > 0
        during = len(acked)
        await asyncio.to_thread(cluster.start)
        # the pool reconnects by itself: claims succeed again without a new store
        for _ in range(300):
            if len(acked) > during + 50:
                break
            await asyncio.sleep(0.1)
        assert len(acked) > during + 50, "the store did not recover"
        assert store.failing() is None
        load_done.set()
        await asyncio.gather(*loops)
    finally:
        await store.close()
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT host(address), client, state FROM leases").fetchall()
    in_table = {ip(r[0]): (bytes(r[1]), r[2]) for r in rows}
    lost = [addr for addr, client in acked.items() if in_table.get(addr) != (client, "bound")]
    assert lost == []
