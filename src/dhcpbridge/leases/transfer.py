"""Copy lease records into any lease store through the ``LeaseStore`` protocol only: for
``dhcpbridge leases import`` (records read from another server's lease file) and ``dhcpbridge
leases migrate`` (records of one store URL into another).

How each record is written (no store-specific call, so Redis and PostgreSQL stores work as they
register): BOUND -> ``commit``; DECLINED -> ``commit`` then ``decline`` until its end; RELEASED
and EXPIRED -> ``commit`` then ``release`` at its end, so the address is free but remembered for
its client (the protocol has no call that writes an EXPIRED record; both states mean "free").
OFFERED holds are not durable and are skipped.

Resumable: a record whose address already holds the same client, state and end is skipped, so a
copy that was interrupted (the store is flushed every ``batch`` records) can simply be run again.
An address that another client holds in the destination is a conflict: reported, not overwritten.
At the end every written or skipped record is read back and compared (``verify``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases.base import StoreError, count_key

_FREE = (LeaseState.RELEASED, LeaseState.EXPIRED)


@dataclass
class Transfer:
    """What a copy did: records read, written, already there, in conflict, not copied."""

    read: int = 0
    written: int = 0
    present: int = 0  # already in the destination (a resumed copy)
    skipped: int = 0  # OFFERED holds (not durable)
    conflicts: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # copied records per kind_state (expected)
    verified: int = 0

    @property
    def ok(self) -> bool:
        return not self.conflicts and not self.mismatches

    def summary(self) -> str:
        return (
            f"{self.read} read, {self.written} written, {self.present} already there, "
            f"{self.skipped} offers skipped, {len(self.conflicts)} conflict(s); "
            f"verified {self.verified} of {self.written + self.present}"
        )


def expected(lease: Lease) -> Lease:
    """The record ``lease`` becomes in the destination (see the module docstring)."""
    if lease.state in _FREE:
        return replace(lease, state=LeaseState.RELEASED)
    if lease.state == LeaseState.DECLINED:
        return replace(lease, hostname="")
    return lease


def same(have: Lease | None, want: Lease) -> bool:
    """Whether the destination's record ``have`` is the copy of ``want`` (its expected form)."""
    return (
        have is not None
        and have.client == want.client
        and have.state == want.state
        and int(have.expires) == int(want.expires)
        and have.prefix_len == want.prefix_len
    )


def _describe(lease: Lease) -> str:
    return f"{lease.kind.name.lower()} {lease.address_text} ({lease.client.hex(':')})"


async def _write(store: LeaseStore, lease: Lease, now: float) -> Lease | None:
    """Write one record through the protocol; None when the store refused it."""
    bound = await store.commit(replace(lease, state=LeaseState.BOUND), now)
    if bound is None or lease.state == LeaseState.BOUND:
        return bound
    if lease.state == LeaseState.DECLINED:
        at = min(lease.starts, lease.expires - 1)
        return await store.decline(lease.kind, lease.address, lease.client, at, lease.expires)
    return await store.release(lease.kind, lease.address, lease.client, lease.expires)


async def copy_leases(
    leases: Iterable[Lease],
    dest: LeaseStore,
    now: float,
    *,
    batch: int = 500,
    progress: Callable[[int], None] | None = None,
) -> Transfer:
    """Copy ``leases`` into ``dest`` (flushed every ``batch`` records), then verify them."""
    report = Transfer()
    copied: list[Lease] = []
    pending = 0
    for lease in leases:
        report.read += 1
        if lease.state == LeaseState.OFFERED:
            report.skipped += 1
            continue
        want = expected(lease)
        have = await dest.get(lease.kind, lease.address)
        if same(have, want):
            report.present += 1
            copied.append(want)
        elif have is not None and not have.is_free_for(lease.client, now):
            report.conflicts.append(
                f"{_describe(lease)}: the destination holds it for {have.client.hex(':')}"
            )
        elif await _write(dest, lease, now) is None:
            report.conflicts.append(f"{_describe(lease)}: the destination refused it")
        else:
            report.written += 1
            copied.append(want)
            pending += 1
            if pending >= batch:
                await dest.flush()
                pending = 0
        if progress is not None:
            progress(report.read)
    await dest.flush()
    for want in copied:
        key = count_key(want)
        report.counts[key] = report.counts.get(key, 0) + 1
        if same(await dest.get(want.kind, want.address), want):
            report.verified += 1
        else:
            report.mismatches.append(f"{_describe(want)}: not as copied in the destination")
    return report


async def read_store(url: str, base_dir: str | None) -> list[Lease]:
    """Every durable record of the store at ``url`` (opened read-only)."""
    from dhcpbridge.leases.registry import open_store

    store = open_store(url, base_dir, readonly=True)
    try:
        return [lease for lease in await store.leases() if lease.state != LeaseState.OFFERED]
    finally:
        await store.close()


__all__ = ["StoreError", "Transfer", "copy_leases", "expected", "read_store", "same"]
