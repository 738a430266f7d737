"""``RenewFromCache``: while the shared store fails, a known client's renewal of its unchanged
lease is answered from the cache and written to the store when it is back; everything else
still fails; a flush that may have lost a write the store took still fails."""

from __future__ import annotations

import time
from typing import Any

import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.base import StoreError, is_shared
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.leases.renewcache import RenewFromCache

A, B = 0x0A430064, 0x0A430065
ALICE, BOB = b"\x01alice", b"\x01bob"
T = time.time()  # the cache and the replay read the clock: leases of now


class Flaky:
    """A memory store that says it is shared; every call fails while ``down``."""

    inline = False

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.down = False

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                raise StoreError("down")
            return await attr(*args, **kwargs)

        return call

    async def claim_role(self, role: str, owner: str, ttl: float) -> bool:
        return True


def bound(address: int, client: bytes, expires: float) -> Lease:
    return Lease(
        kind=LeaseKind.V4, address=address, client=client, state=LeaseState.BOUND, starts=0.0, expires=expires
    )


async def test_renewal_from_the_cache_then_written_to_the_store() -> None:
    flaky = Flaky()
    store = RenewFromCache(flaky)
    assert is_shared(store) and store.inline is False  # the inner store's capabilities show
    assert await store.commit(bound(A, ALICE, T + 1000), T + 10) is not None
    await store.flush()

    flaky.down = True
    assert (await store.get(LeaseKind.V4, A)) == bound(A, ALICE, T + 1000)
    assert [lease.address for lease in await store.find_client(LeaseKind.V4, ALICE)] == [A]
    renewed = await store.commit(bound(A, ALICE, T + 2000), T + 500)
    assert renewed is not None and renewed.expires == T + 2000
    await store.flush()  # only a cached renewal is outstanding: the ACK may go
    assert store.renewed == 1 and store.pending

    with pytest.raises(StoreError):  # another address for the same client
        await store.commit(bound(B, ALICE, T + 2000), T + 500)
    with pytest.raises(StoreError):  # an unknown client
        await store.commit(bound(B, BOB, T + 2000), T + 500)
    with pytest.raises(StoreError):
        await store.find_client(LeaseKind.V4, BOB)
    with pytest.raises(StoreError):
        await store.release(LeaseKind.V4, A, ALICE, T + 600)

    flaky.down = False
    await store.replay()
    assert not store.pending and store.replayed == 1
    stored = await flaky.inner.get(LeaseKind.V4, A)
    assert stored is not None and stored.expires == T + 2000 and stored.client == ALICE


async def test_expired_cache_entries_do_not_renew() -> None:
    flaky = Flaky()
    store = RenewFromCache(flaky)
    await store.commit(bound(A, ALICE, T + 100), T + 10)
    await store.flush()
    flaky.down = True
    with pytest.raises(StoreError):
        await store.commit(bound(A, ALICE, T + 2000), T + 500)  # the cached lease ended at T + 100


async def test_a_flush_that_may_lose_an_accepted_write_still_fails() -> None:
    flaky = Flaky()
    store = RenewFromCache(flaky)
    await store.commit(bound(A, ALICE, T + 1000), T + 10)
    await store.flush()
    await store.commit(bound(B, BOB, T + 1000), T + 20)  # taken by the store, not yet flushed
    flaky.down = True
    await store.commit(bound(A, ALICE, T + 2000), T + 500)  # from the cache
    with pytest.raises(StoreError):
        await store.flush()
    await store.flush()  # that write's reply was withheld; now only the renewal is outstanding


async def test_a_renewal_another_server_overtook_is_dropped() -> None:
    flaky = Flaky()
    store = RenewFromCache(flaky)
    await store.commit(bound(A, ALICE, T + 1000), T + 10)
    await store.flush()
    flaky.down = True
    await store.commit(bound(A, ALICE, T + 2000), T + 500)
    flaky.down = False
    await flaky.inner.release(LeaseKind.V4, A, ALICE, T + 600)  # another server, meanwhile
    assert await flaky.inner.commit(bound(A, BOB, T + 3000), T + 700) is not None
    await store.replay()
    assert store.refused == 1 and not store.pending
    assert (await flaky.inner.get(LeaseKind.V4, A)).client == BOB  # type: ignore[union-attr]
