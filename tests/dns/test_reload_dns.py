"""``[dns]`` follows a reload (it used to need a restart): a SIGHUP that turns updates on starts
the updater against the real BIND, a broken key file is refused without stopping the running
updater, and turning ``[dns]`` off stops it. ``check-config`` reads the key files too."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dhcpbridge.cli import main
from dhcpbridge.config import load
from dhcpbridge.server import Server
from dhcpbridge.testing.bind import BindServer, free_port
from dhcpbridge.testing.e2e import require_e2e

pytestmark = pytest.mark.e2e
PORT = free_port()  # one per test run: parallel runs must not share a BIND
ZONES = ["example.test", "0.10.in-addr.arpa"]

BASE = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false

[leases]
store = "memory://"

[[subnet4]]
subnet = "10.0.0.0/24"
pools = ["10.0.0.100-10.0.0.199"]
"""

DNS = """
[dns]
retry-min = 0.2
retry-max = 0.5
timeout = 1.0
{zones}
"""


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[BindServer]:
    require_e2e("named")
    with BindServer(tmp_path / "bind", ZONES, port=PORT) as server:
        yield server


def config(port: int, key_file: Path | None) -> str:
    if key_file is None:
        return BASE.format(port=port)
    zones = "".join(
        f'[[dns.zone]]\nname = "{z}"\nserver = "127.0.0.1"\nport = {PORT}\nkey-file = "{key_file}"\n'
        for z in ZONES
    )
    return BASE.format(port=port) + DNS.format(zones=zones)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_reload_starts_replaces_and_stops_the_dns_updater(bind: BindServer, tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.toml"
    port = free_udp_port()
    path.write_text(config(port, None))
    server = Server(load(path), path)
    await server.start()
    try:
        assert server.dns is None
        path.write_text(config(port, bind.key_path))
        assert await server.reload() == []
        running = server.dns
        assert running is not None and running in server.bus.listeners
        broken = tmp_path / "broken.key"
        broken.write_text("this is not a key\n")
        path.write_text(config(port, broken))
        errors = await server.reload()
        assert errors and "broken.key" in errors[0]
        assert server.dns is running  # the updater that works keeps running
        path.write_text(config(port, None))
        assert await server.reload() == []
        assert server.dns is None and running not in server.bus.listeners
    finally:
        await server.stop()


def test_check_config_reads_the_key_files(bind: BindServer, tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(config(free_udp_port(), bind.key_path))
    assert CliRunner().invoke(main, ["check-config", str(path)]).exit_code == 0
    path.write_text(config(free_udp_port(), tmp_path / "missing.key"))
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 1 and "missing.key" in result.output
