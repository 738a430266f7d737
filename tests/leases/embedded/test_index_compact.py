"""The lease index's compact per-client and per-DUID entries: one address (or key) held bare, several
in a list (or set), back to bare when one is left, gone with the last record."""

from __future__ import annotations

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.embedded.index import LeaseIndex

NOW = 1_700_000_000.0
DUID = b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x07"


def bound(addr: int, client: bytes, kind: LeaseKind = LeaseKind.V4, expires: float = NOW + 600) -> Lease:
    return Lease(addr, client, LeaseState.BOUND, NOW, expires, kind=kind)


def test_one_client_several_addresses_most_recent_first() -> None:
    index = LeaseIndex()
    index.put(bound(1, b"a"), durable=False)
    assert index.by_client[LeaseKind.V4][b"a"] == 1
    index.put(bound(2, b"a"), durable=False)
    index.put(bound(3, b"a"), durable=False)
    assert [lease.address for lease in index.find_client(LeaseKind.V4, b"a")] == [3, 2, 1]
    index.put(bound(1, b"a"), durable=False)  # renewed: the most recent again
    assert [lease.address for lease in index.find_client(LeaseKind.V4, b"a")] == [1, 3, 2]
    index.put(bound(3, b"b"), durable=False)  # address 3 is another client's now
    index.delete(LeaseKind.V4, 2)
    assert index.by_client[LeaseKind.V4][b"a"] == 1  # one left: held bare again
    assert [lease.address for lease in index.find_client(LeaseKind.V4, b"b")] == [3]
    index.delete(LeaseKind.V4, 1)
    assert b"a" not in index.by_client[LeaseKind.V4]
    assert index.find_client(LeaseKind.V4, b"a") == []


def test_duid_count_over_several_ias_of_both_kinds() -> None:
    index = LeaseIndex()
    na1, na2, pd1 = b"\x00\x00\x00\x01" + DUID, b"\x00\x00\x00\x02" + DUID, b"\x00\x00\x00\x01" + DUID
    index.put(bound(10, na1, LeaseKind.NA), durable=False)
    index.put(bound(11, na1, LeaseKind.NA), durable=False)
    index.put(bound(20, na2, LeaseKind.NA), durable=False)
    index.put(bound(30, pd1, LeaseKind.PD, expires=NOW - 1), durable=False)  # expired: not counted
    index.put(bound(31, pd1, LeaseKind.PD), durable=False)
    index.put(bound(40, b"\x00\x00\x00\x01other", LeaseKind.NA), durable=False)
    assert index.duid_lease_count(DUID, NOW) == 4
    index.delete(LeaseKind.NA, 20)
    index.delete(LeaseKind.PD, 30)
    index.delete(LeaseKind.PD, 31)
    assert index.duid_lease_count(DUID, NOW) == 2
    index.delete(LeaseKind.NA, 10)
    index.delete(LeaseKind.NA, 11)
    assert index.duid_lease_count(DUID, NOW) == 0
    assert DUID not in index._duid_keys[LeaseKind.NA] and DUID not in index._duid_keys[LeaseKind.PD]


def test_a_bulk_load_builds_the_expiry_heap_once() -> None:
    index = LeaseIndex()
    index.begin_load()
    for i in range(5):
        index.load(bound(i, b"c%d" % i, expires=NOW + i))
    assert index._heap == []
    index.end_load()
    assert [lease.address for lease in index.reap(NOW + 2.5)] == [0, 1, 2]
