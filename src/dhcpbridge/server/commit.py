"""Group commit: replies that grant leases leave only after one ``flush`` of the store made their
leases durable, and one flush serves many packets.

Inline endpoints hand each batch's waiting replies to ``commit_later``; packets that run as tasks
await ``flush_shared``, one flush for everything that reaches it in the same loop turn. A failed
flush withholds the replies (counted as ``store-unavailable`` drops by the endpoint) and is
reported to ``outage`` (``server.outage``: logged once per interval, not once per flush; a
successful flush ends the outage).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Final, Protocol

from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases.base import StoreError
from dhcpbridge.server.outage import StoreOutage
from dhcpbridge.server.tasks import TaskOwner

GROUP_COMMIT: Final = 0.0005  # seconds: under load, at most one store flush per this interval
BUSY_PPS: Final = 8000  # packets a second above which commits are grouped (below: each batch at once)


class Finisher(Protocol):
    """What waits for a commit: an endpoint, which sends (or withholds) the replies."""

    stats: Stats

    def finish(self, outcome: Any, meta: Any, now: float, committed: bool) -> None: ...


class GroupCommit:
    """See the module docstring."""

    def __init__(self, store: LeaseStore, loop: asyncio.AbstractEventLoop, tasks: TaskOwner) -> None:
        self.store = store
        self.loop = loop
        self.tasks = tasks
        self._waiting: list[tuple[Finisher, list[tuple[Any, Any]]]] = []
        self._commit_timer: asyncio.TimerHandle | None = None
        self._last_commit = 0.0
        self._window_start = 0.0
        self._window_packets = 0
        self._busy = False
        self._flush_waiters: list[asyncio.Future[None]] = []
        self._flush_scheduled = False
        self.outage = StoreOutage()

    def commit_later(self, endpoint: Finisher, waiting: list[tuple[Any, Any]], packets: int) -> None:
        """Group commit: replies that grant leases wait for one flush of the store. While the
        server is lightly loaded (fewer than ``BUSY_PPS`` packets a second) every batch is
        committed at once, so nothing waits. Under load, a flush runs at most every
        ``GROUP_COMMIT`` seconds: at the first socket read after that, or by a 1 ms timer when
        nothing else arrives (event-loop timers have millisecond resolution) — so one journal
        write carries the leases of many packets."""
        now = time.monotonic()
        if now - self._window_start >= 0.01:
            self._busy = self._window_packets >= BUSY_PPS * (now - self._window_start)
            self._window_start, self._window_packets = now, 0
        self._window_packets += packets
        if waiting:
            self._waiting.append((endpoint, waiting))
        if not self._waiting:
            return
        if not self._busy or now - self._last_commit >= GROUP_COMMIT:
            if self._commit_timer is not None:
                self._commit_timer.cancel()
            self._commit_now()
        elif self._commit_timer is None:
            self._commit_timer = self.loop.call_later(0.001, self._commit_now)

    def _commit_now(self) -> None:
        self._commit_timer = None
        self._last_commit = time.monotonic()
        groups, self._waiting = self._waiting, []
        if not groups:
            return
        committed = self.flush_inline(groups[0][0].stats)
        now = time.time()
        for endpoint, waiting in groups:
            for outcome, meta in waiting:
                endpoint.finish(outcome, meta, now, committed)

    def close(self) -> None:
        """Replies still waiting for a group commit: commit, send."""
        if self._commit_timer is not None:
            self._commit_timer.cancel()
            self._commit_now()

    def flush_inline(self, stats: Stats) -> bool:
        """Flush a store that never suspends; False (counted, logged) when the flush failed."""
        try:
            run_inline(self.store.flush())
        except StoreError as exc:
            stats.errors["store"] += 1
            self.outage.failed(exc)
            return False
        if self.outage.since is not None:
            self.outage.answered()
        return True

    async def flush_shared(self, stats: Stats) -> bool:
        """Flush once for every packet that reaches this point in the same loop turn."""
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._flush_waiters.append(waiter)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.tasks.spawn, self._flush_now(stats))
        try:
            await waiter
        except StoreError:
            return False
        return True

    async def _flush_now(self, stats: Stats) -> None:
        self._flush_scheduled = False
        waiters, self._flush_waiters = self._flush_waiters, []
        try:
            await self.store.flush()
        except StoreError as exc:
            stats.errors["store"] += 1
            self.outage.failed(exc)
            for w in waiters:
                if not w.done():
                    w.set_exception(exc)
            return
        if self.outage.since is not None:
            self.outage.answered()
        for w in waiters:
            if not w.done():
                w.set_result(None)
