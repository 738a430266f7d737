"""The lease index's lazy expiry queue: every active lease has an entry at or before its expiry;
a later expiry (a renewal, the bind after an offer) queues nothing, an earlier one queues a new
entry, and an entry that comes up before its lease's time queues the lease again."""

from __future__ import annotations

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.embedded.index import LeaseIndex

NOW = 1_700_000_000.0


def lease(addr: int, state: LeaseState, expires: float, client: bytes = b"c") -> Lease:
    return Lease(addr, client, state, NOW, expires, kind=LeaseKind.V4)


def reaped(index: LeaseIndex, now: float) -> list[int]:
    return [gone.address for gone in index.reap(now)]


def test_the_bind_after_an_offer_queues_no_second_entry() -> None:
    index = LeaseIndex()
    index.put(lease(1, LeaseState.OFFERED, NOW + 30), durable=False)
    index.put(lease(1, LeaseState.BOUND, NOW + 3600), durable=False)
    assert len(index._heap) == 1
    assert reaped(index, NOW + 60) == []  # the offer's entry came up: the bound lease is queued anew
    assert index._heap == [(NOW + 3600, LeaseKind.V4, 1)]
    assert index.by_addr[LeaseKind.V4][1].state == LeaseState.BOUND
    assert reaped(index, NOW + 3600) == [1]
    assert index._heap == []


def test_renewals_keep_one_entry_per_lease() -> None:
    index = LeaseIndex()
    for i in range(10_000):
        index.put(lease(1, LeaseState.BOUND, NOW + i + 600, b"a"), durable=False)
        index.put(lease(2, LeaseState.BOUND, NOW + i + 600, b"b"), durable=False)
    assert len(index._heap) == 2
    assert reaped(index, NOW + 9_000) == []
    assert sorted(reaped(index, NOW + 10_599)) == [1, 2]


def test_a_shortened_expiry_is_reaped_at_the_new_time() -> None:
    index = LeaseIndex()
    index.put(lease(1, LeaseState.BOUND, NOW + 3600), durable=False)
    index.put(lease(1, LeaseState.BOUND, NOW + 60), durable=False)  # renewed for less
    assert reaped(index, NOW + 61) == [1]
    assert index.by_addr[LeaseKind.V4][1].state == LeaseState.EXPIRED
    assert reaped(index, NOW + 3601) == []  # the old entry finds nothing active


def test_a_lease_active_again_after_it_expired_is_queued() -> None:
    index = LeaseIndex()
    index.put(lease(1, LeaseState.BOUND, NOW + 60), durable=False)
    assert reaped(index, NOW + 61) == [1]
    index.put(lease(1, LeaseState.BOUND, NOW + 120), durable=False)  # the expired record is replaced
    assert reaped(index, NOW + 121) == [1]


def test_a_record_changed_in_place_is_queued_again() -> None:
    index = LeaseIndex()
    record = lease(1, LeaseState.BOUND, NOW + 3600)
    index.put(record, durable=False)
    record.expires = NOW + 60  # the same object put again: its old expiry is unknown
    index.put(record, durable=False)
    assert reaped(index, NOW + 61) == [1]
