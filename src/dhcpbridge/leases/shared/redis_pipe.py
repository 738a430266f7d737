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

Batches may be sent before the ones before them are answered (Redis answers a connection's
commands in order). Replies come back in order; an error reply is a ``ResponseError`` value in
its place, never raised. ``on_reply(i, reply)`` is called for each reply the moment it is parsed, not when the whole batch
is in: Redis answers a long pipeline in pieces (what it read in one go, ~16 KB of commands), and a
server that waited for the last reply woke every packet of the batch at once and sent all their
answers in one burst, more than a relay's (or perfdhcp's) socket buffer holds (the bench's Redis
row lost 1-1.3 % of its answers there, 2026-12-07).

A connection that fails is dropped. When it was closed (a restart, a protocol error, or
``READONLY``: the master became a replica, and the next connection asks Sentinel again) the commands
not answered yet are sent once more on a new connection, as redis-py's ``Retry(NoBackoff(), 1)``
did; a second failure raises ``ConnectionError``. A timeout raises ``TimeoutError`` at once: Redis
may still be running the batch, so it is never sent twice.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import hiredis
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

_MORE = object()  # what the reader gives while a reply is incomplete (``False`` is a RESP3 reply)

OnReply = Callable[[int, Any], None]


def _ignore(index: int, reply: Any) -> None:
    pass


