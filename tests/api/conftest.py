"""A real ``Server`` on loopback (memory store, high UDP port) with some leases, for the API tests."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dhcpbridge.config import load
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.server import Server

CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false

[leases]
store = "memory://"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
relay-addresses = ["127.0.0.1"]
{extra}
"""

ADMIN_TOKEN = "admin-secret-token"
READ_TOKEN = "read-secret-token"


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG.format(port=free_port(), extra=extra))
    return path


def write_tokens(tmp_path: Path) -> Path:
    path = tmp_path / "tokens"
    path.write_text(f"# token role name\n{ADMIN_TOKEN} admin ops\n{READ_TOKEN} read grafana\n")
    path.chmod(0o600)
    return path


def v4_lease(last: int, hostname: str = "") -> Lease:
    now = time.time()
    return Lease(
        kind=LeaseKind.V4,
        address=0x0A430000 + last,
        client=bytes([1, 0, 0x5E, 0, 0, last]),
        hwaddr=bytes([0, 0x5E, 0, 0, 0, last]),
        state=LeaseState.BOUND,
        starts=now,
        expires=now + 3600,
        hostname=hostname,
        subnet="10.67.0.0/24",
    )


async def started(path: Path, leases: int = 5) -> Server:
    server = Server(load(path), path)
    await server.start()
    assert server.store is not None
    now = time.time()
    for i in range(leases):
        lease = v4_lease(100 + i, hostname=f"host{i}")
        assert await server.store.commit(lease, now)
        if i == 0:
            assert await server.store.decline(lease.kind, lease.address, lease.client, now, now + 3600)
    await server.store.flush()
    return server


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    srv = await started(write_config(tmp_path))
    try:
        yield srv
    finally:
        await srv.stop()
