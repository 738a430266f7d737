"""Other servers' lease changes, through PostgreSQL's LISTEN/NOTIFY.

Every group commit (``PostgresStore.flush``) sends one notification per changed row on the
channel ``dhcpbridge_leases`` (delivered at COMMIT, so only changes that are durable): the writing
server, the kind, the address and the new state. ``watch`` listens on a connection of its own,
reads the lease of each change another server made and hands it to the server's event bus as the
matching ``LeaseEvent`` (``commit``, ``release``, ``decline``, ``expire``), so listeners see the
whole pool from any server. A lost connection is opened again with backoff (changes made
meanwhile are not replayed: the table stays the truth).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind
from dhcpbridge.leases.addresses import addr_int
from dhcpbridge.leases.shared import pg_sql as q
from dhcpbridge.leases.shared.listening import Emit, keep_listening

CHANNEL = "dhcpbridge_leases"
EVENTS = {"bound": "commit", "released": "release", "declined": "decline", "expired": "expire"}


def parse(payload: str, me: str) -> tuple[str, LeaseKind, int] | None:
    """(event, kind, address) of a notification another server sent; None for ours or noise."""
    try:
        data: dict[str, Any] = json.loads(payload)
        if data["o"] == me:
            return None
        event = EVENTS.get(data["s"])
        kind = q.TEXT_KIND[data["k"]]
        if event is None:
            return None
        return event, kind, addr_int(kind, data["a"])
    except (ValueError, KeyError, TypeError, OSError):
        return None


Getter = Callable[[LeaseKind, int], Awaitable[Lease | None]]


async def watch(url: str, me: str, get: Getter, emit: Emit, ready: asyncio.Event | None = None) -> None:
    """Forward other servers' changes to ``emit`` until cancelled (see the module docstring);
    ``ready`` is set once listening."""

    async def listen(connected: Callable[[], None]) -> None:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=5) as conn:
            await conn.execute(f"LISTEN {CHANNEL}".encode())
            connected()
            async for note in conn.notifies():
                change = parse(note.payload, me)
                if change is None:
                    continue
                event, kind, address = change
                lease = await get(kind, address)
                if lease is not None and EVENTS.get(lease.state.name.lower()) == event:
                    emit(LeaseEvent(event, lease))

    await keep_listening("PostgreSQL", listen, (psycopg.Error, OSError), ready)
