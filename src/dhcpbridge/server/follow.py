"""Other servers' lease changes into this server's event bus: on a store that can be watched
(``leases.base.WatchesChanges``), one task follows the store's change feed and emits each event
it gets, so listeners (the lease log, DNS updates, the looking glass) see the whole pool from any
server. A lost feed is followed again with backoff (1 s doubling to 30 s)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dhcpbridge import logs
from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.leases.base import StoreError, WatchesChanges

BACKOFF_MAX = 30.0
log = logs.get("dhcpbridge")


async def follow_store(
    store: WatchesChanges, emit: Callable[[LeaseEvent], None], backoff: float = 1.0
) -> None:
    """Emit every event of ``store.watch()`` until the feed ends (the store closed); on
    ``StoreError`` wait and watch again."""
    wait = backoff
    while True:
        try:
            async for event in store.watch():
                emit(event)
                wait = backoff
            return
        except StoreError as exc:
            log.warning("lease change feed lost; following again", error=str(exc), retry_s=wait)
        await asyncio.sleep(wait)
        wait = min(wait * 2, BACKOFF_MAX)
