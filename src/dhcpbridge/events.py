"""The lease event bus: the packet path hands lease changes over, listeners get them later.

``emit`` (on the hot path) only appends the event to one bounded queue and, when the queue was
empty, asks the loop to drain it at its next turn, after the batch's replies are sent: no task
and no listener call per packet. When the queue is full the event is dropped, counted in
``overflow`` and logged at most once per ``OVERFLOW_LOG_WINDOW``; the packet path never waits.
The drain calls every listener for each event in order; a listener that raises is counted and
logged and the others still get the event. Delivered events leave the queue, so the bus holds
no transaction (``LeaseEvent.query``) past its delivery.

Changes other servers made to a shared store (its ``watch``) come in through ``emit_remote``
and reach only the listeners that ask for that kind (a ``remote_events`` attribute: a set of
event names; none when absent): another server's commit is that server's to announce (its DNS
update, its bridge's on-commit call), but a DNS updater must hear of the release or expiry of a
name it published, whoever saw it go.

The bus belongs to the server, not to a config: listeners stay across reloads; sources that
want events subscribe when adopted and unsubscribe when a reload replaces them.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any, Final

from dhcpbridge import logs
from dhcpbridge.engine.model import LeaseEvent, LeaseState
from dhcpbridge.engine.ports import LeaseListener
from dhcpbridge.later import Later

QUEUE_LIMIT: Final = 65536  # events waiting for delivery; more are dropped and counted
OVERFLOW_LOG_WINDOW: Final = 10.0
log: Final[Any] = logs.get("dhcpbridge")


class EventBus(Later):
    """See the module docstring."""

    def __init__(self, limit: int = QUEUE_LIMIT) -> None:
        super().__init__(limit)
        self.listeners: list[LeaseListener] = []
        self.delivered = 0
        self.overflow = 0
        self.failures = 0
        self._queue: deque[LeaseEvent] = deque()
        self._remote: deque[LeaseEvent] = deque()
        self._overflow_logged = -OVERFLOW_LOG_WINDOW
        self._overflow_unlogged = 0

    def subscribe(self, listener: LeaseListener) -> None:
        if listener not in self.listeners:
            self.listeners.append(listener)

    def unsubscribe(self, listener: LeaseListener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def emit(self, event: LeaseEvent) -> None:
        """Queue ``event`` for the listeners; never blocks, never calls a listener."""
        if not self.push(self._queue, event):
            self._overflowed()

    def emit_remote(self, event: LeaseEvent) -> None:
        """Queue a change another server made (see the module docstring); never blocks."""
        if not self.push(self._remote, event):
            self._overflowed()

    def drain(self) -> None:
        """Deliver every queued event to every listener, oldest first (then the remote ones)."""
        self._scheduled = False
        queue = self._queue
        listeners = tuple(self.listeners)
        while queue:
            self._deliver(queue.popleft(), listeners)
        remote = self._remote
        while remote:
            event = remote.popleft()
            wanting = tuple(
                listener for listener in listeners if event.event in getattr(listener, "remote_events", ())
            )
            self._deliver(event, wanting)

    def _deliver(self, event: LeaseEvent, listeners: tuple[LeaseListener, ...]) -> None:
        for listener in listeners:
            try:
                listener.notify(event)
            except Exception:
                self.failures += 1
                log.exception("lease event listener failed", listener=repr(listener))
        self.delivered += 1

    def close(self) -> None:
        """Deliver what is still queued (the server is stopping)."""
        self.drain()

    def stats(self) -> dict[str, int]:
        return {
            "queued": len(self._queue) + len(self._remote),
            "delivered": self.delivered,
            "overflow": self.overflow,
            "listener_failures": self.failures,
        }

    def _overflowed(self) -> None:
        self.overflow += 1
        self._overflow_unlogged += 1
        now = time.monotonic()
        if now - self._overflow_logged >= OVERFLOW_LOG_WINDOW:
            log.warning(
                "lease event queue full; events dropped",
                dropped=self._overflow_unlogged,
                total=self.overflow,
                limit=self.limit,
            )
            self._overflow_logged = now
            self._overflow_unlogged = 0


class LeaseLog:
    """Listener that logs lease changes: all at debug level; at info level all but renewals
    (a commit of a BOUND lease)."""

    def notify(self, event: LeaseEvent) -> None:
        lease = event.lease
        if logs.debug_enabled():
            log.debug("lease", change=event.event, **lease.as_dict())
        elif (event.event != "commit" or lease.state != LeaseState.BOUND) and logs.limited("lease"):
            log.info("lease", change=event.event, address=lease.address_text, client=lease.client.hex(":"))

    def __repr__(self) -> str:
        return "LeaseLog()"
