"""The control socket: created 0660 (never wider), and only root, the server's user and members
of ``[server] control-group`` are served (``SO_PEERCRED``); others get an error and a log line."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from dhcpbridge.control import ControlServer, call
from dhcpbridge.leases import MemoryStore
from dhcpbridge.service import LeaseAdmin

NOBODY = 65534  # nobody / nogroup on Debian

CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd": "leases"}\\n')
reply = json.loads(s.makefile().readline())
print("ok", reply["result"]) if reply["ok"] else print("error", reply["error"])
"""
PYTHON = "/usr/bin/python3"  # a system interpreter the other user may run (not the venv under /root)

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(PYTHON), reason="switches the client to another uid"
)


async def ask_as(path: Path, uid: int, gid: int) -> str:
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-c", CLIENT, str(path), stdout=subprocess.PIPE, user=uid, group=gid, extra_groups=[]
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return out.decode().strip()


def serve_and_ask(tmp_path: Path, group: str | None, uid: int, gid: int) -> tuple[str, int]:
    async def main() -> tuple[str, int]:
        where = Path(tempfile.mkdtemp(prefix="dhcpbridge-control-", dir="/tmp"))  # pytest's is 0700
        os.chmod(where, 0o755)
        path = where / "control.sock"
        server = ControlServer(LeaseAdmin(MemoryStore()), path, group)
        await server.start()
        try:
            assert stat.S_IMODE(path.stat().st_mode) == 0o660
            assert await call(path, {"cmd": "leases"}) == []  # root is always served
            os.chmod(path, 0o666)  # as if the socket were reachable by anyone: credentials still count
            return await ask_as(path, uid, gid), server.refused
        finally:
            await server.stop()
            where.rmdir()

    return asyncio.run(main())


@needs_root
def test_other_users_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reply, refused = serve_and_ask(tmp_path, None, NOBODY, NOBODY)
    assert reply.startswith("error permission denied: uid 65534") and refused == 1
    assert "control socket: connection refused" in capsys.readouterr().out


@needs_root
def test_members_of_the_control_group_are_served(tmp_path: Path) -> None:
    reply, refused = serve_and_ask(tmp_path, str(NOBODY), NOBODY, NOBODY)
    assert reply == "ok []" and refused == 0


def test_a_control_group_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="control-group 'no-such-group-here' does not exist"):
        ControlServer(LeaseAdmin(MemoryStore()), tmp_path / "c.sock", "no-such-group-here")
