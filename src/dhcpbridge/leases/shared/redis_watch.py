"""Other servers' lease changes, through Redis Pub/Sub (the Redis store's ``watch``).

Every change a store function makes to a state with an event (bound, released, declined, and
expired from bound) is published, inside the same atomic call, on the channel
``<prefix>dhcpbridge:changes`` as ``<server id> <record JSON>``. ``watch`` subscribes on a
connection of its own and hands each change another server made to the server's event bus as the
matching ``LeaseEvent`` (``commit``, ``release``, ``decline``, ``expire``), so the CLI, the API and
DNS updates see the whole pool from any server, as with PostgreSQL's LISTEN/NOTIFY. A server whose
listener is the only one subscribed publishes nothing (see ``own_channel``). A lost
connection is opened again with backoff; changes made meanwhile are not replayed (the records stay
the truth).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from redis.exceptions import RedisError

from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.leases.shared.listening import Emit, keep_listening
from dhcpbridge.leases.shared.redis_codec import decode
from dhcpbridge.leases.shared.redis_connect import open_client
from dhcpbridge.leases.shared.redis_url import RedisOptions

EVENTS = {"bound": "commit", "released": "release", "declined": "decline", "expired": "expire"}


def channel(prefix: str) -> str:
    """The channel the store's functions publish changes on."""
    return f"{prefix}dhcpbridge:changes"


def own_channel(prefix: str, me: str) -> str:
    """A channel only server ``me``'s listener subscribes to (nothing is published there): the
    functions publish a change only if ``channel`` has more subscribers than this one, so a lone
    server does not read each of its own changes back (8-35 µs of its CPU per DORA, by the day)."""
    return f"{channel(prefix)}:{me}"


def parse(payload: bytes, me: str) -> LeaseEvent | None:
    """The event of a change another server published; None for ours or noise."""
    try:
        owner, _, raw = payload.decode().partition(" ")
        if owner == me:
            return None
        lease = decode(raw)
    except (ValueError, KeyError, TypeError, OSError):
        return None
    if lease is None:
        return None
    event = EVENTS.get(lease.state.name.lower())
    return LeaseEvent(event, lease) if event is not None else None


async def watch(
    options: RedisOptions, prefix: str, me: str, emit: Emit, ready: asyncio.Event | None = None
) -> None:
    """Forward other servers' changes to ``emit`` until cancelled (see the module docstring);
    ``ready`` is set once subscribed."""

    async def listen(connected: Callable[[], None]) -> None:
        client = open_client(options, connect_timeout=5)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel(prefix), own_channel(prefix, me))  # one command: counted together
            connected()
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    event = parse(message["data"], me)
                    if event is not None:
                        emit(event)
        finally:
            await pubsub.aclose()  # its connection is its own: a stopped listener stays subscribed otherwise
            await client.aclose()

    await keep_listening("Redis", listen, (RedisError, OSError), ready)
