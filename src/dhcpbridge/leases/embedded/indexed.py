"""The ``LeaseStore`` protocol over an in-process ``LeaseIndex`` (shared by memory and SQLite).

Every method completes without suspending, so the server can drive the engine's coroutines to
the end without scheduling a task. Subclasses make changes durable by overriding ``_persist``
(called for each durable change) and ``flush``.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind
from dhcpbridge.leases.base import LeaseQuery
from dhcpbridge.leases.embedded.index import LeaseIndex


@mypyc_attr(allow_interpreted_subclasses=True)  # memory/sqlite stores subclass it
class IndexedStore:
    """Async facade of a ``LeaseIndex``; see ``dhcpbridge.engine.ports.LeaseStore``."""

    def __init__(self) -> None:
        self.index = LeaseIndex(self._persist)
        self.retention = 86400.0
        self.inline = True  # no coroutine here ever suspends (``leases.base.InlineStore``)

    def _persist(self, lease: Lease) -> None:
        return None

    async def get(self, kind: LeaseKind, address: int) -> Lease | None:
        return self.index.get(kind, address)

    async def find_client(self, kind: LeaseKind, client: bytes) -> list[Lease]:
        return self.index.find_client(kind, client)

    async def allocate(self, hold: Hold) -> Lease | None:
        return self.index.allocate(hold.lease, hold.ranges, hold.now, hold.hint, hold.exclude, hold.prefer)

    async def offer(self, lease: Lease, now: float) -> Lease | None:
        return self.index.offer(lease, now)

    async def commit(self, lease: Lease, now: float) -> Lease | None:
        return self.index.commit(lease, now)

    async def release(self, kind: LeaseKind, address: int, client: bytes, now: float) -> Lease | None:
        return self.index.release(kind, address, client, now)

    async def decline(
        self, kind: LeaseKind, address: int, client: bytes, now: float, until: float
    ) -> Lease | None:
        return self.index.decline(kind, address, client, now, until)

    async def find_duid(self, kind: LeaseKind, duid: bytes) -> list[Lease]:
        """Every record of one DUID, all its IAIDs (``engine.v6.leasequery`` reads it when a store has it)."""
        return self.index.find_duid(kind, duid)

    def duid_lease_count(self, duid: bytes, now: float) -> int:
        """Addresses + prefixes one DUID holds now (``engine.v6.lease.CountsDuidLeases``)."""
        return self.index.duid_lease_count(duid, now)

    async def unhold(self, kind: LeaseKind, address: int, client: bytes) -> None:
        self.index.unhold(kind, address, client)

    async def reap(self, now: float) -> list[Lease]:
        expired = self.index.reap(now)
        for lease in self.index.purge(now - self.retention):
            self._forget(lease)
        return expired

    def _forget(self, lease: Lease) -> None:
        return None

    async def leases(self, kind: LeaseKind | None = None) -> list[Lease]:
        return self.index.all(kind)

    async def query(self, query: LeaseQuery) -> list[Lease]:
        """One page of records (``leases.base.QueriesLeases``), walked off the index's address
        order from the cursor ``after`` (an ``offset`` is walked past, records one by one)."""
        index = self.index
        out: list[Lease] = []
        want = -1 if query.limit is None else query.offset + query.limit
        after_kind, after_addr = query.after if query.after is not None else (0, -1)
        for kind in LeaseKind:
            if (query.kind is not None and kind != query.kind) or kind < after_kind:
                continue
            start = after_addr if kind == after_kind else -1
            room = len(index.by_addr[kind]) if want < 0 else want - len(out)
            if room > 0:
                out += index.page(kind, start, room, query.state)
        return out[query.offset :]

    def count_by_state(self) -> dict[str, int]:
        """Lease records per ``{kind}_{state}`` (``leases.base.CountsLeases``), kept by the index."""
        return self.index.counts()

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        await self.flush()
