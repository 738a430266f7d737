"""Several servers on one shared store, each with ``[dns]``: each server updates DNS for the clients
it served. Another server's commit (from the store's watch) queues nothing here; the release of a
name this server published does, whichever server saw it go."""

from __future__ import annotations

import time
from pathlib import Path

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns.queue import UpdateQueue
from dhcpbridge.dns.updater import DnsUpdater
from dhcpbridge.dns.zones import Zones
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.events import EventBus


def lease(address: int, client: bytes, hostname: str) -> Lease:
    now = time.time()
    return Lease(address, client, LeaseState.BOUND, now, now + 3600, LeaseKind.V4, 32, b"", hostname)


def test_remote_commits_are_the_other_servers_and_remote_ends_remove_our_names(tmp_path: Path) -> None:
    cfg = DnsConfig.model_validate(
        {"zone": [{"name": "example.test", "server": "127.0.0.1", "port": 9}], "generated-prefix": "h"}
    )
    updater = DnsUpdater(cfg, Zones.from_config(cfg, tmp_path), UpdateQueue(tmp_path / "q.sqlite"))
    bus = EventBus()
    bus.subscribe(updater)
    bus.emit_remote(LeaseEvent("commit", lease(0x0A000005, b"\x01a", "theirs")))
    assert not updater.jobs and not updater.published  # the other server announces its own
    ours = lease(0x0A000006, b"\x01b", "ours")
    bus.emit(LeaseEvent("commit", ours))
    assert [job.op for job in updater.jobs.values()] == ["add"]
    bus.emit_remote(LeaseEvent("release", ours))  # the client went away through another server
    assert [job.op for job in updater.jobs.values()] == ["add", "remove"]
    assert not updater.published
