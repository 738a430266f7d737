"""Updates go out in parallel against a real BIND 9 on 127.0.0.1: a zone whose server is down
holds back only its own names (it used to stall every update behind it; the queue's health in
``stats()`` and /metrics shows the waiting update, its age and the failures), updates of one name keep
their order, and many updates finish in far fewer round-trip times than one after another."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns.metrics import DnsCollector
from dhcpbridge.dns.updater import DnsUpdater, start_updater
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.testing.bind import BindServer, free_port
from dhcpbridge.testing.e2e import require_e2e

pytestmark = pytest.mark.e2e
PORT = free_port()  # one per test run: parallel runs must not share a BIND
SERVED = ["example.test", "1.10.in-addr.arpa"]


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[BindServer]:
    require_e2e("named")
    with BindServer(tmp_path / "bind", SERVED, port=PORT) as server:
        yield server


def _registry(updater: DnsUpdater) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DnsCollector(updater.stats))
    return registry


def dead_port() -> int:
    """A loopback TCP port nothing listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(bind: BindServer, **kw: object) -> DnsConfig:
    zones = [{"name": z, "server": "127.0.0.1", "port": PORT, "key-file": str(bind.key_path)} for z in SERVED]
    zones.append({"name": "0.10.in-addr.arpa", "server": "127.0.0.1", "port": dead_port()})
    return DnsConfig.model_validate({"zone": zones, "retry-min": 0.5, "retry-max": 2.0, "timeout": 1.0, **kw})


def lease(address: str, client: bytes, hostname: str) -> Lease:
    now = time.time()
    return Lease(
        int(ipaddress.ip_address(address)),
        client,
        LeaseState.BOUND,
        now,
        now + 3600,
        LeaseKind.V4,
        32,
        b"",
        hostname,
    )


async def wait_until(updater: DnsUpdater, done: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while updater.counts["success"] < done and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def test_a_zone_that_is_down_holds_back_only_its_own_names(bind: BindServer, tmp_path: Path) -> None:
    updater = await start_updater(config(bind), "memory://", tmp_path)
    try:
        # first in the queue: a lease whose reverse zone's server is down
        updater.notify(LeaseEvent("commit", lease("10.0.0.5", b"\x01a", "stuck")))
        for i in range(10):
            updater.notify(LeaseEvent("commit", lease(f"10.1.0.{10 + i}", bytes([1, i]), f"free{i}")))
        await wait_until(updater, 10, 20)
        assert updater.counts["success"] == 10, updater.stats()
        for i in range(10):
            assert bind.query(f"free{i}.example.test", "A") == [f"10.1.0.{10 + i}"]
        assert updater.counts["unreachable"] >= 1 and list(updater.jobs) == [1]  # still retried
        # the queue's health says so: one waiting, for a while, with failed attempts (the ten free
        # names may all land within 0.1 s on a quick machine: the age only has to be counted)
        stats = updater.stats()
        assert stats["backlog"] == 1 and stats["failures"] >= 1 and stats["oldest_age"] > 0.0, stats
        text = generate_latest(_registry(updater)).decode()
        assert (
            "dhcpbridge_dns_backlog 1.0" in text
            and 'dhcpbridge_dns_updates_total{outcome="unreachable"}' in text
        )
        (age,) = (
            float(line.split()[1]) for line in text.splitlines() if line.startswith("dhcpbridge_dns_oldest")
        )
        assert age >= stats["oldest_age"]
    finally:
        await updater.close()


async def test_updates_of_one_name_keep_their_order(bind: BindServer, tmp_path: Path) -> None:
    updater = await start_updater(config(bind, concurrency=8), "memory://", tmp_path)
    try:
        # the same address renamed three times, and released: add, remove+add, remove+add, remove
        for name in ("one", "two", "three"):
            updater.notify(LeaseEvent("commit", lease("10.1.0.50", b"\x01z", name)))
        updater.notify(LeaseEvent("commit", lease("10.1.0.51", b"\x01y", "other")))
        deadline = time.monotonic() + 20
        while updater.jobs and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert not updater.jobs, updater.stats()
        assert bind.query("three.example.test", "A") == ["10.1.0.50"]
        assert bind.query("one.example.test", "A") == [] and bind.query("two.example.test", "A") == []
        assert bind.query("50.0.1.10.in-addr.arpa", "PTR") == ["three.example.test."]
    finally:
        await updater.close()
