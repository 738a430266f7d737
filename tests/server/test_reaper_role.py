"""Only the holder of a shared store's ``reaper`` role reaps; an embedded store always reaps."""

from __future__ import annotations

import asyncio

from dhcpbridge.leases import MemoryStore
from dhcpbridge.leases.base import StoreError, is_shared
from dhcpbridge.server.reaper import holds_reaper_role


class RoleStore:
    """The shared-store role table (one holder per role); the rest of a store is not needed here."""

    def __init__(self, fail: bool = False) -> None:
        self.holder: dict[str, str] = {}
        self.asked: list[tuple[str, str, float]] = []
        self.fail = fail

    async def claim_role(self, role: str, owner: str, ttl: float) -> bool:
        self.asked.append((role, owner, ttl))
        if self.fail:
            raise StoreError("store down")
        return self.holder.setdefault(role, owner) == owner


def test_embedded_store_always_reaps() -> None:
    store = MemoryStore()
    assert not is_shared(store)
    assert asyncio.run(holds_reaper_role(store, "a", 5.0))


def test_only_the_role_holder_reaps_and_the_claim_lasts_three_intervals() -> None:
    store = RoleStore()
    assert is_shared(store)
    assert asyncio.run(holds_reaper_role(store, "a", 5.0))
    assert not asyncio.run(holds_reaper_role(store, "b", 5.0))
    assert asyncio.run(holds_reaper_role(store, "a", 5.0))
    assert store.asked[0] == ("reaper", "a", 15.0)


def test_a_failing_claim_means_no_reaping() -> None:
    assert not asyncio.run(holds_reaper_role(RoleStore(fail=True), "a", 5.0))
