"""``LeaseAdmin``: the one implementation of the lease commands (control socket and CLI)."""

from __future__ import annotations

from typing import Any

import pytest

from dhcpbridge.engine.model import LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.leases.base import LeaseQuery
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.service import LeaseAdmin, parse_address

from .fakes import lease

ADDR = "10.67.0.100"


class Running:
    def __init__(self) -> None:
        self.events: list[LeaseEvent] = []
        self.reload_errors: list[str] = []

    def snapshot(self) -> dict[str, Any]:
        return {"v4": {}, "leases": {}}

    async def snapshot_all(self) -> dict[str, Any]:
        return self.snapshot()

    async def reload(self) -> list[str]:
        return self.reload_errors

    def emit(self, event: LeaseEvent) -> None:
        self.events.append(event)


async def store_with_lease() -> MemoryStore:
    store = MemoryStore()
    assert await store.commit(lease(), 0.0) is not None
    return store


def test_parse_address() -> None:
    assert parse_address(ADDR) == (LeaseKind.V4, 0x0A430064)
    assert parse_address("2001:db8::5")[0] == LeaseKind.NA
    assert parse_address("2001:db8:1::/48")[0] == LeaseKind.PD
    with pytest.raises(ValueError):
        parse_address("not-an-address")


async def test_list_get_release_through_handle() -> None:
    server = Running()
    admin = LeaseAdmin(await store_with_lease(), server)
    rows = await admin.handle({"cmd": "leases"})
    assert [r["address"] for r in rows] == [ADDR]
    assert (await admin.handle({"cmd": "lease", "address": ADDR}))["state"] == "bound"
    released = await admin.handle({"cmd": "release", "address": ADDR})
    assert released["state"] == "released"
    assert [(e.event, e.lease.state) for e in server.events] == [("release", LeaseState.RELEASED)]
    with pytest.raises(ValueError, match="is released, not leased"):
        await admin.release(ADDR)
    assert [lease.state for lease in await admin.list(LeaseQuery(state=LeaseState.RELEASED))] == [
        LeaseState.RELEASED
    ]
    assert await admin.list(LeaseQuery(state=LeaseState.BOUND)) == []


async def test_errors_are_value_errors_for_the_operator() -> None:
    admin = LeaseAdmin(MemoryStore())
    with pytest.raises(ValueError, match=r"no lease for 10\.67\.0\.1"):
        await admin.handle({"cmd": "lease", "address": "10.67.0.1"})
    with pytest.raises(ValueError, match="unknown command 'nope'"):
        await admin.handle({"cmd": "nope"})
    with pytest.raises(ValueError, match="no running server"):
        await admin.handle({"cmd": "stats"})


async def test_stats_and_reload_need_the_server() -> None:
    server = Running()
    admin = LeaseAdmin(MemoryStore(), server)
    assert await admin.handle({"cmd": "stats"}) == {"v4": {}, "leases": {}}
    assert await admin.handle({"cmd": "reload"}) == "reloaded"
    server.reload_errors = ["bad"]
    with pytest.raises(ValueError, match="reload rejected: bad"):
        await admin.handle({"cmd": "reload"})


async def test_pages_of_leases() -> None:
    store = MemoryStore()
    for i in (5, 1, 3, 2, 4):
        await store.commit(lease(0x0A430000 + i, bytes([i])), 0.0)
    await store.release(LeaseKind.V4, 0x0A430003, bytes([3]), 1.0)
    admin = LeaseAdmin(store)
    page = await admin.list(LeaseQuery(offset=1, limit=2))
    assert [x.address & 0xFF for x in page] == [2, 3]
    bound = await admin.list(LeaseQuery(state=LeaseState.BOUND, limit=10))
    assert [x.address & 0xFF for x in bound] == [1, 2, 4, 5]
    assert len(await admin.list()) == 5
    assert await admin.list(LeaseQuery(kind=LeaseKind.NA, limit=3)) == []
