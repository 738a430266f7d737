"""The PostgreSQL store's statement pump: the one place where batched calls wait for their
statement, so that the batches grow with the load instead of the number of statements.

A ``Pump`` runs at most one statement at a time. A call queued while none runs starts one at the
end of the current event-loop turn (the rest of the turn joins it); a call queued while one runs
waits for it and goes, with every other call queued meanwhile, in the next. So a lightly loaded
server pays one round trip per call, and a busy one pays one statement per round trip of
PostgreSQL whatever the packet rate: the statements per exchange fall as the load rises, and no
call waits in the connection pool's queue (which refuses calls beyond its bound: under load that
dropped packets as ``store-unavailable`` although PostgreSQL was up). A batch's calls are split
into ``rounds`` only where one statement may not take them all.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Generic, Protocol, TypeVar

from dhcpbridge.leases.base import StoreError


class Keyed(Protocol):
    """A queued call: what one statement may take once (two keys), and the future it waits on."""

    @property
    def keys(self) -> tuple[object, object]: ...

    @property
    def future(self) -> asyncio.Future[Any]: ...


K = TypeVar("K", bound=Keyed)


NOW_SLACK = 0.25  # seconds: calls whose ``now``s differ by at most this share a statement


def rounds(calls: list[tuple[float, K]]) -> list[tuple[float, list[K]]]:
    """The statements a batch's calls need, in order, each with its ``now``: calls whose ``now``s
    lie within ``NOW_SLACK`` of each other share one, decided at the latest of them (a lease that
    ran out meanwhile is free: the statement runs later still); a further one for each second
    bind of an address or of a client in the batch (a statement changes a row once, and reads a
    client's other records as they were before it)."""
    out: list[list[Any]] = []  # [now, first now, taken keys, members]
    for now, call in calls:
        address, client = call.keys
        for entry in out:
            taken: set[object] = entry[2]
            if abs(now - entry[1]) <= NOW_SLACK and address not in taken and client not in taken:
                taken.update((address, client))
                entry[3].append(call)
                entry[0] = max(entry[0], now)
                break
        else:
            out.append([now, now, {address, client}, [call]])
    return [(entry[0], entry[3]) for entry in out]


class Pump(Generic[K]):
    """See the module docstring; a subclass runs one round as ``_statement`` and resolves (or
    fails) each call's future."""

    def __init__(self) -> None:
        self._queue: list[tuple[float, K]] = []
        self._running: asyncio.Task[None] | None = None
        self._scheduled = False
        self.statements = 0  # batch statements PostgreSQL ran
        self.largest = 0  # most calls in one batch

    async def _wait(self, now: float, call: K) -> Any:
        """Queue ``call`` for the next statement and wait for its result."""
        self._queue.append((now, call))
        if self._running is None and not self._scheduled:
            self._scheduled = True
            loop = asyncio.get_running_loop()
            loop.call_soon(self._start, loop)  # the rest of this loop turn joins the statement
        return await call.future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        if self._running is None and self._queue:
            self._running = loop.create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while self._queue:  # what came while a statement ran goes in the next, all of it
                batch, self._queue = self._queue, []
                self.largest = max(self.largest, len(batch))
                try:
                    for now, calls in rounds(batch):
                        await self._statement(now, calls)
                except BaseException as exc:  # cancelled while closing: nobody may wait forever
                    for _, call in batch + self._queue:
                        if not call.future.done():
                            call.future.set_exception(StoreError(f"PostgreSQL: {exc!r}"))
                    self._queue = []
                    raise
        finally:
            self._running = None

    async def _statement(self, now: float, calls: list[K]) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Wait for the statements of the calls queued so far."""
        while self._running is not None or self._scheduled:
            if self._running is None:
                await asyncio.sleep(0)  # the scheduled start runs first
                continue
            with contextlib.suppress(BaseException):
                await self._running
