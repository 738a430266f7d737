"""The updater against a real BIND 9 on 127.0.0.1 (a test-made named on a non-standard port):
lease commits publish A/AAAA + PTR + DHCID, releases remove them, a wrong TSIG key is refused and
counted, a stopped BIND gets every queued update once it is back, also across an updater restart,
and a second client asking for a taken name does not overwrite it (RFC 4703)."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns.updater import DnsUpdater, start_updater
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.testing.bind import BindServer, free_port, key_text
from dhcpbridge.testing.e2e import require_e2e

pytestmark = pytest.mark.e2e
PORT = free_port()  # one per test run: parallel runs must not share a BIND
ZONES = ["example.test", "0.10.in-addr.arpa", "0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa"]


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[BindServer]:
    require_e2e("named")
    with BindServer(tmp_path / "bind", ZONES, port=PORT) as server:
        yield server


def dns_config(key_file: Path, **kw: object) -> DnsConfig:
    zones = [{"name": z, "server": "127.0.0.1", "port": PORT, "key-file": str(key_file)} for z in ZONES]
    return DnsConfig.model_validate({"zone": zones, "retry-min": 0.2, "retry-max": 0.5, "timeout": 1.0, **kw})


def lease(address: str, client: bytes, hostname: str, state: LeaseState = LeaseState.BOUND) -> Lease:
    ip = ipaddress.ip_address(address)
    kind = LeaseKind.V4 if ip.version == 4 else LeaseKind.NA
    now = time.time()
    return Lease(int(ip), client, state, now, now + 3600, kind, 32 if ip.version == 4 else 128, b"", hostname)


async def settle(updater: DnsUpdater, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while updater.jobs and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not updater.jobs, updater.stats()


async def test_commit_and_release_v4_and_v6(bind: BindServer, tmp_path: Path) -> None:
    updater = await start_updater(dns_config(bind.key_path), "memory://", tmp_path)
    try:
        updater.notify(LeaseEvent("commit", lease("10.0.0.5", b"\x01\xaa\xbb\xcc\xdd\xee\x01", "Laptop_1")))
        updater.notify(LeaseEvent("commit", lease("fd00::5", b"\0\0\0\1\0\3\0\1abcdef", "laptop-1")))
        await settle(updater)
        assert bind.query("laptop-1.example.test", "A") == ["10.0.0.5"]
        assert bind.query("laptop-1.example.test", "AAAA") == []  # the v6 client has another DHCID
        assert bind.query("5.0.0.10.in-addr.arpa", "PTR") == ["laptop-1.example.test."]
        assert len(bind.query("laptop-1.example.test", "DHCID")) == 1
        assert updater.counts["success"] == 1 and updater.counts["conflict"] == 1
        # a renewal sends nothing
        updater.notify(LeaseEvent("commit", lease("10.0.0.5", b"\x01\xaa\xbb\xcc\xdd\xee\x01", "Laptop_1")))
        assert not updater.jobs
        updater.notify(LeaseEvent("release", lease("10.0.0.5", b"\x01\xaa\xbb\xcc\xdd\xee\x01", "Laptop_1")))
        updater.notify(LeaseEvent("commit", lease("fd00::6", b"\0\0\0\2\0\3\0\1abcdef", "v6host")))
        await settle(updater)
        assert bind.query("laptop-1.example.test", "A") == []
        assert bind.query("laptop-1.example.test", "DHCID") == []
        assert bind.query("5.0.0.10.in-addr.arpa", "PTR") == []
        assert bind.query("v6host.example.test", "AAAA") == ["fd00::6"]
        ptr6 = ipaddress.ip_address("fd00::6").reverse_pointer
        assert bind.query(ptr6, "PTR") == ["v6host.example.test."]
        updater.notify(LeaseEvent("expire", lease("fd00::6", b"\0\0\0\2\0\3\0\1abcdef", "v6host")))
        await settle(updater)
        assert bind.query("v6host.example.test", "AAAA") == []
        assert bind.query(ptr6, "PTR") == []
    finally:
        await updater.close()


async def test_clash_suffix_policy_publishes_the_second_client_under_another_name(
    bind: BindServer, tmp_path: Path
) -> None:
    updater = await start_updater(
        dns_config(bind.key_path, **{"name-clash": "suffix-address"}), "memory://", tmp_path
    )
    try:
        updater.notify(LeaseEvent("commit", lease("10.0.0.7", b"\x01client-a", "printer")))
        updater.notify(LeaseEvent("commit", lease("10.0.0.8", b"\x01client-b", "printer")))
        await settle(updater)
        assert bind.query("printer.example.test", "A") == ["10.0.0.7"]
        assert bind.query("printer-10-0-0-8.example.test", "A") == ["10.0.0.8"]
        assert bind.query("8.0.0.10.in-addr.arpa", "PTR") == ["printer-10-0-0-8.example.test."]
        # the second client's release removes only its own records
        updater.notify(LeaseEvent("release", lease("10.0.0.8", b"\x01client-b", "printer")))
        await settle(updater)
        assert bind.query("printer.example.test", "A") == ["10.0.0.7"]
        assert bind.query("printer-10-0-0-8.example.test", "A") == []
    finally:
        await updater.close()


async def test_wrong_key_is_refused_counted_and_retried(bind: BindServer, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.key"
    wrong.write_text(key_text(bind.key_name, b"not-the-secret-bind-knows-at-all"))
    updater = await start_updater(dns_config(wrong), "memory://", tmp_path)
    try:
        with capture_logs() as logged:
            updater.notify(LeaseEvent("commit", lease("10.0.0.9", b"\x01x", "host9")))
            deadline = time.monotonic() + 10
            while updater.counts["tsig-error"] < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
        failures = [r for r in logged if r["event"] == "DNS update failed; will retry"]
        assert failures and failures[0]["error"].startswith("tsig-error")
        assert failures[0]["fqdn"] == "host9.example.test."
        assert updater.counts["tsig-error"] >= 2  # refused, and tried again
        assert updater.counts["success"] == 0 and len(updater.jobs) == 1
        assert bind.query("host9.example.test", "A") == []
    finally:
        await updater.close()


async def test_bind_down_then_back_across_an_updater_restart(bind: BindServer, tmp_path: Path) -> None:
    cfg = dns_config(bind.key_path)
    bind.stop()
    updater = await start_updater(cfg, "sqlite:///" + str(tmp_path / "leases.db"), tmp_path)
    for i in range(20):
        updater.notify(LeaseEvent("commit", lease(f"10.0.0.{100 + i}", bytes([1, i]), f"h{i}")))
    deadline = time.monotonic() + 10
    while updater.counts["unreachable"] < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert updater.counts["unreachable"] >= 1 and len(updater.jobs) == 20
    await updater.close()  # the server restarts while BIND is down
    assert (tmp_path / "leases.db.dns-queue").exists()

    bind.start()
    updater = await start_updater(cfg, "sqlite:///" + str(tmp_path / "leases.db"), tmp_path)
    try:
        assert len(updater.jobs) == 20
        await settle(updater, 30)
        for i in range(20):
            assert bind.query(f"h{i}.example.test", "A") == [f"10.0.0.{100 + i}"]
        # what was published survived the restart too: a release still finds its name
        updater.notify(LeaseEvent("release", lease("10.0.0.100", bytes([1, 0]), "h0")))
        await settle(updater)
        assert bind.query("h0.example.test", "A") == []
    finally:
        await updater.close()
