"""A shared-store double for the server tests: an in-memory store (delegated to) that says it is
shared and not inline (so the server runs packets as tasks, as on Redis or PostgreSQL), whose
every call raises ``StoreError`` while ``fail`` is set, and whose ``watch(emit)`` hands on what a
test puts into ``changes`` (other servers' events)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.leases.registry import Backend, register

CALLS = frozenset(
    {
        "get",
        "find_client",
        "allocate",
        "offer",
        "commit",
        "release",
        "decline",
        "unhold",
        "reap",
        "leases",
        "flush",
    }
)
OPENED: list[FlakySharedStore] = []  # every store the backend opened in this process


class FlakySharedStore:
    """See the module docstring."""

    inline = False

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.fail = False
        self.failed_calls = 0
        self.changes: asyncio.Queue[LeaseEvent | StoreError | None] = asyncio.Queue()
        self.watching = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name not in CALLS:
            return attr
        return self._guarded(attr)

    def _guarded(self, call: Callable[..., Any]) -> Callable[..., Any]:
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            if self.fail:
                self.failed_calls += 1
                raise StoreError("connection refused (test outage)")
            return await call(*args, **kwargs)

        return guarded

    async def claim_role(self, role: str, owner: str, ttl: float) -> bool:
        if self.fail:
            raise StoreError("connection refused (test outage)")
        return True

    async def watch(self, emit: Callable[[LeaseEvent], None]) -> None:
        """Hands the queued events to ``emit`` (``WatchesChanges``); None ends; a queued
        ``StoreError`` is a lost feed, which a real store reconnects: skipped here."""
        self.watching += 1
        while True:
            item = await self.changes.get()
            if item is None:
                return
            if not isinstance(item, StoreError):
                emit(item)

    async def close(self) -> None:
        await self.inner.close()


def _open(url: str, base_dir: Path | None, readonly: bool) -> LeaseStore:
    store = FlakySharedStore()
    OPENED.append(store)
    return cast(LeaseStore, store)


def register_flaky() -> None:
    register("flaky-shared", Backend("flaky-shared://", _open))
