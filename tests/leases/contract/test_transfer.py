"""``leases.transfer.copy_leases`` into every store backend: each sample lease file round-trips,
a copy resumes, conflicts are reported and not overwritten, and verification catches a store that
loses what it was given."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases import MemoryStore, SqliteStore
from dhcpbridge.leases.files import read_lease_file
from dhcpbridge.leases.transfer import copy_leases, expected, same

from .conftest import run

SAMPLES = Path(__file__).parents[1] / "files" / "samples"
NOW = 1796514000.0  # 2026-12-05 23:40 UTC: before the samples' leases end


def _key(lease: Lease) -> tuple[LeaseKind, int]:
    return lease.kind, lease.address


@pytest.mark.parametrize(
    "name", ["dhcpd.leases", "dhcpd6.leases", "kea-leases4.csv", "kea-leases6.csv", "dnsmasq.leases"]
)
def test_each_sample_round_trips(store: LeaseStore, name: str) -> None:
    source = read_lease_file(SAMPLES / name).leases
    report = run(copy_leases(source, store, NOW))
    assert report.ok and report.written == len(source) == report.verified
    back = {_key(lease): lease for lease in run(store.leases())}
    assert len(back) == len(source)
    for lease in source:
        got = back[_key(lease)]
        want = expected(lease)
        assert (got.client, got.state, got.expires, got.prefix_len) == (
            want.client,
            want.state,
            want.expires,
            want.prefix_len,
        )
        assert (got.hostname, got.hwaddr, got.starts) == (want.hostname, want.hwaddr, want.starts)


def test_states_are_written_through_the_protocol(store: LeaseStore) -> None:
    base = Lease(
        address=0x0A000001, client=b"\x01a", state=LeaseState.BOUND, starts=NOW - 100, expires=NOW + 100
    )
    records = [
        base,
        replace(base, address=0x0A000002, client=b"\x01b", state=LeaseState.DECLINED, hostname="x"),
        replace(base, address=0x0A000003, client=b"\x01c", state=LeaseState.RELEASED, expires=NOW - 50),
        replace(base, address=0x0A000004, client=b"\x01d", state=LeaseState.EXPIRED, expires=NOW - 10),
        replace(base, address=0x0A000005, client=b"\x01e", state=LeaseState.OFFERED),
    ]
    report = run(copy_leases(records, store, NOW))
    assert report.ok and report.written == 4 and report.skipped == 1
    got = {lease.address & 0xFF: lease for lease in run(store.leases())}
    assert got[1].state == LeaseState.BOUND
    assert (got[2].state, got[2].expires, got[2].hostname) == (LeaseState.DECLINED, NOW + 100, "")
    assert (got[3].state, got[3].expires) == (LeaseState.RELEASED, NOW - 50)
    assert (got[4].state, got[4].expires) == (LeaseState.RELEASED, NOW - 10)  # free, client kept
    assert 5 not in got
    assert report.counts == {"v4_bound": 1, "v4_declined": 1, "v4_released": 2}


def test_a_copy_resumes(store: LeaseStore) -> None:
    source = read_lease_file(SAMPLES / "dnsmasq.leases").leases
    first = run(copy_leases(source[:3], store, NOW, batch=2))
    assert first.written == 3
    again = run(copy_leases(source, store, NOW, batch=2))
    assert (again.present, again.written, again.verified) == (3, len(source) - 3, len(source))


def test_a_conflict_is_reported_not_overwritten(store: LeaseStore) -> None:
    source = read_lease_file(SAMPLES / "kea-leases4.csv").leases
    other = replace(source[0], client=b"\x01other", hostname="other")
    assert run(store.commit(replace(other), NOW)) is not None
    report = run(copy_leases(source, store, NOW))
    assert not report.ok and len(report.conflicts) == 1
    assert source[0].address_text in report.conflicts[0]
    kept = run(store.get(LeaseKind.V4, source[0].address))
    assert kept is not None and kept.client == b"\x01other"
    assert report.written == len(source) - 1


class ForgetfulStore:
    """A memory store that acknowledges commits of one address but keeps nothing of it."""

    def __init__(self) -> None:
        self.inner = MemoryStore()

    async def commit(self, lease: Lease, now: float) -> Lease | None:
        if lease.address == 0x0A000009:
            return lease
        return await self.inner.commit(lease, now)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_verification_finds_a_lost_record() -> None:
    lease = Lease(address=0x0A000009, client=b"\x01a", state=LeaseState.BOUND, starts=NOW, expires=NOW + 60)
    report = run(
        copy_leases([lease, replace(lease, address=0x0A00000A)], cast(LeaseStore, ForgetfulStore()), NOW)
    )
    assert not report.ok and report.verified == 1 and "10.0.0.9" in report.mismatches[0]


@pytest.mark.parametrize("target", ["sqlite", "memory"])
def test_migrate_sqlite_to_another_store(tmp_path: Path, target: str) -> None:
    source = SqliteStore(tmp_path / "old.db")
    for name in ("dhcpd.leases", "kea-leases6.csv"):
        run(copy_leases(read_lease_file(SAMPLES / name).leases, source, NOW))
    run(source.close())
    old = SqliteStore(tmp_path / "old.db", readonly=True)
    records = run(old.leases())
    run(old.close())
    dest: LeaseStore = SqliteStore(tmp_path / "new.db") if target == "sqlite" else MemoryStore()
    report = run(copy_leases(records, dest, NOW))
    assert report.ok and report.verified == len(records) == 9
    moved = {_key(lease): lease for lease in run(dest.leases())}
    assert all(same(moved.get(_key(r)), r) for r in records)
    run(dest.close())
