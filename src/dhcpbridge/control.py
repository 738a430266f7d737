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
import ipaddress
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dhcpbridge.engine.model import LeaseEvent, LeaseKind

if TYPE_CHECKING:
    from dhcpbridge.runtime import Server


REPLY_LIMIT = 1 << 30  # a lease list of a million leases is one (long) line


def parse_address(text: str) -> tuple[LeaseKind, int]:
    addr = ipaddress.ip_address(text.split("/")[0])
    if addr.version == 4:
        return LeaseKind.V4, int(addr)
    return (LeaseKind.PD if "/" in text else LeaseKind.NA), int(addr)


class ControlServer:
    """Serves the control protocol for one ``Server``."""

    def __init__(self, server: Server, path: Path) -> None:
        self.server = server
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
        server = self.server
        store = server.store
        assert store is not None
        cmd = request.get("cmd")
        if cmd == "leases":
            return [lease.as_dict() for lease in await store.leases()]
        if cmd == "lease":
            kind, addr = parse_address(str(request["address"]))
            lease = await store.get(kind, addr)
            if lease is None:
                raise ValueError(f"no lease for {request['address']}")
            return lease.as_dict()
        if cmd == "release":
            kind, addr = parse_address(str(request["address"]))
            lease = await store.get(kind, addr)
            if lease is None:
                raise ValueError(f"no lease for {request['address']}")
            released = await store.release(kind, addr, lease.client, time.time())
            if released is None:
                raise ValueError(f"{request['address']} is {lease.state.name.lower()}, not leased")
            await store.flush()
            checkpoint = getattr(store, "checkpoint", None)
            if checkpoint is not None:
                checkpoint()  # an operator's change shows in the SQLite file at once
            server.emit(LeaseEvent("release", released))
            return released.as_dict()
        if cmd == "stats":
            return {
                **{name: s.snapshot() for name, s in server.stats.items()},
                "leases": server.lease_counts(),
                "sources": server.source_stats(),
            }
        if cmd == "reload":
            errors = await server.reload()
            if errors:
                raise ValueError("reload rejected: " + "; ".join(errors))
            return "reloaded"
        raise ValueError(f"unknown command {cmd!r}")


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
