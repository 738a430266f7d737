"""Batched updates against a real BIND 9 on 127.0.0.1: many names of one zone pair travel in one
UPDATE message per step, a batch with one name held by another client still lands the others
(BIND refuses the whole batched message; the updater falls back to one name at a time), a batch of
releases where one name is no longer ours still removes the others, and an updater stopped in
the middle of a batch (the forward message sent, the PTR message not) loses nothing."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import dns.update
import pytest

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns.messages import Update
from dhcpbridge.dns.protocol import Transport
from dhcpbridge.dns.queue import UpdateQueue
from dhcpbridge.dns.updater import DnsUpdater, load_zones
from dhcpbridge.dns.zones import Zone
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.testing.bind import BindServer, free_port
from dhcpbridge.testing.e2e import require_e2e

pytestmark = pytest.mark.e2e
PORT = free_port()  # one per test run: parallel runs must not share a BIND
ZONES = ["example.test", "0.10.in-addr.arpa"]


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[BindServer]:
    require_e2e("named")
    with BindServer(tmp_path / "bind", ZONES, port=PORT) as server:
        yield server


class Counting:
    """The real transport, counting messages (and the names in each) per zone."""

    def __init__(self, cfg: DnsConfig) -> None:
        self.transport = Transport(cfg.transport, cfg.timeout)
        self.sent: list[tuple[str, int]] = []  # (zone, names in the message)

    async def __call__(self, msg: Update, zone: Zone) -> int:
        self.sent.append((zone.name, msg.names))
        return await self.transport(msg, zone)


def config(bind: BindServer, **kw: object) -> DnsConfig:
    zones = [{"name": z, "server": "127.0.0.1", "port": PORT, "key-file": str(bind.key_path)} for z in ZONES]
    return DnsConfig.model_validate(
        {"zone": zones, "retry-min": 0.2, "retry-max": 0.5, "timeout": 2.0, "queue": "q.sqlite", **kw}
    )


def lease(i: int, client: bytes, hostname: str) -> LeaseEvent:
    now = time.time()
    address = ipaddress.ip_address(f"10.0.0.{i}")
    return LeaseEvent(
        "commit",
        Lease(int(address), client, LeaseState.BOUND, now, now + 3600, LeaseKind.V4, 32, b"", hostname),
    )


async def started(cfg: DnsConfig, base: Path, send: object = None) -> DnsUpdater:
    updater = DnsUpdater(cfg, load_zones(cfg, base), UpdateQueue(base / "q.sqlite"), send)  # type: ignore[arg-type]
    await updater.start()
    return updater


async def settle(updater: DnsUpdater, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while updater.jobs and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not updater.jobs, updater.stats()


async def test_many_names_go_in_one_message_per_zone(bind: BindServer, tmp_path: Path) -> None:
    cfg = config(bind)
    counting = Counting(cfg)
    updater = await started(cfg, tmp_path, counting)
    try:
        for i in range(10, 40):
            updater.notify(lease(i, bytes([1, i]), f"batch{i}"))
        await settle(updater)
        assert updater.counts["success"] == 30
        for i in range(10, 40):
            assert bind.query(f"batch{i}.example.test", "A") == [f"10.0.0.{i}"]
            assert bind.query(f"{i}.0.0.10.in-addr.arpa", "PTR") == [f"batch{i}.example.test."]
        # 30 names: far fewer messages than the 60 of one add + one PTR each
        assert len(counting.sent) <= 6, counting.sent
        assert max(n for _, n in counting.sent) >= 20
        counting.sent.clear()
        for i in range(10, 40):
            release = lease(i, bytes([1, i]), f"batch{i}")
            updater.notify(LeaseEvent("release", release.lease))
        await settle(updater)
        for i in range(10, 40):
            assert bind.query(f"batch{i}.example.test", "A") == []
            assert bind.query(f"batch{i}.example.test", "DHCID") == []
            assert bind.query(f"{i}.0.0.10.in-addr.arpa", "PTR") == []
        assert len(counting.sent) <= 9, counting.sent  # address, DHCID, PTR: 3 per batch
    finally:
        await updater.close()


async def test_a_batch_with_one_taken_name_still_lands_the_others(bind: BindServer, tmp_path: Path) -> None:
    cfg = config(bind)
    counting = Counting(cfg)
    updater = await started(cfg, tmp_path, counting)
    try:
        updater.notify(lease(5, b"\x01owner", "taken"))
        await settle(updater)
        counting.sent.clear()
        for i in range(50, 60):  # one batch; the fifth asks for the name another client holds
            updater.notify(lease(i, bytes([1, i]), "taken" if i == 54 else f"free{i}"))
        await settle(updater)
        assert updater.counts["conflict"] == 1 and updater.counts["success"] == 1 + 9
        assert bind.query("taken.example.test", "A") == ["10.0.0.5"]  # not overwritten
        assert bind.query("54.0.0.10.in-addr.arpa", "PTR") == []
        for i in range(50, 60):
            if i != 54:
                assert bind.query(f"free{i}.example.test", "A") == [f"10.0.0.{i}"]
                assert bind.query(f"{i}.0.0.10.in-addr.arpa", "PTR") == [f"free{i}.example.test."]
        assert counting.sent[0] == ("example.test.", 10)  # the batch was tried as one message first
        # releases: the clashing client published nothing; the others go in one batch
        counting.sent.clear()
        for i in range(50, 60):
            event = lease(i, bytes([1, i]), "taken" if i == 54 else f"free{i}")
            updater.notify(LeaseEvent("release", event.lease))
        await settle(updater)
        assert bind.query("taken.example.test", "A") == ["10.0.0.5"]
        for i in range(50, 60):
            if i != 54:
                assert bind.query(f"free{i}.example.test", "A") == []
        assert len(counting.sent) == 3, counting.sent
    finally:
        await updater.close()


async def test_a_release_batch_with_one_name_no_longer_ours_removes_the_others(
    bind: BindServer, tmp_path: Path
) -> None:
    cfg = config(bind)
    updater = await started(cfg, tmp_path)
    try:
        for i in range(60, 66):
            updater.notify(lease(i, bytes([1, i]), f"gone{i}"))
        await settle(updater)
        # another server (no DHCID check) takes gone62 over: its records are no longer ours
        other = await started(
            config(bind, **{"conflict-resolution": "no-check-with-dhcid"}), tmp_path / "other"
        )
        try:
            other.notify(lease(99, b"\x01usurper", "gone62"))
            await settle(other)
        finally:
            await other.close()
        for i in range(60, 66):
            event = lease(i, bytes([1, i]), f"gone{i}")
            updater.notify(LeaseEvent("release", event.lease))
        await settle(updater)
        assert bind.query("gone62.example.test", "A") == ["10.0.0.99"]  # not ours: left alone
        for i in (60, 61, 63, 64, 65):
            assert bind.query(f"gone{i}.example.test", "A") == []
            assert bind.query(f"{i}.0.0.10.in-addr.arpa", "PTR") == []
    finally:
        await updater.close()


async def test_a_stop_in_the_middle_of_a_batch_loses_nothing(bind: BindServer, tmp_path: Path) -> None:
    cfg = config(bind)
    transport = Transport(cfg.transport, cfg.timeout)
    forward_sent = asyncio.Event()

    async def stalls_after_the_forward_message(msg: dns.update.UpdateMessage, zone: Zone) -> int:
        if zone.name.endswith("in-addr.arpa."):
            forward_sent.set()
            await asyncio.Event().wait()  # the PTR message never goes: the server stops first
        return await transport(msg, zone)

    updater = await started(cfg, tmp_path, stalls_after_the_forward_message)
    for i in range(100, 130):
        updater.notify(lease(i, bytes([1, i]), f"mid{i}"))
    await asyncio.wait_for(forward_sent.wait(), 10)
    assert bind.query("mid100.example.test", "A") == ["10.0.0.100"]  # the forward half landed
    assert bind.query("100.0.0.10.in-addr.arpa", "PTR") == []
    await updater.close()

    updater = await started(cfg, tmp_path)  # the restart: the real transport, the same queue file
    try:
        assert len(updater.jobs) == 30
        await settle(updater)
        assert updater.counts["success"] == 30
        for i in range(100, 130):
            assert bind.query(f"mid{i}.example.test", "A") == [f"10.0.0.{i}"]
            assert bind.query(f"{i}.0.0.10.in-addr.arpa", "PTR") == [f"mid{i}.example.test."]
            assert len(bind.query(f"mid{i}.example.test", "DHCID")) == 1
    finally:
        await updater.close()
