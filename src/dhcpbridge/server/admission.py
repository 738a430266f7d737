"""How many packets may wait for IO at once (packets that run as tasks: an async store, a bridge
source): as many as the server finished in the last ``TARGET`` seconds, at least ``FLOOR``, at
most ``[limits] max-pending``.

By Little's law the packets waiting divided by the rate they finish at is how long each waits;
bounding them to a share of the recent rate bounds the wait. Without this bound an overloaded
server admitted ``max-pending`` (4,096) packets at once, each waited seconds, and every answer
came too late for its client (perfdhcp counts answers after a second as lost, a real client has
retransmitted by then): at 40,000 DISCOVERs/s offered the PostgreSQL store completed 64 DORA/s.
With it the packets beyond the bound are dropped at once (``overload``, before any work), and the
ones admitted are answered in time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

TARGET: Final = 0.5  # seconds of the recent finishing rate that may wait
FLOOR: Final = 256  # packets that may always wait (start-up, a quiet server)
WINDOW: Final = 1.0  # seconds over which the finishing rate is counted


class Admission:
    """See the module docstring: ``limit`` is the bound now; ``finished`` counts one packet."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.limit = FLOOR
        self._since = clock()
        self._finished = 0

    def finished(self) -> None:
        self._finished += 1
        now = self.clock()
        elapsed = now - self._since
        if elapsed >= WINDOW:
            self.limit = max(FLOOR, int(self._finished / elapsed * TARGET))
            self._since, self._finished = now, 0
