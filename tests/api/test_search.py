"""``LeaseAdmin.search``: the filters and cursor pages the API lists with, over v4 and v6 records;
a cursor names a position, so records added before it do not shift the next page."""

from __future__ import annotations

import time

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.service import LeaseAdmin, LeaseFilter

from .conftest import v4_lease


def na_lease(last: int) -> Lease:
    now = time.time()
    return Lease(
        kind=LeaseKind.NA,
        address=(0x20010DB8 << 96) + last,
        client=b"\x00\x01duid" + bytes([last]),
        state=LeaseState.BOUND,
        starts=now,
        expires=now + 3600,
        prefix_len=128,
    )


async def filled() -> tuple[MemoryStore, LeaseAdmin]:
    store = MemoryStore()
    for lease in [na_lease(2), v4_lease(120), na_lease(1), v4_lease(110, hostname="pc")]:
        assert await store.commit(lease, time.time())
    return store, LeaseAdmin(store)


async def test_order_is_kind_then_address_and_pages_end() -> None:
    _, admin = await filled()
    page, cursor = await admin.search(LeaseFilter(), 3)
    assert [lease.address_text for lease in page] == ["10.67.0.110", "10.67.0.120", "2001:db8::1"]
    assert cursor is not None
    rest, end = await admin.search(LeaseFilter(), 3, cursor)
    assert [lease.address_text for lease in rest] == ["2001:db8::2"] and end is None


async def test_cursor_is_a_position_not_an_offset() -> None:
    store, admin = await filled()
    page, cursor = await admin.search(LeaseFilter(kind=LeaseKind.V4), 1)
    assert [lease.address_text for lease in page] == ["10.67.0.110"]
    assert await store.commit(v4_lease(105), time.time())  # lands before the cursor
    rest, _ = await admin.search(LeaseFilter(kind=LeaseKind.V4), 10, cursor)
    assert [lease.address_text for lease in rest] == ["10.67.0.120"]


async def test_filters_by_duid_hostname_and_range() -> None:
    _, admin = await filled()
    by_duid, _ = await admin.search(LeaseFilter(client="00:01:64:75:69:64:02"), 10)
    assert [lease.address_text for lease in by_duid] == ["2001:db8::2"]
    by_name, _ = await admin.search(LeaseFilter(hostname="PC"), 10)
    assert [lease.address_text for lease in by_name] == ["10.67.0.110"]
    in_range, _ = await admin.search(LeaseFilter(kind=LeaseKind.V4, first=0x0A430070, last=0x0A4300FF), 10)
    assert [lease.address_text for lease in in_range] == ["10.67.0.120"]
