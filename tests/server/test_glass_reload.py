"""``[looking-glass]`` follows a reload: a smaller bound cuts what the glass holds, ``enabled =
false`` takes it off every endpoint (and ``true`` puts a new one back)."""

from __future__ import annotations

import socket
from pathlib import Path

from dhcpbridge.config import load
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

[looking-glass]
{glass}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_reload_resizes_and_turns_the_glass_off_and_on(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG.format(port=port, glass="clients = 100\nper-client = 4"))
    server = Server(load(path), path)
    await server.start()
    try:
        glass = server.glass
        assert glass is not None and server.endpoints["v4"].glass is glass
        assert "Classify" in glass.steps["v4"] and glass.slots == 400
        path.write_text(CONFIG.format(port=port, glass="clients = 10\nper-client = 2"))
        assert await server.reload() == []
        assert server.glass is glass and (glass.clients, glass.per_client, glass.slots) == (10, 2, 20)
        path.write_text(CONFIG.format(port=port, glass="enabled = false"))
        assert await server.reload() == []
        assert server.glass is None and server.endpoints["v4"].glass is None
        assert "looking_glass" not in server.snapshot()
        path.write_text(CONFIG.format(port=port, glass=""))
        assert await server.reload() == []
        assert server.glass is not None and server.endpoints["v4"].glass is server.glass
        assert server.snapshot()["looking_glass"]["exchanges"] == 0
    finally:
        await server.stop()
