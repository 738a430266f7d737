"""``[leases] store = "none"``: a lease store that keeps nothing (bridge-only mode, where the
answer service is the whole truth). Offers and commits succeed as asked, so every client gets
what its answer says; lookups find nothing, so a renewal is answered from a fresh (or cached)
answer, and a RELEASE or DECLINE has nothing to free. Nothing is durable and nothing expires."""

from __future__ import annotations

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind


class NoStore:
    """``engine.ports.LeaseStore`` that remembers nothing (see the module docstring)."""

    inline = True  # no coroutine ever suspends: the server runs packets inline

    def __init__(self) -> None:
        self.retention = 0.0

    async def get(self, kind: LeaseKind, address: int) -> Lease | None:
        return None

    async def find_client(self, kind: LeaseKind, client: bytes) -> list[Lease]:
        return []

    async def allocate(self, hold: Hold) -> Lease | None:
        return None  # no pools to remember what is taken: only answered addresses are handed out

    async def offer(self, lease: Lease, now: float) -> Lease | None:
        return lease

    async def commit(self, lease: Lease, now: float) -> Lease | None:
        return lease

    async def release(self, kind: LeaseKind, address: int, client: bytes, now: float) -> Lease | None:
        return None

    async def decline(
        self, kind: LeaseKind, address: int, client: bytes, now: float, until: float
    ) -> Lease | None:
        return None

    async def unhold(self, kind: LeaseKind, address: int, client: bytes) -> None:
        return None

    async def reap(self, now: float) -> list[Lease]:
        return []

    async def leases(self, kind: LeaseKind | None = None) -> list[Lease]:
        return []

    async def flush(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def count_by_state(self) -> dict[str, int]:
        return {}
