"""Memory the clients drive, and what a DECLINE may do (issue 9, points 2 and 5), for every store:
a never-bound offer is dropped once its hold time has passed (Kea keeps no offers at all), the
by-client index keeps no entry for a client without records, and only a lease bound to the
client can be declined (an offer cannot quarantine an address)."""

from __future__ import annotations

import random

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases import IndexedStore

from .conftest import run
from .test_store_contract import NOW, POOL, V4, A, B, X, alloc, bind, tpl

NA = LeaseKind.NA


def index_entries(store: LeaseStore) -> int:
    """Entries of the embedded stores' in-memory by-client index; for other stores (whose
    indexes live in their server) the clients that have records, what such an index holds."""
    counter = getattr(store, "client_index_entries", None)  # a shared store's index in its server
    if counter is not None:
        return int(run(counter()))
    if not isinstance(store, IndexedStore):
        return len({(lease.kind, lease.client) for lease in run(store.leases())})
    return sum(len(clients) for clients in store.index.by_client.values())


def test_random_macs_on_a_small_pool_leave_no_index_entries(store: LeaseStore) -> None:
    """The issue's repro: 5,000 random MACs DISCOVER on a 10-address pool; once every record is
    gone, the by-client index is empty too (it kept 2,137 entries)."""
    rng = random.Random(9)
    now = NOW
    offered = 0
    for i in range(5000):
        mac = b"\x01" + rng.randbytes(6)
        if alloc(store, mac, POOL, hint=rng.randrange(1 << 32), now=now) is not None:
            offered += 1
        if i % 10 == 9:
            now += 31.0  # the offers' hold time passes; the next ones reuse the addresses
    assert offered > 1000  # the pool was handed out again and again
    run(store.reap(now + 31))
    assert run(store.leases()) == []  # never-bound offers leave no record behind ...
    assert index_entries(store) == 0  # ... nor an index entry
    run(store.reap(now + 10 * 86400))
    assert index_entries(store) == 0


def test_index_entries_are_bounded_by_records_while_clients_churn(store: LeaseStore) -> None:
    """An address that passes from client to client moves its index entry with it."""
    now = NOW
    for i in range(300):
        client = b"\x01churn-%d" % i
        got = bind(store, client, X, until=now + 10, now=now)
        assert got is not None
        run(store.release(V4, X, client, now + 1))
        now += 2
    assert index_entries(store) == 1
    assert run(store.find_client(V4, b"\x01churn-0")) == []


def test_expired_offer_is_dropped_not_kept_for_retention(store: LeaseStore) -> None:
    store.retention = 86400.0
    assert alloc(store, A, POOL) is not None
    assert len(run(store.leases())) == 1
    assert run(store.reap(NOW + 31)) == []  # an offer's end is no lease event
    assert run(store.leases()) == []
    assert run(store.find_client(V4, A)) == []


def test_unhold_leaves_no_record(store: LeaseStore) -> None:
    run(store.offer(tpl(A, X), NOW))
    run(store.unhold(V4, X, A))
    assert run(store.get(V4, X)) is None and index_entries(store) == 0


def test_bound_lease_is_kept_after_expiry_for_retention(store: LeaseStore) -> None:
    """Bound leases keep their history (a returning client gets its address back)."""
    bind(store, A, X, until=NOW + 10)
    expired = run(store.reap(NOW + 20))
    assert [lease.address for lease in expired] == [X]
    kept = run(store.get(V4, X))
    assert kept is not None and kept.state == LeaseState.EXPIRED
    assert alloc(store, A, POOL, hint=5, now=NOW + 30) == X


def test_decline_of_an_offer_does_not_quarantine(store: LeaseStore) -> None:
    run(store.offer(tpl(A, X), NOW))
    assert run(store.decline(V4, X, A, NOW + 1, NOW + 86400)) is None
    held = run(store.get(V4, X))
    assert held is not None and held.state == LeaseState.OFFERED
    assert run(store.reap(NOW + 31)) == []
    assert alloc(store, B, POOL, now=NOW + 32) == X  # free for anybody once the offer lapsed


def test_decline_of_a_bound_lease_quarantines(store: LeaseStore) -> None:
    bind(store, A, X)
    declined = run(store.decline(V4, X, A, NOW + 1, NOW + 86400))
    assert declined is not None and declined.state == LeaseState.DECLINED
    assert run(store.decline(V4, X, A, NOW + 2, NOW + 86400)) is None  # once is enough
    assert run(store.offer(tpl(B, X, until=NOW + 100), NOW + 2)) is None


def test_decline_of_another_clients_or_an_expired_lease_is_refused(store: LeaseStore) -> None:
    bind(store, A, X, until=NOW + 100)
    assert run(store.decline(V4, X, B, NOW + 1, NOW + 86400)) is None
    assert run(store.decline(V4, X, A, NOW + 101, NOW + 86400)) is None
    lease = run(store.get(V4, X))
    assert lease is not None and lease.state == LeaseState.BOUND


def test_v6_offers_of_a_big_solicit_do_not_stay(store: LeaseStore) -> None:
    pool = [type(POOL[0])(0x20010DB8 << 96 | 0x100, 0x20010DB8 << 96 | 0x4FF)]
    for iaid in range(200):
        got = run(
            store.allocate(
                Hold(
                    Lease(0, iaid.to_bytes(4, "big") + b"duid", LeaseState.OFFERED, NOW, NOW + 30, NA, 128),
                    pool,
                    NOW,
                    iaid,
                )
            )
        )
        assert got is not None
    run(store.reap(NOW + 31))
    assert run(store.leases(NA)) == [] and index_entries(store) == 0