class RedisPipe:
    """See the module docstring: ``execute`` sends a batch on a connection of its own, made by
    ``client``'s connection pool (so with its address, credentials, TLS or Sentinel) and kept
    open between batches: taking one from the pool and giving it back cost as much CPU as a
    small batch."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._conn: AbstractConnection | None = None
        self._replies: _Replies | None = None  # the protocol of the connection's transport
        self._connecting = asyncio.Lock()

    async def execute(self, commands: Sequence[Sequence[Any]], on_reply: OnReply = _ignore) -> list[Any]:
        """The replies of ``commands``, in order; ``on_reply(i, reply)`` as each one arrives."""
        packed = [hiredis.pack_command(tuple(args)) for args in commands]
        replies: list[Any] = []
        try:
            await self._once(b"".join(packed), len(commands), replies, on_reply)
        except RedisConnectionError:  # closed (a restart, a failover): the rest once more, on a new one
            done = len(replies)
            await self._once(b"".join(packed[done:]), len(commands) - done, replies, on_reply)
        return replies

    async def _once(self, data: bytes, count: int, replies: list[Any], on_reply: OnReply) -> None:
        conn = self._conn
        if conn is None:
            conn = self._conn = self.client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        used: list[_Replies] = []  # the protocol (so the connection) the batch went out on
        try:
            await self._exchange(conn, data, count, replies, on_reply, used)
        except TimeoutError as exc:  # Redis may still be running the batch: never sent twice
            await self._drop(conn, used)
            raise RedisTimeoutError(f"redis: no reply within {conn.socket_timeout} s") from exc
        except (RedisConnectionError, OSError) as exc:
            await self._drop(conn, used)
            if isinstance(exc, RedisConnectionError):
                raise
            raise RedisConnectionError(f"redis: {exc or type(exc).__name__}") from exc
        except BaseException:  # cancelled: the rest of the replies are still on the socket
            await self._drop(conn, used)
            raise

    async def _exchange(
        self,
        conn: AbstractConnection,
        data: bytes,
        count: int,
        replies: list[Any],
        on_reply: OnReply,
        used: list[_Replies],
    ) -> None:
        protocol = self._replies
        if protocol is None or protocol.lost is not None:
            protocol = await self._connect(conn)
        used.append(protocol)
        waiter = protocol.expect(count, replies, on_reply)
        if not waiter.done():  # done: the connection is already lost (raised below)
            protocol.transport.write(data)
        async with asyncio.timeout(conn.socket_timeout):
            await waiter

    async def _connect(self, conn: AbstractConnection) -> _Replies:
        """The protocol of an open connection: ``conn`` connected (again), once for all the
        batches that found none."""
        async with self._connecting:
            protocol = self._replies
            if protocol is not None and protocol.lost is None:
                return protocol  # another batch connected meanwhile
            self._replies = None
            if conn.is_connected:
                await conn.disconnect(nowait=True)  # lost, but redis-py's stream has not seen it
            await conn.connect()  # type: ignore[no-untyped-call]  # the handshake, or Sentinel first
            writer = conn._writer  # set by ``connect``: the open stream
            if writer is None:
                raise RedisConnectionError("redis: the connection is not open")
            # from now on the replies go to ``_Replies``, not to redis-py's stream reader (which
            # read nothing more than the handshake's replies)
            protocol = self._replies = _Replies(writer.transport)
            writer.transport.set_protocol(protocol)
            return protocol

    async def _drop(self, conn: AbstractConnection, used: list[_Replies]) -> None:
        """Close the connection the failed batch went out on (the next batch connects again),
        unless another batch has done so already (and may have connected again since). Never
        waits for redis-py's stream to see the close: its protocol is no longer the transport's."""
        async with self._connecting:
            if used and used[0] is not self._replies:
                return
            self._replies = None
            await conn.disconnect(nowait=True)

    async def close(self) -> None:
        if self._conn is not None:
            self._replies = None
            await self._conn.disconnect(nowait=True)


class _Batch:
    """One batch in flight: its replies so far, how many it has when complete, its waiter."""

    __slots__ = ("on_reply", "replies", "waiter", "want")

    def __init__(
        self, waiter: asyncio.Future[None], want: int, replies: list[Any], on_reply: OnReply
    ) -> None:
        self.waiter, self.want, self.replies, self.on_reply = waiter, want, replies, on_reply


class _Replies(asyncio.Protocol):
    """The transport's protocol once the pipe has it: parses what arrives into the list of replies
    of the oldest batch in flight, calls its ``on_reply`` for each, and wakes its waiter when its
    last one is complete (Redis answers a connection's commands in order). ``READONLY`` fails the
    connection (see the module docstring)."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self.transport = transport
        self.parser = hiredis.Reader(replyError=ResponseError, notEnoughData=_MORE)
        self.batches: deque[_Batch] = deque()
        self.lost: RedisConnectionError | None = None

    def expect(self, count: int, replies: list[Any], on_reply: OnReply) -> asyncio.Future[None]:
        """A future done when ``count`` more replies are appended to ``replies`` (after those of
        the batches expected before)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.lost is not None:
            waiter.set_exception(self.lost)
            return waiter
        self.batches.append(_Batch(waiter, len(replies) + count, replies, on_reply))
        return waiter

    def data_received(self, data: bytes) -> None:
        self.parser.feed(data)
        batches = self.batches
        try:
            while batches:
                batch = batches[0]
                replies, on_reply = batch.replies, batch.on_reply
                while len(replies) < batch.want:
                    reply = self.parser.gets()
                    if reply is _MORE:
                        return
                    if isinstance(reply, ResponseError) and str(reply).startswith("READONLY"):
                        self._fail("redis: the master is now a replica")
                        self.transport.close()
                        return
                    replies.append(reply)
                    on_reply(len(replies) - 1, reply)
                batches.popleft()
                if not batch.waiter.done():
                    batch.waiter.set_result(None)
        except hiredis.ProtocolError as exc:
            self._fail(f"redis: {exc}")
            self.transport.close()

    def eof_received(self) -> bool:
        self._fail("redis: connection closed by the server")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"redis: connection lost{f': {exc}' if exc else ''}")

    def _fail(self, why: str) -> None:
        self.lost = RedisConnectionError(why)
        while self.batches:
            waiter = self.batches.popleft().waiter
            if not waiter.done():
                waiter.set_exception(self.lost)
