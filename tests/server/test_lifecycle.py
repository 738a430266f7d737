"""The ``Server`` on loopback: start/stop, reload keeps listeners, add-ons, the reaper's events,
a failed start undoing what it opened."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.config import load
from dhcpbridge.engine.model import LeaseEvent, LeaseState
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.server import Server, StartError
from dhcpbridge.server.reaper import reap_once

from .fakes import Recorder, lease

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
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG.format(port=free_port()))
    return path


class Source:
    """A source with a life cycle that wants lease events."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started = self.closed = False
        self.events: list[LeaseEvent] = []

    async def start(self) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    def notify(self, event: LeaseEvent) -> None:
        self.events.append(event)

    def stats(self) -> dict[str, Any]:
        return {"events": len(self.events)}


async def test_start_serve_stop(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    server = Server(load(path), path)
    await server.start()
    try:
        assert set(server.endpoints) == {"v4"} and server.endpoints["v4"].inline
        assert server.lease_counts() == {}
        assert {"v4", "v6", "leases", "sources", "events"} <= set(server.snapshot())
    finally:
        await server.stop()
    assert server.endpoints == {}


async def test_reload_keeps_listeners_and_swaps_sources(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    server = Server(load(path), path)
    await server.start()
    try:
        rec = Recorder()
        server.bus.subscribe(rec)
        engine = server.engine4
        assert await server.reload() == []
        assert server.engine4 is not engine  # a new engine from the re-read config
        assert rec in server.bus.listeners
        old, new = Source("old"), Source("new")
        await server._adopt_sources([old])
        assert old.started and old in server.bus.listeners
        await server._adopt_sources([new])  # what a reload does with the new config's sources
        assert new.started and new in server.bus.listeners
        assert old not in server.bus.listeners and rec in server.bus.listeners
        assert server.source_stats() == {"new": {"events": 0}}
        server.emit(LeaseEvent("release", lease()))
        await asyncio.sleep(0.01)
        assert [e.event for e in rec.events] == ["release"]
        assert len(new.events) == 1 and old.events == [] and old.closed
    finally:
        await server.stop()
    assert new.closed


async def test_bad_config_reload_is_rejected(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    server = Server(load(path), path)
    await server.start()
    try:
        path.write_text("[server]\nport = 'x'\n")
        assert await server.reload()
        assert server.config.server.address is not None
    finally:
        await server.stop()


async def test_addon_runs_between_start_and_stop(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    seen: list[str] = []

    @contextlib.asynccontextmanager
    async def addon(server: Server) -> AsyncIterator[None]:
        assert server.store is not None and server.endpoints
        seen.append("start")
        yield
        seen.append("stop")

    server = Server(load(path), path, [addon])
    await server.start()
    assert seen == ["start"]
    await server.stop()
    assert seen == ["start", "stop"]


async def test_failing_addon_is_a_start_error_and_nothing_stays_open(tmp_path: Path) -> None:
    path = config_file(tmp_path)

    @contextlib.asynccontextmanager
    async def addon(server: Server) -> AsyncIterator[None]:
        raise OSError("control socket /nowhere: Permission denied")
        yield

    server = Server(load(path), path, [addon])
    with pytest.raises(StartError, match="control socket /nowhere"):
        await server.start()
    assert server.endpoints == {}
    again = Server(load(path), path)  # the port is free again
    await again.start()
    await again.stop()


async def test_port_in_use_is_a_start_error(tmp_path: Path) -> None:
    path = config_file(tmp_path)
    first = Server(load(path), path)
    await first.start()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
            busy.bind(("127.0.0.1", 0))
            port = busy.getsockname()[1]
            cfg = load(path)
            cfg = cfg.model_copy(update={"server": cfg.server.model_copy(update={"port": port})})
            with pytest.raises(StartError, match="cannot listen"):
                await Server(cfg, path).start()
    finally:
        await first.stop()


async def test_reaper_emits_expire_events() -> None:
    store = MemoryStore()
    store.retention = 1e12  # keep the expired record to count it
    stale = lease()
    stale.expires = 100.0
    await store.commit(stale, 50.0)
    emitted: list[LeaseEvent] = []
    stats = Stats()
    assert await reap_once(store, stats, emitted.append) == 1
    assert [(e.event, e.lease.address, e.lease.state) for e in emitted] == [
        ("expire", stale.address, LeaseState.EXPIRED)
    ]
    assert store.count_by_state() == {"v4_expired": 1}
