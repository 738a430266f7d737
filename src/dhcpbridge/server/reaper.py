"""The server's periodic lease work: the reaper expires leases whose time is up (and emits an
``expire`` event for each), the saver keeps an embedded store's file current on a quiet server."""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import time
from collections.abc import Callable

from dhcpbridge import logs
from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases.base import SharedStore, StoreError, is_inline

SAVE_INTERVAL = 1.0
log = logs.get("dhcpbridge")


async def reap_once(store: LeaseStore, stats: Stats, emit: Callable[[LeaseEvent], None]) -> int:
    """Expire what is due, make it durable, emit the expiries; returns how many expired."""
    try:
        expired = await store.reap(time.time())
        await store.flush()
    except StoreError as exc:
        stats.errors["store"] += 1
        log.error("lease store error while expiring leases", error=str(exc))
        return 0
    gc.freeze()  # survivors of the pass stay out of later collections (see ``tune_gc``)
    if expired:
        log.info("leases expired", count=len(expired))
        for lease in expired:
            emit(LeaseEvent("expire", lease))
    return len(expired)


async def holds_reaper_role(store: object, owner: str, interval: float) -> bool:
    """On a shared store only the server holding the ``reaper`` role reaps (the claim lasts three
    intervals, so a dead server's role passes to another); an embedded store is always ours."""
    if not isinstance(store, SharedStore):
        return True
    try:
        return await store.claim_role("reaper", owner, 3 * interval)
    except StoreError as exc:
        log.warning("cannot claim the reaper role", error=str(exc))
        return False


async def reap_forever(
    store: LeaseStore,
    interval: Callable[[], float],
    stats: Stats,
    emit: Callable[[LeaseEvent], None],
    owner: str = "",
) -> None:
    """``reap_once`` every ``interval()`` seconds (read each time: a reload may change it), when
    this server (``owner``, unique per process) holds the reaper role of a shared store."""
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    while True:
        every = interval()
        await asyncio.sleep(every)
        if await holds_reaper_role(store, owner, every):
            await reap_once(store, stats, emit)


async def save_forever(store: LeaseStore, flush_inline: Callable[[], bool]) -> None:
    """A quiet server still moves journaled leases into the SQLite file (a flush with nothing
    pending only does that), so the file is never more than a couple of seconds behind."""
    while True:
        await asyncio.sleep(SAVE_INTERVAL)
        if not is_inline(store):
            return  # a shared store has no checkpoint to drive
        try:
            flush_inline()
        except Exception:  # a bug must not end the saver silently
            log.exception("periodic lease store flush failed")
