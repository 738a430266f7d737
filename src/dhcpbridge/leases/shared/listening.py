"""The reconnect loop of the shared stores' change listeners (``pg_notify``, ``redis_watch``):
listen on a connection of one's own until it is lost, then again after a pause that doubles up to
a bound (and starts small again once a connection is up), until cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from dhcpbridge import logs
from dhcpbridge.engine.model import LeaseEvent

log = logs.get("dhcpbridge.leases")

Listen = Callable[[Callable[[], None]], Awaitable[None]]
Emit = Callable[[LeaseEvent], None]  # where a listener hands other servers' changes


async def keep_listening(
    what: str,
    listen: Listen,
    lost: tuple[type[BaseException], ...],
    ready: asyncio.Event | None = None,
    backoff: float = 0.5,
    max_backoff: float = 10.0,
) -> None:
    """Run ``listen(connected)`` again and again until cancelled; ``listen`` calls ``connected()``
    once subscribed, which sets ``ready``. ``lost``: the errors of a lost connection (any other is
    logged as a failure, say a store call of the listener's, and listening goes on all the same)."""
    delay = backoff

    def connected() -> None:
        nonlocal delay
        delay = backoff
        if ready is not None:
            ready.set()

    while True:
        try:
            await listen(connected)
        except lost as exc:
            log.warning(f"{what} change listener lost its connection; retrying", error=str(exc).strip())
        except Exception as exc:
            log.warning(f"{what} change listener failed; retrying", error=str(exc).strip())
        await asyncio.sleep(delay)
        delay = min(max_backoff, delay * 2)
