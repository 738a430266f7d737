"""A store that cannot commit makes the server unhealthy: ``/healthz`` answers 503 with the
reason, and with ``exit-when-unhealthy`` the server stops itself with exit status 3."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import aiohttp

from dhcpbridge.config import load
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.leases import SqliteStore
from dhcpbridge.server import Server

from .fakes import lease

CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
metrics = "127.0.0.1:{http}"

[leases]
store = "sqlite://state/leases.db"
unhealthy-after = 0
exit-when-unhealthy = {exit}

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
"""


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(tmp_path: Path, exit: bool) -> Path:
    path = tmp_path / "dhcpbridge.toml"
    http = free_port(socket.SOCK_STREAM)
    text = CONFIG.format(port=free_port(socket.SOCK_DGRAM), http=http, exit=str(exit).lower())
    path.write_text(text)
    return path


def break_journal(server: Server) -> None:
    """The journal is gone and cannot be reopened (as after a rotation that hit EMFILE)."""
    store = server.store
    assert isinstance(store, SqliteStore) and store._journal_fd is not None
    os.close(store._journal_fd)
    store._journal_fd = None
    store.journal_path.unlink()
    store.journal_path.mkdir()
    assert run_inline(store.commit(lease(), 1.0)) is not None
    assert server.commits is not None and not server.commits.flush_inline(server.stats4)


async def healthz(server: Server) -> tuple[int, str]:
    assert server.config.server.metrics is not None
    url = f"http://{server.config.server.metrics}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as reply:
        return reply.status, await reply.text()


async def test_healthz_reports_a_store_that_cannot_commit(tmp_path: Path) -> None:
    path = config(tmp_path, exit=False)
    server = Server(load(path), path)
    await server.start()
    try:
        assert await healthz(server) == (200, "ok\n")
        break_journal(server)
        status, text = await healthz(server)
        assert status == 503 and "lease store: 1 failed flush(es)" in text
        assert server.store is not None
        server.store.journal_path.rmdir()  # type: ignore[attr-defined]
        assert server.commits is not None and server.commits.flush_inline(server.stats4)
        assert await healthz(server) == (200, "ok\n")
    finally:
        await server.stop()


async def test_exit_when_unhealthy_stops_with_status_3(tmp_path: Path) -> None:
    path = config(tmp_path, exit=True)
    server = Server(load(path), path)
    run = asyncio.ensure_future(server.run())
    for _ in range(200):
        if server.commits is not None and server.endpoints:
            break
        await asyncio.sleep(0.01)
    break_journal(server)
    await asyncio.wait_for(run, 10)
    assert server.exit_code == 3
