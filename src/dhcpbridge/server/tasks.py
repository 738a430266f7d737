"""The one owner of the server's asyncio tasks: short ones (a packet that needs IO, a reload, a
shared flush) and long-running ones (the reaper, the saver). ``close`` gives the short ones a
moment to finish and cancels the long-running ones, so no task outlives the server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class TaskOwner:
    """See the module docstring; ``bind`` it to the running loop before ``spawn``."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._daemons: list[asyncio.Task[Any]] = []

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` as a task that ``close`` waits for."""
        assert self.loop is not None
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def daemon(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` (a loop that never ends by itself) until ``close`` cancels it."""
        assert self.loop is not None
        self._daemons.append(self.loop.create_task(coro))

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def close(self, timeout: float = 2.0) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        daemons, self._daemons = self._daemons, []
        for task in daemons:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
