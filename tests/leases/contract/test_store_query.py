"""Every store that can query (``leases.base.QueriesLeases``): a page of records ordered by kind
and address from a cursor (``LeaseQuery.after``), filtered by kind and state, so the API's pages
need not read the whole table; and the counts per kind and state match the records."""

from __future__ import annotations

import time

import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases import IndexedStore
from dhcpbridge.leases.base import LeaseQuery, QueriesLeases

from .conftest import run

V4, NA = LeaseKind.V4, LeaseKind.NA
BASE4 = 0x0A450000
BASE6 = 0x20010DB8 << 96


def lease(kind: LeaseKind, last: int, now: float) -> Lease:
    base = BASE4 if kind == V4 else BASE6
    return Lease(
        base + last, bytes([kind, last]), LeaseState.BOUND, now, now + 3600, kind, 32 if kind == V4 else 128
    )


def keys(rows: list[Lease]) -> list[tuple[LeaseKind, int]]:
    return [(r.kind, r.address - (BASE4 if r.kind == V4 else BASE6)) for r in rows]


def test_pages_from_a_cursor_in_kind_and_address_order(store: LeaseStore) -> None:
    if not isinstance(store, QueriesLeases):
        pytest.skip("this store cannot query")
    now = time.time()
    for last in (30, 10, 20, 40):
        for kind in (NA, V4):
            assert run(store.commit(lease(kind, last, now), now)) is not None
    assert run(store.release(V4, BASE4 + 20, bytes([V4, 20]), now)) is not None
    run(store.flush())
    assert keys(run(store.query(LeaseQuery(limit=3)))) == [(V4, 10), (V4, 20), (V4, 30)]
    after = (int(V4), BASE4 + 30)
    assert keys(run(store.query(LeaseQuery(limit=3, after=after)))) == [(V4, 40), (NA, 10), (NA, 20)]
    bound = run(store.query(LeaseQuery(V4, LeaseState.BOUND, limit=10, after=(int(V4), BASE4 + 10))))
    assert keys(bound) == [(V4, 30), (V4, 40)]
    assert keys(run(store.query(LeaseQuery(NA, after=(int(NA), BASE6 + 40))))) == []
    if isinstance(store, IndexedStore):  # the shared stores' counts are refreshed in the background
        assert store.count_by_state() == {"v4_bound": 3, "v4_released": 1, "na_bound": 4}
