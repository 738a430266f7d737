"""The control socket: a Unix socket speaking one JSON object per line, used by the CLI to reach a
running server (``leases list|show|release``, ``stats``, ``reload``) so that the server's in-memory
lease table and the file never disagree.

Request: ``{"cmd": "leases"}``, ``{"cmd": "lease", "address": "10.67.0.100"}``,
``{"cmd": "release", "address": "..."}``, ``{"cmd": "stats"}``, ``{"cmd": "reload"}``,
``{"cmd": "reconfigure", "client": "..."}`` (a lease address, MAC or DUID; ``"address"`` too).
Reply: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.

Only root, the server's own user and members of ``[server] control-group`` may use it: the socket
is created 0660 (under umask 117, so it is never wider, not even for a moment) and owned by that
group, and each connection's peer credentials (``SO_PEERCRED``) are checked; anyone else gets an
error reply and a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import json
import os
import pwd
import socket
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Protocol

from dhcpbridge import logs
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.service import LeaseAdmin, Running

REPLY_LIMIT = 1 << 30  # a lease list of a million leases is one (long) line
_PEERCRED = struct.Struct("3i")  # pid, uid, gid
log = logs.get("dhcpbridge.control")


def group_id(group: str | None) -> int | None:
    """The gid of ``group`` (a name or a number); ``OSError`` when there is no such group."""
    if group is None:
        return None
    if group.isdigit():
        return int(group)
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise OSError(f"control-group {group!r} does not exist") from None


def peer_allowed(uid: int, gid: int, allowed_gid: int | None) -> bool:
    """Root, our own user, and (with a control group) its members may use the socket."""
    if uid in (0, os.geteuid()):
        return True
    if allowed_gid is None:
        return False
    if gid == allowed_gid:
        return True
    try:
        name = pwd.getpwuid(uid).pw_name
        return name in grp.getgrgid(allowed_gid).gr_mem or pwd.getpwuid(uid).pw_gid == allowed_gid
    except KeyError:
        return False


class ControlServer:
    """Serves the control protocol: each request goes to one ``LeaseAdmin``."""

    def __init__(self, admin: LeaseAdmin, path: Path, group: str | None = None) -> None:
        self.admin = admin
        self.path = path
        self.gid = group_id(group)
        self.refused = 0
        self._srv: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old = os.umask(0o117)  # bind creates the socket 0660 at once: no chmod-after-bind window
        try:
            self._srv = await asyncio.start_unix_server(self._client, path=str(self.path))
        finally:
            os.umask(old)
        if self.gid is not None:
            os.chown(self.path, -1, self.gid)

    def _peer_refused(self, writer: asyncio.StreamWriter) -> str | None:
        """Why the connecting process may not use the socket (None: it may)."""
        sock = writer.get_extra_info("socket")
        try:
            pid, uid, gid = _PEERCRED.unpack(
                sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
            )
        except (OSError, AttributeError) as exc:
            return f"cannot read peer credentials: {exc}"
        if peer_allowed(uid, gid, self.gid):
            return None
        self.refused += 1
        log.warning("control socket: connection refused", pid=pid, uid=uid, gid=gid, refused=self.refused)
        return f"permission denied: uid {uid} is not root, the server's user or in its control-group"

    async def stop(self) -> None:
        if self._srv is not None:
            self._srv.close()
            await self._srv.wait_closed()
        with contextlib.suppress(OSError):  # gone, or its directory is not ours after dropping root
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        refused = self._peer_refused(writer)
        if refused is not None:
            with contextlib.suppress(ConnectionError, TimeoutError, ValueError):
                await asyncio.wait_for(
                    reader.readline(), 1.0
                )  # read the request: a close with it unread resets
                writer.write(json.dumps({"ok": False, "error": refused}).encode() + b"\n")
                await writer.drain()
            writer.close()
            return
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


def addons(
    path: Path | None, group: str | None = None
) -> list[Callable[[Served], contextlib.AbstractAsyncContextManager[None]]]:
    """The server add-on (see ``dhcpbridge.server.Server``) that serves the control socket at
    ``path`` while the server runs; none without a path. An add-on that cannot start raises
    ``OSError`` with the reason (the server reports it as a start error)."""
    if path is None:
        return []

    @contextlib.asynccontextmanager
    async def control_socket(server: Served) -> AsyncIterator[None]:
        assert server.store is not None
        try:
            control = ControlServer(LeaseAdmin(server.store, server), path, group)
            await control.start()
        except OSError as exc:
            raise OSError(f"control socket {path}: {exc.strerror or exc}") from None
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
