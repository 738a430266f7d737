"""The bridge's HTTP client against small asyncio servers on 127.0.0.1 that behave exactly as each
test needs: keep-alive reuse, the connection limit, a service closing idle connections, chunked
and close-delimited bodies, bytes that are not HTTP, an oversized body, a cancelled request, the
headers sent, and HTTPS with a CA file."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from dhcpbridge.sources.http_client import HttpClient, HttpConnectionError, HttpProtocolError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def ok(body: bytes = b'{"action":"none"}') -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """(head, body) of one request; raises IncompleteReadError at EOF."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


@asynccontextmanager
async def server(
    handler: Handler, ssl_ctx: ssl.SSLContext | None = None
) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on 127.0.0.1; yields (base URL, list of connection ids seen)."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        try:
            await handler(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    srv = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=ssl_ctx)
    port = srv.sockets[0].getsockname()[1]
    scheme = "https" if ssl_ctx else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}/v1/question", connections
    finally:
        srv.close()
        await srv.wait_closed()


def echo_after(delay: float) -> Handler:
    """A keep-alive service that answers each request with its body after ``delay`` seconds."""

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            _, body = await read_request(reader)
            if delay:
                await asyncio.sleep(delay)
            writer.write(ok(body))
            await writer.drain()

    return echo


keep_alive = echo_after(0)


async def test_sequential_requests_reuse_one_connection() -> None:
    async with server(keep_alive) as (url, conns):
        client = HttpClient(url, limit=4)
        for i in range(5):
            assert await client.post(b'{"n":%d}' % i) == (200, b'{"n":%d}' % i)
        await client.close()
    assert len(conns) == 1


async def test_concurrency_is_bounded_by_the_limit() -> None:
    slow = echo_after(0.02)
    async with server(slow) as (url, conns):
        client = HttpClient(url, limit=2)
        results = await asyncio.gather(*(client.post(b"%d" % i) for i in range(10)))
        await client.close()
    assert [body for _, body in results] == [b"%d" % i for i in range(10)]
    assert len(conns) == 2


async def test_an_idle_connection_closed_by_the_service_is_replaced_transparently() -> None:
    async def one_per_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, body = await read_request(reader)
        writer.write(ok(body))  # claims keep-alive, then closes
        await writer.drain()

    async with server(one_per_connection) as (url, conns):
        client = HttpClient(url, limit=1)
        assert await client.post(b"1") == (200, b"1")
        await asyncio.sleep(0.05)  # the close reaches us
        assert await client.post(b"2") == (200, b"2")
        await asyncio.sleep(0)
        assert await client.post(b"3") == (200, b"3")
        await client.close()
    assert len(conns) == 3


async def test_chunked_and_close_delimited_bodies() -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil-eof")
        await writer.drain()

    async with server(chunked) as (url, _):
        client = HttpClient(url, limit=1)
        assert await client.post(b"x") == (200, b"abcde")
        assert await client.post(b"y") == (200, b"until-eof")
        await client.close()


async def test_bytes_that_are_not_http_and_an_oversized_body_are_protocol_errors() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"\x00\x01 this is not HTTP\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    async def huge(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"x" * 5000)
        await writer.drain()
        await asyncio.sleep(1)

    async with server(garbage) as (url, _):
        client = HttpClient(url, limit=1)
        with pytest.raises(HttpProtocolError, match="not an HTTP response"):
            await client.post(b"x")
    async with server(huge) as (url, _):
        client = HttpClient(url, limit=1, max_body=1000)
        with pytest.raises(HttpProtocolError, match="over 1000 bytes"):
            await client.post(b"x")


async def test_refused_and_closed_mid_answer_are_connection_errors() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await writer.drain()

    async with server(hang_up) as (url, _):
        client = HttpClient(url, limit=1)
        with pytest.raises(HttpConnectionError):
            await client.post(b"x")
        port = int(url.split(":")[2].split("/")[0])
    client = HttpClient(f"http://127.0.0.1:{port}/v1/question", limit=1)
    with pytest.raises(HttpConnectionError, match="cannot connect"):
        await client.post(b"x")


async def test_a_cancelled_request_frees_its_slot_for_the_next() -> None:
    first = asyncio.Event()

    async def stall_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not first.is_set():
            first.set()
            await read_request(reader)
            await asyncio.sleep(5)  # never answers
            return
        await keep_alive(reader, writer)

    async with server(stall_first) as (url, conns):
        client = HttpClient(url, limit=1)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await client.post(b"lost")
        waiting = asyncio.ensure_future(client.post(b"next"))
        assert await asyncio.wait_for(waiting, 2.0) == (200, b"next")
        await client.close()
    assert len(conns) == 2


async def test_waiters_that_give_up_do_not_leak_slots() -> None:
    slow = echo_after(0.05)

    async def bounded(client: HttpClient, i: int) -> bytes | None:
        try:
            async with asyncio.timeout(0.07):
                return (await client.post(b"%d" % i))[1]
        except TimeoutError:
            return None

    async with server(slow) as (url, conns):
        client = HttpClient(url, limit=2)
        results = await asyncio.gather(*(bounded(client, i) for i in range(20)))
        assert any(r is not None for r in results) and any(r is None for r in results)
        # afterwards every slot is usable again
        again = await asyncio.gather(*(client.post(b"%d" % i) for i in range(4)))
        assert [b for _, b in again] == [b"0", b"1", b"2", b"3"]
        await client.close()
    assert len(conns) <= 2 + 20  # spent connections were replaced, never more than 2 at once


async def test_the_request_carries_host_length_and_the_configured_headers() -> None:
    seen: list[bytes] = []

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, body = await read_request(reader)
        seen.append(head + body)
        writer.write(ok())
        await writer.drain()

    async with server(record) as (url, _):
        client = HttpClient(
            url, limit=1, headers={"Content-Type": "application/json", "Authorization": "Bearer t"}
        )
        await client.post(b'{"q":1}')
        await client.close()
    port = url.split(":")[2].split("/")[0]
    lines = seen[0].split(b"\r\n")
    assert lines[0] == b"POST /v1/question HTTP/1.1"
    assert f"Host: 127.0.0.1:{port}".encode() in lines
    assert b"Authorization: Bearer t" in lines and b"Content-Length: 7" in lines
    assert seen[0].endswith(b'{"q":1}')


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_https_with_a_ca_file(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    async with server(keep_alive, server_ctx) as (url, _):
        client = HttpClient(url, limit=1, ssl_context=ssl.create_default_context(cafile=str(cert)))
        assert await client.post(b"secret") == (200, b"secret")
        await client.close()
        untrusting = HttpClient(url, limit=1, ssl_context=ssl.create_default_context())
        with pytest.raises(HttpConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
            await untrusting.post(b"x")


def test_under_uvloop_as_the_server_runs_it() -> None:
    """``dhcpbridge serve`` runs on uvloop, whose transports are not asyncio classes."""
    uvloop = pytest.importorskip("uvloop")

    async def main() -> list[tuple[int, bytes]]:
        async with server(keep_alive) as (url, conns):
            client = HttpClient(url, limit=2)
            out = list(await asyncio.gather(*(client.post(b"%d" % i) for i in range(6))))
            await client.close()
            assert len(conns) == 2
            return out

    assert [b for _, b in uvloop.run(main())] == [b"%d" % i for i in range(6)]
