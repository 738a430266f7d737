"""``Later``: a bounded queue filled on the packet path and drained at the event loop's next turn.

The lease event bus (``events.EventBus``) takes items on the hot path without calling anyone: ``push`` appends to a queue and, when no drain
is pending, asks the loop to call ``drain`` soon (after the batch's replies are sent); without a
loop it drains at once. A full queue refuses the item (the caller counts it). Compiled with the
hot path (``_native.py``); interpreted subclasses are allowed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from mypy_extensions import mypyc_attr


@mypyc_attr(allow_interpreted_subclasses=True)
class Later:
    """See the module docstring. Subclasses implement ``drain`` and clear ``_scheduled`` in it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.loop: asyncio.AbstractEventLoop | None = None
        self._scheduled = False

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Drain on ``loop`` from now on (None: drain at once, inside ``push``)."""
        self.loop = loop

    def push(self, queue: deque[Any], item: object) -> bool:
        """Queue ``item`` and have the queues drained soon; False (nothing queued) when full."""
        if len(queue) >= self.limit:
            return False
        queue.append(item)
        if not self._scheduled:
            loop = self.loop
            if loop is None:
                self.drain()
            else:
                self._scheduled = True
                loop.call_soon(self.drain)
        return True

    def drain(self) -> None:
        raise NotImplementedError
