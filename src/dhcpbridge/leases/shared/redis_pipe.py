"""The Redis store's pipelines on the wire: a batch of commands packed by hiredis into one write,
the replies read back by one ``hiredis.Reader``, on a connection redis-py opened.

redis-py does what it is good at — connecting, the handshake (``AUTH``, ``SELECT``), TLS, the
master that Sentinel names — and its pipeline does much more per command than the store needs
(an encoder and a response callback per command, a timeout per reply, observability hooks). Here a
command costs one ``pack_command`` and one parsed reply, both in C: the server's CPU per DORA on
Redis went from 224 to 177 µs with this alone (``bench/micro_server.py --redis``, 2026-12-07).

Replies come back in order; an error reply is a ``ResponseError`` value in its place, never raised.
A connection that fails is dropped. When it was closed (a restart, a protocol error, or
``READONLY``: the master became a replica, and the next connection asks Sentinel again) the batch is
sent once more on a new connection, as redis-py's ``Retry(NoBackoff(), 1)`` did; a second failure
raises ``ConnectionError``. A timeout raises ``TimeoutError`` at once: Redis may still be running
the batch, so it is never sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

READ_SIZE = 1 << 16
_MORE = object()  # what the reader gives while a reply is incomplete (``False`` is a RESP3 reply)


class RedisPipe:
    """See the module docstring: ``execute`` sends a batch on a connection of its own, made by
    ``client``'s connection pool (so with its address, credentials, TLS or Sentinel) and kept
    open between batches: taking one from the pool and giving it back cost as much CPU as a
    small batch."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._conn: AbstractConnection | None = None

    async def execute(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        data = b"".join([hiredis.pack_command(tuple(args)) for args in commands])
        try:
            return await self._once(data, len(commands))
        except RedisConnectionError:  # closed (a restart, a failover): once more, on a new one
            return await self._once(data, len(commands))

    async def _once(self, data: bytes, count: int) -> list[Any]:
        conn = self._conn
        if conn is None:
            conn = self._conn = self.client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        try:
            if not conn.is_connected:
                await conn.connect()  # the handshake, or for Sentinel: ask for the master first
            reader, writer = conn._reader, conn._writer  # set by ``connect``: the open stream
            if reader is None or writer is None:
                raise RedisConnectionError("redis: the connection is not open")
            async with asyncio.timeout(conn.socket_timeout):
                writer.write(data)
                replies = await _read(reader, count)
            for reply in replies:
                if isinstance(reply, ResponseError) and str(reply).startswith("READONLY"):
                    raise RedisConnectionError("redis: the master is now a replica")
        except TimeoutError as exc:  # Redis may still be running the batch: never sent twice
            await conn.disconnect(nowait=True)
            raise RedisTimeoutError(f"redis: no reply within {conn.socket_timeout} s") from exc
        except (RedisConnectionError, OSError, hiredis.ProtocolError) as exc:
            await conn.disconnect(nowait=True)
            if isinstance(exc, RedisConnectionError):
                raise
            raise RedisConnectionError(f"redis: {exc or type(exc).__name__}") from exc
        except BaseException:  # cancelled: the rest of the replies are still on the socket
            await conn.disconnect(nowait=True)
            raise
        return replies

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.disconnect()


async def _read(reader: asyncio.StreamReader, count: int) -> list[Any]:
    """``count`` replies from ``reader``."""
    parser = hiredis.Reader(replyError=ResponseError, notEnoughData=_MORE)
    replies: list[Any] = []
    while len(replies) < count:
        chunk = await reader.read(READ_SIZE)
        if not chunk:
            raise RedisConnectionError("redis: connection closed by the server")
        parser.feed(chunk)
        while len(replies) < count:
            reply = parser.gets()
            if reply is _MORE:
                break
            replies.append(reply)
    return replies
