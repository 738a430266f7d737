"""``[server] user``: after binding, the server runs as that user with only CAP_NET_BIND_SERVICE
and CAP_NET_RAW, and its lease files and DNS update queue belong to the user (a subprocess started
as root)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from dhcpbridge.server.privileges import KEEP

NOBODY = 65534
CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
user = "nobody"

[leases]
store = "sqlite://state/leases.db"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]

[dns]            # no update is sent here: its queue file must still be the user's
queue = "dns/updates.sqlite"
[[dns.zone]]
name = "example.test"
server = "127.0.0.1"
port = 9
"""


def status(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {k: v.strip() for k, _, v in (line.partition(":") for line in lines)}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can switch users")
def test_the_server_runs_as_the_configured_user_with_two_capabilities() -> None:
    where = Path(tempfile.mkdtemp(prefix="dhcpbridge-user-", dir="/tmp"))
    os.chmod(where, 0o755)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = where / "dhcpbridge.toml"
    config.write_text(CONFIG.format(port=port))
    proc = subprocess.Popen(
        [sys.executable, "-m", "dhcpbridge", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        uid = ""
        while time.monotonic() < deadline and proc.poll() is None:
            uid = status(proc.pid)["Uid"]
            if uid.split()[0] == str(NOBODY):
                break
            time.sleep(0.1)
        assert uid.split() == [str(NOBODY)] * 4, proc.stdout.read() if proc.poll() is not None else uid
        info = status(proc.pid)
        assert info["Gid"].split() == [str(NOBODY)] * 4
        assert int(info["CapEff"], 16) == KEEP and int(info["CapPrm"], 16) == KEEP
        state = where / "state"
        assert state.stat().st_uid == NOBODY and (state / "leases.db").stat().st_uid == NOBODY
        queue = where / "dns"
        assert queue.stat().st_uid == NOBODY and (queue / "updates.sqlite").stat().st_uid == NOBODY
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        shutil.rmtree(where)
    assert proc.returncode == 0, out
