"""A reload keeps an unchanged HTTP bridge source (and its cache): a SIGHUP while the answer
service is down still serves stale answers. A changed table, or a changed token file, builds a
new source; sources without a life cycle are rebuilt (their files are read again)."""

from __future__ import annotations

import socket
from pathlib import Path

from dhcpbridge.config import load
from dhcpbridge.server import Server
from dhcpbridge.sources.http import HttpSource

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

[[source]]
type = "http"
url = "http://127.0.0.1:{down}/v1"   # nothing listens: the answer service is down
timeout = {timeout}
token-file = "token"

[[source]]
type = "pools"
"""


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_reload_keeps_an_unchanged_bridge_source_and_its_cache(tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.toml"
    (tmp_path / "token").write_text("secret-1\n")
    ports = {"port": free_port(socket.SOCK_DGRAM), "down": free_port(socket.SOCK_STREAM)}
    path.write_text(CONFIG.format(timeout=0.5, **ports))
    server = Server(load(path), path)
    await server.start()
    try:
        bridge, pools = server.sources
        assert isinstance(bridge, HttpSource)
        cache = bridge._cache
        assert await server.reload() == []
        assert server.sources[0] is bridge and bridge._cache is cache  # stale answers survive
        assert server.sources[1] is not pools  # rebuilt: reloads re-read plain sources
        assert server.engine4 is not None and bridge in server.engine4.env.sources.sources
        path.write_text(CONFIG.format(timeout=0.7, **ports))
        assert await server.reload() == []
        changed = server.sources[0]
        assert changed is not bridge and isinstance(changed, HttpSource)
        (tmp_path / "token").write_text("secret-2, a longer token\n")
        assert await server.reload() == []
        assert server.sources[0] is not changed  # a rotated token file builds a new client
    finally:
        await server.stop()


STATIC6 = """\
[server6]
address = "::1"
port = {port}
interfaces = []

[leases]
store = "memory://"

[[subnet6]]
subnet = "fd69::/64"
pools = ["fd69::1000-fd69::1fff"]

[[source]]
type = "static6"
files = ["static6.csv"]
"""


async def test_reload_reads_a_changed_static6_file_again(tmp_path: Path) -> None:
    """A static6 source holds its file (it can be closed) but has nothing to start: a reload
    builds it anew, so an edited CSV or SQLite table is served (it was kept as it was)."""
    path = tmp_path / "dhcpbridge.toml"
    table = tmp_path / "static6.csv"
    table.write_text("id,address,prefix\ninterface-id-str:port-1,fd69::11,\n")
    path.write_text(STATIC6.format(port=free_port(socket.SOCK_DGRAM)))
    server = Server(load(path), path)
    await server.start()
    try:
        (old,) = server.sources
        table.write_text("id,address,prefix\ninterface-id-str:port-1,fd69::22,\n")
        assert await server.reload() == []
        (new,) = server.sources
        assert new is not old
        assert server.engine6 is not None and new in server.engine6.env.sources.sources
    finally:
        await server.stop()
