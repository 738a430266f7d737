"""The PostgreSQL store keeps the planner's statistics of ``leases`` current while the table grows
(``pg_stats``): its statements are planned once per connection, and a plan made for an empty table
read lookups by address through the wrong index (the bench's first-search statement took 0.5-0.7 s
after a few thousand leases)."""

from __future__ import annotations

import asyncio
import time

import psycopg

from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.leases.shared.pg_stats import Growth
from dhcpbridge.leases.shared.postgresql import PostgresStore
from dhcpbridge.wire.v4.message import ip4_int as ip


def test_growth_is_due_at_the_first_threshold_then_each_doubling() -> None:
    g = Growth(first=500)
    assert [g.wrote(100) for _ in range(4)] == [False] * 4
    assert g.wrote(100)  # 500
    assert not g.wrote(499)  # 999 < 1,000
    assert g.wrote(1)  # 1,000
    assert not g.wrote(999) and g.wrote(1)  # 2,000
    assert g.analyzes == 3


async def _grow(url: str) -> float:
    store = PostgresStore(url)
    try:
        now = time.time()
        base = ip("10.70.0.1")
        for start in range(0, 600, 100):
            await asyncio.gather(
                *(
                    store.commit(
                        Lease(base + i, b"\x01" + i.to_bytes(6, "big"), LeaseState.BOUND, now, now + 3600),
                        now,
                    )
                    for i in range(start, start + 100)
                )
            )
            await store.flush()
        for _ in range(100):
            if store._analyzing is None:
                break
            await asyncio.sleep(0.05)
        assert store.stats()["analyzes"] == 1
    finally:
        await store.close()
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'leases'").fetchone()
    assert row is not None
    return float(row[0])


def test_the_table_is_analyzed_once_the_server_wrote_500_rows(pg_url: str) -> None:
    # -1: never analyzed (autovacuum looks at a table once a minute at most)
    assert asyncio.run(_grow(pg_url)) >= 500
