"""Other servers' lease changes reach this server's event bus through the store's ``watch()``
(``leases.base.WatchesChanges``): the follower emits them, watches again after a lost feed, and
a server on such a store starts it by itself."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from dhcpbridge.config import load
from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.leases.base import StoreError, WatchesChanges, is_shared
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.server import Server
from dhcpbridge.server.follow import follow_store

from .fakes import Recorder, lease
from .flaky_store import FlakySharedStore

pytestmark = pytest.mark.usefixtures("test_stores")


def test_protocols_recognise_the_double_and_not_the_embedded_store() -> None:
    assert isinstance(FlakySharedStore(), WatchesChanges) and is_shared(FlakySharedStore())
    assert not isinstance(MemoryStore(), WatchesChanges)


async def test_follower_emits_events_and_watches_again_after_a_lost_feed() -> None:
    store = FlakySharedStore()
    got: list[LeaseEvent] = []
    first, second = LeaseEvent("commit", lease(0x0A430065)), LeaseEvent("expire", lease(0x0A430066))
    for item in (first, StoreError("connection reset"), second, None):
        store.changes.put_nowait(item)
    await asyncio.wait_for(follow_store(store, got.append, backoff=0.01), 10)
    assert got == [first, second]
    assert store.watching == 2  # watched again after the lost feed


CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false

[leases]
store = "flaky-shared://"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
"""


async def test_server_puts_other_servers_changes_on_its_bus(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = tmp_path / "follow.toml"
    path.write_text(CONFIG.format(port=port))
    server = Server(load(path), path)
    recorder = Recorder()
    server.bus.subscribe(recorder)
    await server.start()
    try:
        store = server.store
        assert isinstance(store, FlakySharedStore)
        remote = LeaseEvent("commit", lease(0x0A430070, b"\x01\x02\x03"))
        store.changes.put_nowait(remote)
        for _ in range(500):
            if recorder.events:
                break
            await asyncio.sleep(0.01)
        assert recorder.events == [remote]
        assert remote.query is None  # it happened on another server
    finally:
        await server.stop()
