"""Every lease store through the ``LeaseStore`` protocol (engine/ports.py): the atomicity rules (an
address bound to one client is never offered or committed to another until it expires or is
released), allocation order, occupancy maps over several ranges with wrap-around, the exclude set,
huge ranges searched by probing, DECLINE quarantine, reaping and purging."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases import IndexedStore, MemoryStore
from dhcpbridge.leases.embedded.index import HEAP_SLACK
from dhcpbridge.wire.v4.message import ip4_int as ip

from .conftest import run

V4, NA = LeaseKind.V4, LeaseKind.NA
NOW = 1_700_000_000.0
A, B, C = b"\x01client-a", b"\x01client-b", b"\x01client-c"


@dataclass(frozen=True)
class R:
    first: int
    last: int


def tpl(client: bytes, addr: int = 0, until: float = NOW + 30, kind: LeaseKind = V4, **kw: object) -> Lease:
    """A lease template as the engine builds it."""
    return Lease(addr, client, LeaseState.OFFERED, NOW, until, kind, **kw)  # type: ignore[arg-type]


def bind(
    store: LeaseStore, client: bytes, addr: int, until: float = NOW + 3600, now: float = NOW
) -> Lease | None:
    return run(store.commit(Lease(addr, client, LeaseState.BOUND, now, until), now))


def alloc(
    store: LeaseStore,
    client: bytes,
    ranges: list[R],
    hint: int = 0,
    now: float = NOW,
    exclude: frozenset[int] = frozenset(),
    prefer: int = 0,
    kind: LeaseKind = V4,
) -> int | None:
    got = run(
        store.allocate(Hold(tpl(client, until=now + 30, kind=kind), ranges, now, hint, exclude, prefer))
    )
    return None if got is None else got.address


X = ip("10.67.0.10")
POOL = [R(ip("10.67.0.10"), ip("10.67.0.19"))]


# --- offer / commit atomicity ---------------------------------------------------------------------------------
def test_offer_holds_for_one_client(store: LeaseStore) -> None:
    held = run(store.offer(tpl(A, X), NOW))
    assert held is not None and held.state == LeaseState.OFFERED and held.client == A
    assert run(store.get(V4, X)) == held
    assert run(store.offer(tpl(B, X), NOW)) is None
    assert run(store.commit(Lease(X, B, LeaseState.BOUND, NOW, NOW + 60), NOW + 1)) is None
    assert run(store.offer(tpl(A, X), NOW + 1)) is not None  # its own hold again
    # once the hold has run out, another client may take it
    assert run(store.offer(tpl(B, X, until=NOW + 100), NOW + 31)) is not None


def test_bound_address_is_never_offered_or_committed_to_another(store: LeaseStore) -> None:
    lease = bind(store, A, X)
    assert lease is not None and lease.state == LeaseState.BOUND
    for now in (NOW, NOW + 1800, NOW + 3599):
        assert run(store.offer(tpl(B, X), now)) is None
        assert bind(store, B, X, now=now) is None
        assert alloc(store, B, POOL, prefer=X, now=now) != X
    assert run(store.get(V4, X)).client == A  # type: ignore[union-attr]
    # expired: free for anyone
    assert bind(store, B, X, now=NOW + 3601, until=NOW + 7200) is not None
    assert run(store.get(V4, X)).client == B  # type: ignore[union-attr]


def test_release_frees_it_for_others(store: LeaseStore) -> None:
    bind(store, A, X)
    assert run(store.release(V4, X, B, NOW + 5)) is None  # not B's to release
    released = run(store.release(V4, X, A, NOW + 5))
    assert released is not None and released.state == LeaseState.RELEASED and released.expires == NOW + 5
    assert run(store.release(V4, X, A, NOW + 6)) is None  # already released
    assert bind(store, B, X, now=NOW + 6) is not None


def test_release_of_an_offer_hold(store: LeaseStore) -> None:
    run(store.offer(tpl(A, X), NOW))
    assert run(store.release(V4, X, A, NOW + 1)).state == LeaseState.RELEASED  # type: ignore[union-attr]
    assert run(store.offer(tpl(B, X), NOW + 1)) is not None


def test_renewal_keeps_start_time_and_own_commit_is_allowed(store: LeaseStore) -> None:
    bind(store, A, X)
    renewed = bind(store, A, X, now=NOW + 1800, until=NOW + 5400)
    assert renewed is not None and renewed.starts == NOW and renewed.expires == NOW + 5400
    # a commit after expiry starts a new binding
    again = bind(store, A, X, now=NOW + 9000, until=NOW + 12600)
    assert again is not None and again.starts == NOW + 9000


def test_offer_to_the_bound_client_returns_its_lease_unchanged(store: LeaseStore) -> None:
    lease = bind(store, A, X)
    assert run(store.offer(tpl(A, X), NOW + 10)) == lease
    got = run(store.allocate(Hold(tpl(A), POOL, NOW + 10, 0)))
    assert got == lease and got.state == LeaseState.BOUND  # type: ignore[union-attr]


def test_unhold(store: LeaseStore) -> None:
    run(store.offer(tpl(A, X), NOW))
    run(store.unhold(V4, X, B))  # not B's hold: nothing happens
    assert run(store.get(V4, X)).state == LeaseState.OFFERED  # type: ignore[union-attr]
    run(store.unhold(V4, X, A))
    assert run(store.get(V4, X)) is None  # a never-bound offer leaves no record
    assert run(store.offer(tpl(B, X), NOW)) is not None
    bind(store, C, X + 1)
    run(store.unhold(V4, X + 1, C))  # never touches a bound lease
    assert run(store.get(V4, X + 1)).state == LeaseState.BOUND  # type: ignore[union-attr]


def test_decline_quarantines_even_for_the_client_that_declined(store: LeaseStore) -> None:
    bind(store, A, X)
    assert run(store.decline(V4, X, B, NOW, NOW + 600)) is None
    declined = run(store.decline(V4, X, A, NOW + 1, NOW + 600))
    assert declined is not None and declined.state == LeaseState.DECLINED and declined.expires == NOW + 600
    for client in (A, B):
        assert run(store.offer(tpl(client, X), NOW + 599)) is None
        assert alloc(store, client, [R(X, X)], now=NOW + 599) is None
    assert run(store.offer(tpl(B, X, until=NOW + 700), NOW + 601)) is not None


def test_find_client_most_recent_first(store: LeaseStore) -> None:
    bind(store, A, X)
    run(store.release(V4, X, A, NOW + 1))
    bind(store, A, X + 1, now=NOW + 2)
    bind(store, B, X + 2)
    found = run(store.find_client(V4, A))
    assert [lease.address for lease in found] == [X + 1, X]
    assert [lease.state for lease in found] == [LeaseState.BOUND, LeaseState.RELEASED]
    assert run(store.find_client(V4, C)) == []
    bind(store, B, X, now=NOW + 3, until=NOW + 3600)  # B took A's old address
    assert [lease.address for lease in run(store.find_client(V4, A))] == [X + 1]


def test_leases_by_kind(store: LeaseStore) -> None:
    bind(store, A, X)
    run(store.commit(Lease(1 << 100, A, LeaseState.BOUND, NOW, NOW + 60, NA), NOW))
    assert {lease.kind for lease in run(store.leases())} == {V4, NA}
    assert [lease.address for lease in run(store.leases(V4))] == [X]
    assert run(store.get(NA, X)) is None  # kinds are separate address spaces


# --- allocation order ------------------------------------------------------------------------------------------
def test_allocate_prefers_own_then_requested_then_hint(store: LeaseStore) -> None:
    assert alloc(store, A, POOL, hint=3) == X + 3  # empty pool: the hint position
    assert alloc(store, A, POOL, hint=7, prefer=X + 5) == X + 3  # its own hold first
    assert alloc(store, B, POOL, hint=9, prefer=X + 5) == X + 5  # then what it asks for
    assert alloc(store, C, POOL, hint=5) == X + 6  # hint taken: the next free one
    assert alloc(store, C, POOL, hint=1, prefer=X + 3) == X + 6  # A's address is not free for C


def test_allocate_returns_previous_address_after_release_or_expiry(store: LeaseStore) -> None:
    bind(store, A, X + 4)
    run(store.release(V4, X + 4, A, NOW + 10))
    assert alloc(store, A, POOL, hint=0, now=NOW + 20) == X + 4
    bind(store, B, X + 7, until=NOW + 100)
    assert alloc(store, B, POOL, hint=0, now=NOW + 500) == X + 7


def test_previous_address_taken_by_another_is_not_reused(store: LeaseStore) -> None:
    bind(store, A, X + 4, until=NOW + 100)
    bind(store, B, X + 4, now=NOW + 200, until=NOW + 4000)
    assert alloc(store, A, POOL, hint=4, now=NOW + 300) == X + 5


def test_requested_address_outside_ranges_or_excluded_is_ignored(store: LeaseStore) -> None:
    assert alloc(store, A, POOL, hint=0, prefer=X + 50) == X
    assert alloc(store, B, POOL, hint=0, prefer=X + 5, exclude=frozenset({X + 5})) == X + 1


def test_exclude_set_is_never_allocated(store: LeaseStore) -> None:
    excluded = frozenset({X + i for i in range(0, 10, 2)})
    got = [alloc(store, bytes([i]) * 3, POOL, hint=0, exclude=excluded) for i in range(6)]
    assert got[:5] == [X + 1, X + 3, X + 5, X + 7, X + 9]
    assert got[5] is None


def test_first_free_after_a_run_that_starts_at_the_hint(store: LeaseStore) -> None:
    """The search from the hint walks the run of taken addresses there: a released record inside
    it does not block, an excluded address extends it, and a run that fills the first search
    window (256 addresses in the PostgreSQL store) goes on into the next."""
    big = [R(X, X + 599)]
    for i in range(6):
        bind(store, bytes([i + 1]) * 4, X + 100 + i)
    run(store.release(V4, X + 103, bytes([4]) * 4, NOW + 1))
    assert alloc(store, A, big, hint=100, now=NOW + 2) == X + 103  # a released record is free
    assert alloc(store, B, big, hint=101, now=NOW + 2) == X + 106  # A holds X + 103 now
    assert alloc(store, C, big, hint=104, now=NOW + 2, exclude=frozenset({X + 107})) == X + 108
    for i in range(300):  # a run from X + 200 to X + 499: past the end of a first 256-address window
        bind(store, b"\x02" + i.to_bytes(3, "big"), X + 200 + i)
    assert alloc(store, b"\x03new", big, hint=200, now=NOW + 10) == X + 500
    assert alloc(store, b"\x04new", big, hint=201, now=NOW + 10, exclude=frozenset({X + 500})) == X + 501


def test_own_address_now_excluded_is_not_given_back(store: LeaseStore) -> None:
    bind(store, A, X + 2, until=NOW + 10)
    assert alloc(store, A, POOL, hint=2, now=NOW + 20, exclude=frozenset({X + 2})) == X + 3


def test_several_ranges_as_one_sequence_with_wrap_around(store: LeaseStore) -> None:
    ranges = [R(ip("10.0.0.10"), ip("10.0.0.12")), R(ip("10.0.0.20"), ip("10.0.0.22"))]
    got = [alloc(store, bytes([i]) * 4, ranges, hint=4) for i in range(7)]
    assert got == [ip(f"10.0.0.{n}") for n in (21, 22, 10, 11, 12, 20)] + [None]
    assert alloc(store, b"x" * 4, ranges, hint=4 + 6 * 1000) is None  # hint is taken modulo the size


def test_hint_beyond_the_ranges_wraps(store: LeaseStore) -> None:
    assert alloc(store, A, POOL, hint=10 * 7 + 9) == X + 9


def test_overlapping_ranges_share_occupancy(store: LeaseStore) -> None:
    """Two pools that overlap (or one pool seen through two calls) never hand out an address twice."""
    first = [R(ip("10.0.0.0"), ip("10.0.0.15"))]
    second = [R(ip("10.0.0.8"), ip("10.0.0.23"))]
    assert alloc(store, A, first, hint=10) == ip("10.0.0.10")
    assert alloc(store, B, second, hint=2) == ip("10.0.0.11")
    bind(store, C, ip("10.0.0.12"))
    assert alloc(store, b"d", second, hint=4) == ip("10.0.0.13")
    assert alloc(store, b"e", first, hint=12) == ip("10.0.0.14")  # .12 bound to C, .13 held for d


def test_released_address_is_free_again_in_the_map(store: LeaseStore) -> None:
    one = [R(X, X)]
    assert alloc(store, A, one) == X
    run(store.release(V4, X, A, NOW))
    assert alloc(store, B, one) == X
    run(store.unhold(V4, X, B))
    assert alloc(store, C, one) == X


def test_exhausted(store: LeaseStore) -> None:
    one = [R(X, X + 1)]
    assert alloc(store, A, one) is not None and alloc(store, B, one) is not None
    assert alloc(store, C, one) is None
    assert alloc(store, C, []) is None


def test_huge_ranges_are_probed(store: LeaseStore) -> None:
    """A /64 of IA_NA addresses is far too big for an occupancy map: addresses are found by probing."""
    base = 0xFD67_0000_0000_0000 << 64
    huge = [R(base, base + (1 << 64) - 1)]
    got = [alloc(store, b"c%d" % i, huge, hint=i * 7919, kind=NA) for i in range(200)]
    assert all(a is not None and base <= a < base + (1 << 64) for a in got)
    assert len(set(got)) == 200
    again = alloc(store, b"c5", huge, hint=12345, kind=NA)
    assert again == got[5]  # its own address again
    assert alloc(store, b"new", huge, hint=0, prefer=base + 77, kind=NA) == base + 77
    # two stores agree on the first address of a client: the probe sequence is deterministic
    assert alloc(MemoryStore(), b"c9", huge, hint=9 * 7919, kind=NA) == got[9]


def test_huge_range_probe_skips_taken_addresses(store: LeaseStore) -> None:
    base = 0xFD67_0000_0000_0000 << 64
    huge = [R(base, base + (1 << 64) - 1)]
    first = alloc(store, A, huge, hint=42, kind=NA)
    assert first is not None
    second = alloc(store, B, huge, hint=42, kind=NA)
    assert second is not None and second != first


def test_expired_but_unreaped_address_is_allocatable(store: LeaseStore) -> None:
    one = [R(X, X)]
    bind(store, A, X, until=NOW + 100)
    assert alloc(store, B, one, now=NOW + 200) == X


# --- reap / purge ---------------------------------------------------------------------------------------------
def test_reap_expires_leases_and_reports_only_bound_ones(store: LeaseStore) -> None:
    bind(store, A, X, until=NOW + 100)
    run(store.offer(tpl(B, X + 1, until=NOW + 30), NOW))
    bind(store, C, X + 2)
    run(store.decline(V4, X + 2, C, NOW, NOW + 150))
    bind(store, b"d", X + 3, until=NOW + 1000)
    assert run(store.reap(NOW + 10)) == []
    expired = run(store.reap(NOW + 200))
    assert [(lease.address, lease.state) for lease in expired] == [(X, LeaseState.EXPIRED)]
    states = {lease.address: lease.state for lease in run(store.leases())}
    assert states == {  # the lapsed offer of X + 1 left no record
        X: LeaseState.EXPIRED,
        X + 2: LeaseState.EXPIRED,
        X + 3: LeaseState.BOUND,
    }
    assert run(store.reap(NOW + 300)) == []  # once only
    # the addresses are free in the maps again
    assert sorted(alloc(store, b"n%d" % i, [R(X, X + 3)]) or 0 for i in range(4)) == [0, X, X + 1, X + 2]


def test_renewed_lease_is_not_reaped_at_its_old_expiry(store: LeaseStore) -> None:
    bind(store, A, X, until=NOW + 100)
    bind(store, A, X, now=NOW + 50, until=NOW + 500)
    assert run(store.reap(NOW + 200)) == []
    assert run(store.get(V4, X)).state == LeaseState.BOUND  # type: ignore[union-attr]
    assert [lease.address for lease in run(store.reap(NOW + 600))] == [X]


def test_frequent_renewals_keep_the_expiry_heap_bounded(store: LeaseStore) -> None:
    # a renewal leaves its old expiry entry behind until the heap is rebuilt (embedded stores:
    # many rounds to pass the rebuild; a shared store, one round trip per renewal, needs fewer)
    rounds = 20_000 if isinstance(store, IndexedStore) else 500
    for i in range(rounds):
        bind(store, A, X, now=NOW + i, until=NOW + i + 3600)
        bind(store, B, X + 1, now=NOW + i, until=NOW + i + 3600)
    if isinstance(store, IndexedStore):  # the embedded stores' in-memory expiry heap
        assert len(store.index._heap) <= 2 * 2 + HEAP_SLACK
    assert run(store.reap(NOW + rounds)) == []  # no stale entry expires a renewed lease
    assert sorted(lease.address for lease in run(store.reap(NOW + rounds + 10_000))) == [X, X + 1]


def test_reap_purges_old_records_after_retention(store: LeaseStore) -> None:
    store.retention = 100.0  # type: ignore[attr-defined]  # every registered store keeps it
    bind(store, A, X, until=NOW + 10)
    bind(store, B, X + 1)
    run(store.release(V4, X + 1, B, NOW + 5))
    run(store.reap(NOW + 20))
    assert run(store.get(V4, X)) is not None  # expired, kept for a while (returning client)
    run(store.reap(NOW + 200))
    assert run(store.get(V4, X)) is None and run(store.get(V4, X + 1)) is None
    assert run(store.find_client(V4, A)) == []


# --- property: no address is ever held by two clients -----------------------------------------------------------
ops = st.lists(
    st.tuples(
        st.sampled_from(["alloc", "offer", "commit", "release", "decline", "unhold", "reap"]),
        st.integers(0, 4),  # client
        st.integers(0, 5),  # address offset
        st.integers(0, 40),  # time step
    ),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(ops)
@example([("offer", 0, 1, 0), ("unhold", 0, 1, 0), ("alloc", 1, 0, 0)])  # the model kept a given-up offer
def test_exclusive_ownership_under_random_operations(steps: list[tuple[str, int, int, int]]) -> None:
    store = MemoryStore()
    pool = [R(X, X + 3)]
    now = NOW
    owner: dict[int, tuple[bytes, float]] = {}  # address -> (client, active until) as seen by the model
    for op, c, off, dt in steps:
        now += dt
        client = b"c%d" % c
        addr = X + off
        if op == "alloc":
            got = run(store.allocate(Hold(tpl(client, until=now + 30), pool, now, c)))
            lease = got
        elif op == "offer":
            lease = run(store.offer(tpl(client, addr, until=now + 30), now))
        elif op == "commit":
            lease = run(store.commit(Lease(addr, client, LeaseState.BOUND, now, now + 60), now))
        elif op == "release":
            lease = run(store.release(V4, addr, client, now))
        elif op == "decline":
            lease = run(store.decline(V4, addr, client, now, now + 50))
        elif op == "unhold":
            run(store.unhold(V4, addr, client))
            lease = None
        else:
            run(store.reap(now))
            lease = None
        if lease is not None and lease.state in (LeaseState.OFFERED, LeaseState.BOUND):
            held_by = owner.get(lease.address)
            if held_by is not None and held_by[0] != lease.client:
                assert held_by[1] <= now, (
                    f"{lease.address} given to {lease.client!r} while {held_by} holds it"
                )
        # the model is what the store holds now: an address it no longer lists (an offer given
        # up by ``unhold`` leaves no record) is free, not still its last owner's
        owner = {
            lease_now.address: (lease_now.client, lease_now.expires)
            for lease_now in run(store.leases())
            if lease_now.state in (LeaseState.OFFERED, LeaseState.BOUND, LeaseState.DECLINED)
        }
