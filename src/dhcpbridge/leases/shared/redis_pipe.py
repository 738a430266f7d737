"""The Redis store's pipelines on the wire: a batch of commands packed by hiredis into one write,
the replies parsed by one ``hiredis.Reader`` as they arrive, on a connection redis-py opened.

redis-py does what it is good at — connecting, the handshake (``AUTH``, ``SELECT``), TLS, the
master that Sentinel names — and its pipeline does much more per command than the store needs
(an encoder and a response callback per command, a timeout per reply, observability hooks). Here a
command costs one ``pack_command`` and one parsed reply, both in C: the server's CPU per DORA on
Redis went from 224 to 177 µs with this alone (``bench/micro_server.py --redis``, 2026-12-07).
Once connected, the transport's protocol is ``_Replies`` instead of redis-py's stream reader (no
read call and no stream buffer per batch): a one-command round trip costs 65 µs of CPU instead of
80 (uvloop, this VM; most of the rest is the kernel's).

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

_MORE = object()  # what the reader gives while a reply is incomplete (``False`` is a RESP3 reply)


class RedisPipe:
    """See the module docstring: ``execute`` sends a batch on a connection of its own, made by
    ``client``'s connection pool (so with its address, credentials, TLS or Sentinel) and kept
    open between batches: taking one from the pool and giving it back cost as much CPU as a
    small batch."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._conn: AbstractConnection | None = None
        self._replies: _Replies | None = None  # the protocol of the connection's transport

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
            replies = await self._exchange(conn, data, count)
            for reply in replies:
                if isinstance(reply, ResponseError) and str(reply).startswith("READONLY"):
                    raise RedisConnectionError("redis: the master is now a replica")
        except TimeoutError as exc:  # Redis may still be running the batch: never sent twice
            await self._drop(conn)
            raise RedisTimeoutError(f"redis: no reply within {conn.socket_timeout} s") from exc
        except (RedisConnectionError, OSError) as exc:
            await self._drop(conn)
            if isinstance(exc, RedisConnectionError):
                raise
            raise RedisConnectionError(f"redis: {exc or type(exc).__name__}") from exc
        except BaseException:  # cancelled: the rest of the replies are still on the socket
            await self._drop(conn)
            raise
        return replies

    async def _exchange(self, conn: AbstractConnection, data: bytes, count: int) -> list[Any]:
        if not conn.is_connected:
            await conn.connect()  # type: ignore[no-untyped-call]  # the handshake, or Sentinel first
        writer = conn._writer  # set by ``connect``: the open stream
        if writer is None:
            raise RedisConnectionError("redis: the connection is not open")
        transport = writer.transport
        replies = self._replies
        if replies is None or replies.transport is not transport:
            # from now on the replies go to ``_Replies``, not to redis-py's stream reader (which
            # read nothing more than the handshake's replies)
            replies = self._replies = _Replies(transport)
            transport.set_protocol(replies)
        waiter = replies.expect(count)
        if not waiter.done():  # done: the connection is already lost (raised below)
            transport.write(data)
        async with asyncio.timeout(conn.socket_timeout):
            return await waiter

    async def _drop(self, conn: AbstractConnection) -> None:
        """Close ``conn`` (the next batch connects again). Never waits for redis-py's stream to
        see the close: its protocol is no longer the transport's."""
        self._replies = None
        await conn.disconnect(nowait=True)

    async def close(self) -> None:
        if self._conn is not None:
            await self._drop(self._conn)


class _Replies(asyncio.Protocol):
    """The transport's protocol once the pipe has it: parses what arrives, and hands the batch's
    replies to its waiter when the last one is complete (one batch is in flight at a time)."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.parser = hiredis.Reader(replyError=ResponseError, notEnoughData=_MORE)
        self.waiter: asyncio.Future[list[Any]] | None = None
        self.want = 0
        self.replies: list[Any] = []
        self.lost: RedisConnectionError | None = None

    def expect(self, count: int) -> asyncio.Future[list[Any]]:
        """A future of the next ``count`` replies."""
        waiter: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        if self.lost is not None:
            waiter.set_exception(self.lost)
            return waiter
        self.waiter, self.want, self.replies = waiter, count, []
        return waiter

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        replies = self.replies
        try:
            while len(replies) < self.want:
                reply = self.parser.gets()
                if reply is _MORE:
                    return
                replies.append(reply)
        except hiredis.ProtocolError as exc:
            self._fail(f"redis: {exc}")
            self.transport.close()
            return
        waiter = self.waiter
        if waiter is not None and len(replies) >= self.want:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(replies)

    def eof_received(self) -> bool:
        self._fail("redis: connection closed by the server")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"redis: connection lost{f': {exc}' if exc else ''}")

    def _fail(self, why: str) -> None:
        self.lost = RedisConnectionError(why)
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(self.lost)
