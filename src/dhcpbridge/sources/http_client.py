"""A lean HTTP/1.1 client for the bridge: POST a small body to one URL, read one response.

One job: keep-alive connections to one origin (``http`` or ``https``), at most ``limit`` of them,
one request in flight per connection; callers wait for a free connection in order. Responses are
parsed by ``httptools`` (the llhttp parser uvicorn uses). Built for the bridge's questions, where
a general client (aiohttp) spent about twice the CPU per request in the DHCP server's profile: a
request here is one ``write`` and one future, nothing else.

Errors: :class:`HttpConnectionError` (refused, reset, closed before the response ended),
:class:`HttpProtocolError` (not HTTP, a body over ``max_body`` bytes). Deadlines are the caller's
(``asyncio.timeout`` around :meth:`HttpClient.post`); a cancelled request closes its connection.
A question is read-only, so a request that failed on a reused keep-alive connection before any
byte of the response arrived (the service closed it while idle) is sent once more on a new one.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from typing import cast
from urllib.parse import urlsplit

import httptools

MAX_BODY = 1 << 20


class HttpConnectionError(ConnectionError):
    """The connection failed or closed before the response was complete."""


class HttpProtocolError(Exception):
    """The peer's bytes are not a valid HTTP/1.1 response (or too large)."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection; :meth:`request` sends and resolves with (status, body)."""

    def __init__(self, max_body: int) -> None:
        self.max_body = max_body
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.size = 0
        self.status = 0
        self.got_bytes = False
        self.framed = False  # Content-Length or chunked; else the body ends when the peer closes
        self.overflow = False
        self.alive = False
        self.keep_alive = True
        self.used = False

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not an asyncio subclass
        self.alive = True

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(HttpProtocolError("unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            self._fail(HttpProtocolError(f"not an HTTP response: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        if exc is None and self.status and not self.framed and not self.overflow:
            self.on_message_complete()  # a body delimited by the end of the connection
        self._fail(HttpConnectionError(str(exc) if exc else "connection closed by the service"))

    # -- httptools callbacks -----------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.framed = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, chunk: bytes) -> None:
        if self.overflow:
            return
        self.size += len(chunk)
        if self.size > self.max_body:
            self.overflow = True
            self._fail(HttpProtocolError(f"response body over {self.max_body} bytes"))
            return
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done() and not self.overflow:
            waiter.set_result((self.status, b"".join(self.body)))

    # -- use -----------------------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.close()
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.body = []
        self.size = 0
        self.status = 0
        self.got_bytes = False
        self.framed = False
        self.used = True
        self.transport.write(data)
        return self.waiter

    def close(self) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.close()


class HttpClient:
    """POST to one URL over at most ``limit`` keep-alive connections."""

    def __init__(
        self,
        url: str,
        *,
        limit: int,
        headers: dict[str, str] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        max_body: int = MAX_BODY,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r}: expected http(s)://HOST[:PORT]/PATH")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self.ssl = ssl_context or ssl.create_default_context()
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host_header = parts.netloc.rsplit("@", 1)[-1]
        lines = [f"POST {path} HTTP/1.1", f"Host: {host_header}", "User-Agent: dhcpbridge"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self._head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self.limit = limit
        self.max_body = max_body
        self._idle: list[_Connection] = []
        self._open = 0  # connections open or being opened
        self._waiters: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()
        self._closed = False

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """Send ``body``; return (status, response body). Raises the errors of the module doc."""
        data = self._head + str(len(body)).encode() + b"\r\n\r\n" + body
        conn = await self._acquire()
        reused = conn.used
        try:
            status, payload = await conn.request(data)
        except HttpConnectionError:
            self._release(conn)
            if not (reused and not conn.got_bytes):
                raise
            conn = await self._acquire(fresh=True)  # the service closed an idle connection
            try:
                status, payload = await conn.request(data)
            except BaseException:
                conn.close()
                self._release(conn)
                raise
        except BaseException:  # cancelled (deadline) or a protocol error: the connection is spent
            conn.close()
            self._release(conn)
            raise
        if not conn.keep_alive:
            conn.close()
        self._release(conn)
        return status, payload

    async def _acquire(self, fresh: bool = False) -> _Connection:
        while not fresh and self._idle:
            conn = self._idle.pop()
            if conn.alive:
                return conn
            self._open -= 1
        if self._open >= self.limit:
            waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter  # a connection, or None: a slot to open one
            except BaseException:
                # a cancelled waiter stays queued; _release and _wake skip it
                if waiter.done() and not waiter.cancelled():
                    handed_over = waiter.result()
                    if handed_over is not None:
                        self._release(handed_over)  # handed over just as we gave up
                    else:
                        self._open -= 1  # the slot we were given
                        self._wake()
                raise
            if handed is not None:
                return handed
        else:
            self._open += 1
        try:
            _, conn = await asyncio.get_running_loop().create_connection(
                lambda: _Connection(self.max_body),
                self.host,
                self.port,
                ssl=self.ssl,
                server_hostname=self.host if self.ssl else None,
            )
        except BaseException as exc:
            self._open -= 1
            self._wake()
            if isinstance(exc, OSError):
                raise HttpConnectionError(f"cannot connect to {self.host}:{self.port}: {exc}") from None
            raise
        return conn

    def _release(self, conn: _Connection) -> None:
        """Give a finished connection to the next waiter, or keep it idle (closed ones free a slot)."""
        if not conn.alive or self._closed:
            conn.close()
            self._open -= 1
            self._wake()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _wake(self) -> None:
        """A slot came free: the next waiter may open a connection."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._open += 1
                waiter.set_result(None)
                return

    async def close(self) -> None:
        self._closed = True
        for conn in self._idle:
            conn.close()
        self._idle.clear()
