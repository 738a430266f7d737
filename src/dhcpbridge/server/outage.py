"""A lease store outage as the packet path sees it: while store calls (or flushes) raise
``StoreError``, the packets that need the store are dropped (``store-unavailable``, counted by the
endpoint), the outage is logged when it starts, once per ``interval`` while it lasts and when it
ends, and ``failing()`` tells ``/healthz`` (the same shape as ``leases.base.ReportsHealth``).
Nothing has to be restarted: every packet asks the store again, and the first one the store
answers ends the outage (a shared store reconnects by itself)."""

from __future__ import annotations

import time
from typing import Any, Final

from dhcpbridge import logs

LOG_INTERVAL: Final = 10.0
log: Final[Any] = logs.get("dhcpbridge")


class StoreOutage:
    """See the module docstring."""

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        self.interval = interval
        self.since: float | None = None  # monotonic time of the first failure of this outage
        self.failures = 0
        self.outages = 0  # since the start
        self._logged = 0.0

    def failed(self, error: Exception, now: float | None = None) -> None:
        """A store call failed with ``error``."""
        now = time.monotonic() if now is None else now
        self.failures += 1
        if self.since is None:
            self.since = self._logged = now
            self.outages += 1
            log.error("lease store unavailable; no lease is granted until it answers", error=str(error))
        elif now - self._logged >= self.interval:
            self._logged = now
            log.error(
                "lease store still unavailable",
                failures=self.failures,
                for_s=round(now - self.since, 1),
                error=str(error),
            )

    def answered(self, now: float | None = None) -> None:
        """A store call succeeded: the outage, if there was one, is over."""
        if self.since is None:
            return
        now = time.monotonic() if now is None else now
        log.warning("lease store available again", failures=self.failures, after_s=round(now - self.since, 1))
        self.since = None
        self.failures = 0

    def failing(self, now: float | None = None) -> tuple[int, float] | None:
        """(failed calls, seconds since the first) during an outage, else None."""
        if self.since is None:
            return None
        now = time.monotonic() if now is None else now
        return self.failures, now - self.since
