"""``[looking-glass] persist``: the glass kept in a SQLite file. Every exchange written decodes
after a reload exactly as it did from memory (a DORA, a drop with its hook, a relayed DHCPv6
exchange, their decision paths); the file keeps at most ``persist-keep`` exchanges; and a real server restarted on the
same file still shows the DORA a probe made before the restart."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
from pathlib import Path

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config import load, loader
from dhcpbridge.engine.records import HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.glass import LookingGlass
from dhcpbridge.glass.decode import client_to_json
from dhcpbridge.glass.persist import GlassFile, Keeper, load_into
from dhcpbridge.leases import open_store
from dhcpbridge.server import Server
from dhcpbridge.server.glass import glass_addons

from .test_ring import CONFIG6, RELAY_META, dora, engine4, exchange, opt6, request4

DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))
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

[looking-glass]
persist = "state/glass.sqlite"
persist-interval = 0.2
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def probe_dora(server: Server, mac: str) -> None:
    """``dhcpbridge probe`` as a relay agent walks ``mac`` through DORA."""
    port = server.endpoints["v4"].sock.port
    args = ["probe", "--server", f"127.0.0.1:{port}", "--mac", mac, "--full", "--json", "--timeout", "10"]
    proc = await asyncio.create_subprocess_exec(
        DHCPBRIDGE, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode() + err.decode()


def test_what_is_written_decodes_after_a_load_as_from_memory(tmp_path: Path) -> None:
    glass = LookingGlass(clients=16, per_client=4)
    engine = engine4()
    glass.set_steps("v4", engine.pipeline.handlers)
    macs = [bytes([2, 0x67, 0, 0, 0, i]) for i in range(3)]
    file = GlassFile(tmp_path / "glass.sqlite", keep=1000)
    keeper = Keeper(file, lambda: glass, 1.0)
    dora(glass, engine, macs[0])
    asyncio.run(keeper.write_batch())
    dora(glass, engine, macs[1])
    exchange(glass, engine, request4(3, macs[2], {54: bytes([10, 68, 0, 99])}))  # another server's
    dropped = exchange(glass, engine, request4(1, bytes.fromhex("026700000002"), {61: b"\x01"}))
    assert dropped.data is None  # dropped by Classify.pre
    cfg6 = loader.from_dict(CONFIG6)
    engine6 = build_engine6(cfg6, open_store("memory://"), HostInfo6({}), Stats(), build_sources(cfg6))
    glass.set_steps("v6", engine6.pipeline.handlers)
    duid = bytes.fromhex("00030001026700000007")
    solicit = (
        bytes([1, 0, 0, 9]) + opt6(1, duid) + opt6(8, b"\0\0") + opt6(3, (7).to_bytes(4, "big") + bytes(8))
    )
    link, peer = ipaddress.IPv6Address("fd67::2").packed, ipaddress.IPv6Address("fe80::7").packed
    relay = bytes([12, 0]) + link + peer + opt6(18, b"port-7") + opt6(9, solicit)
    assert exchange(glass, engine6, relay, RELAY_META, "v6").data is not None
    asyncio.run(keeper.write_batch())
    assert keeper.batch() == [] and file.count() == 7
    file.close()

    again = LookingGlass(clients=16, per_client=4)
    again.set_steps("v4", engine.pipeline.handlers)
    again.set_steps("v6", engine6.pipeline.handlers)
    reopened = GlassFile(tmp_path / "glass.sqlite", keep=1000)
    assert load_into(again, reopened) == 7
    for client in [*(mac.hex() for mac in macs), "026700000002", "port-7"]:
        (before,) = glass.find(client)
        (after,) = again.find(client)
        assert client_to_json(*after) == client_to_json(*before)
    assert (
        client_to_json(*again.find("026700000002")[0])["exchanges"][0]["decision"]["dropped_by"]
        == "Classify.pre"
    )
    assert [key for _, key, _ in again.recent()] == [key for _, key, _ in glass.recent()]
    assert again.stats()["exchanges"] == 7
    reopened.close()


def test_the_file_keeps_at_most_persist_keep_exchanges(tmp_path: Path) -> None:
    glass = LookingGlass(clients=64, per_client=2)
    engine = engine4()
    file = GlassFile(tmp_path / "glass.sqlite", keep=7)
    keeper = Keeper(file, lambda: glass, 1.0)
    for i in range(30):
        exchange(glass, engine, request4(1, bytes([2, 0x67, 1, 0, 0, i])))
        if i % 4 == 0:
            asyncio.run(keeper.write_batch())
    asyncio.run(keeper.write_batch())
    assert file.count() == 7 and file.written == 30
    newest = [key for _, key, _ in file.load(100)]
    assert newest == [bytes([2, 0x67, 1, 0, 0, i]) for i in range(23, 30)]
    file.close()


async def test_a_restarted_server_still_shows_the_dora_from_before(tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG.format(port=free_port()))
    config = load(path)
    mac = "02:67:0d:00:00:2a"
    server = Server(config, path, glass_addons(config))
    await server.start()
    try:
        await probe_dora(server, mac)
        assert server.glass is not None and len(server.glass.find(mac)[0][2]) == 2
        before = client_to_json(*server.glass.find(mac)[0])
    finally:
        await server.stop()  # the last batch is written on the way out
    assert (tmp_path / "state" / "glass.sqlite").exists()

    server = Server(load(path), path, glass_addons(config))
    await server.start()
    try:
        assert server.glass is not None
        (found,) = server.glass.find(mac)
        assert client_to_json(*found) == before
    finally:
        await server.stop()
