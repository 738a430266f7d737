"""The control socket: a Unix socket speaking one JSON object per line, used by the CLI to reach a
running server (``leases list|show|release``, ``stats``, ``reload``) so that the server's in-memory
lease table and the file never disagree.

Request: ``{"cmd": "leases"}``, ``{"cmd": "lease", "address": "10.67.0.100"}``,
``{"cmd": "release", "address": "..."}``, ``{"cmd": "stats"}``, ``{"cmd": "reload"}``.
Reply: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.service import LeaseAdmin, Running

REPLY_LIMIT = 1 << 30  # a lease list of a million leases is one (long) line


class ControlServer:
    """Serves the control protocol: each request goes to one ``LeaseAdmin``."""

    def __init__(self, admin: LeaseAdmin, path: Path) -> None:
        self.admin = admin
        self.path = path
        self._srv: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._srv = await asyncio.start_unix_server(self._client, path=str(self.path))
        os.chmod(self.path, 0o660)

    async def stop(self) -> None:
        if self._srv is not None:
            self._srv.close()
            await self._srv.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict):
                        raise ValueError("a request is a JSON object")
                    reply: dict[str, Any] = {"ok": True, "result": await self.handle(request)}
                except (ValueError, KeyError) as exc:
                    reply = {"ok": False, "error": str(exc)}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def handle(self, request: dict[str, Any]) -> Any:
        return await self.admin.handle(request)


class Served(Running, Protocol):
    """The running server, as the control socket sees it."""

    store: LeaseStore | None


def addons(path: Path | None) -> list[Callable[[Served], contextlib.AbstractAsyncContextManager[None]]]:
    """The server add-on (see ``dhcpbridge.server.Server``) that serves the control socket at
    ``path`` while the server runs; none without a path. An add-on that cannot start raises
    ``OSError`` with the reason (the server reports it as a start error)."""
    if path is None:
        return []

    @contextlib.asynccontextmanager
    async def control_socket(server: Served) -> AsyncIterator[None]:
        assert server.store is not None
        control = ControlServer(LeaseAdmin(server.store, server), path)
        try:
            await control.start()
        except OSError as exc:
            raise OSError(f"control socket {control.path}: {exc.strerror or exc}") from None
        try:
            yield
        finally:
            await control.stop()

    return [control_socket]


async def call(path: Path, request: dict[str, Any], timeout: float = 5.0) -> Any:
    """Send one request to a running server; raises ``ConnectionError`` when none answers."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_unix_connection(str(path), limit=REPLY_LIMIT), timeout
        )
    except (TimeoutError, OSError) as exc:
        raise ConnectionError(f"no server on {path}: {exc}") from None
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
    finally:
        writer.close()
    reply = json.loads(line)
    if not reply.get("ok"):
        raise ValueError(reply.get("error", "error"))
    return reply.get("result")
