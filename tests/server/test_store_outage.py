"""A shared store that stops answering: the server stays up, sends no ACK it could not record
(``store-unavailable`` drops), logs the outage once per interval, reports it on ``/healthz`` and
serves again by itself when the store answers. The endpoint with fakes, then a real server on
loopback with a store that fails on demand, driven by ``dhcpbridge probe`` (another process)."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from structlog.testing import capture_logs

from dhcpbridge.config import load
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.renewcache import RenewFromCache
from dhcpbridge.server import Server
from dhcpbridge.server.outage import StoreOutage
from dhcpbridge.tools.probe import ProbeSocket
from dhcpbridge.tools.probe4 import Probe, ProbeSettings
from dhcpbridge.wire.v4.message import ip4_int
from dhcpbridge.wire.v4.options import MessageType

from .fakes import Harness
from .flaky_store import OPENED, FlakySharedStore

pytestmark = pytest.mark.usefixtures("test_stores")


async def test_inline_packet_that_finds_the_store_gone_is_dropped_and_counted() -> None:
    h = Harness([[b"store-1", b"store-2", b"plain"]])
    h.endpoint.on_readable()
    await h.settle()
    assert h.sent == [b"reply:plain"]
    assert h.stats.drops["store-unavailable"] == 2
    assert h.stats.errors["engine"] == 0  # not an engine failure
    # a plain reply needs no store: it does not end the outage
    assert h.endpoint.outage.failing() is not None


async def test_task_packets_during_an_outage_then_recovery() -> None:
    h = Harness([[b"store-grant"], [b"grant-1"]], inline=False)
    h.endpoint.on_readable()
    for _ in range(3):
        await asyncio.sleep(0)
    assert h.sent == [] and h.stats.drops["store-unavailable"] == 1
    assert h.endpoint.outage.failing() is not None
    h.endpoint.on_readable()
    await h.settle()
    assert h.sent == [b"reply:grant-1"]
    assert h.endpoint.outage.failing() is None


async def test_a_busy_store_is_overload_not_an_outage() -> None:
    """A shared store whose connection queue is full (``StoreBusy``) is up: the packets are
    dropped as ``overload``; no outage is logged or reported on ``/healthz`` (before, an
    overloaded server called PostgreSQL unavailable and turned unhealthy)."""
    h = Harness([[b"busy-1", b"busy-2", b"grant-1"]], inline=False)
    h.endpoint.on_readable()
    await h.settle()
    assert h.sent == [b"reply:grant-1"]
    assert h.stats.drops["overload"] == 2 and h.stats.drops["store-unavailable"] == 0
    assert h.endpoint.outage.failing() is None and h.endpoint.outage.since is None


async def test_failed_flush_is_an_outage_and_a_good_flush_ends_it() -> None:
    h = Harness([[b"grant-1"]])
    h.store.fail = True
    h.endpoint.on_readable()
    assert h.sent == [] and h.commits.outage.failing() is not None
    h.store.fail = False
    h.sock.batches.append([b"grant-2"])
    h.endpoint.on_readable()
    await h.settle()
    assert h.sent == [b"reply:grant-2"] and h.commits.outage.failing() is None


def test_outage_is_logged_when_it_starts_once_per_interval_and_when_it_ends() -> None:
    outage = StoreOutage(interval=10.0)
    with capture_logs() as lines:
        for second in range(25):  # a failing call every 0.25 s for 6 s, then more until 24 s
            outage.failed(StoreError("down"), now=100.0 + second)
        assert outage.failing(now=124.0) == (25, 24.0)
        outage.answered(now=125.0)
        outage.answered(now=126.0)  # nothing to end
    events = [line["event"] for line in lines]
    assert events == [
        "lease store unavailable; no lease is granted until it answers",
        "lease store still unavailable",
        "lease store still unavailable",
        "lease store available again",
    ]
    assert outage.failing() is None and outage.outages == 1


# --- a real server ---------------------------------------------------------------------------
CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
metrics = "127.0.0.1:{http}"

[leases]
store = "flaky-shared://"
unhealthy-after = 0

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
relay-addresses = ["127.0.0.1"]
"""


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def probe(port: int, mac: str) -> list[str]:
    """The message types ``dhcpbridge probe --full`` received (a separate process)."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "dhcpbridge", "probe", "--server", f"127.0.0.1:{port}"),
        *("--mac", mac, "--full", "--json", "--timeout", "3"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    return [kind for kind in ("DHCPOFFER", "DHCPACK", "DHCPNAK") if kind in text] if text else []


async def healthz(listen: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://{listen}/healthz") as reply:
        return reply.status, await reply.text()


async def test_server_withholds_acks_during_an_outage_and_serves_again(tmp_path: Path) -> None:
    path = tmp_path / "flaky.toml"
    port, http = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    path.write_text(CONFIG.format(port=port, http=http))
    server = Server(load(path), path)
    await server.start()
    try:
        store = server.store
        assert isinstance(store, FlakySharedStore) and store in OPENED
        assert server.endpoints["v4"].inline is False  # a shared store: packets run as tasks
        assert await probe(port, "02:67:00:00:02:01") == ["DHCPOFFER", "DHCPACK"]
        assert await healthz(f"127.0.0.1:{http}") == (200, "ok\n")

        store.fail = True
        assert await probe(port, "02:67:00:00:02:02") == []  # no OFFER, no ACK it could not record
        stats = server.stats4.snapshot()
        assert stats["drops"].get("store-unavailable", 0) >= 1
        status, text = await healthz(f"127.0.0.1:{http}")
        assert status == 503 and "lease store" in text
        leases_before = len(await store.inner.leases())

        store.fail = False  # the store is back: no restart, the next request is served
        assert await probe(port, "02:67:00:00:02:02") == ["DHCPOFFER", "DHCPACK"]
        assert await healthz(f"127.0.0.1:{http}") == (200, "ok\n")
        after = await store.inner.leases()
        assert len(after) == leases_before + 1
        assert [lease.state for lease in after] == [LeaseState.BOUND, LeaseState.BOUND]
    finally:
        await server.stop()


def relay_probe(port: int, mac: str) -> Probe:
    """A probe acting as a relay on 127.0.0.1 towards the server (blocking: run it in a thread)."""
    settings = ProbeSettings(
        mac=bytes.fromhex(mac.replace(":", "")),
        server=("127.0.0.1", port),
        giaddr=ip4_int("127.0.0.1"),
        timeout=5.0,
        retries=1,
    )
    return Probe(settings, ProbeSocket("127.0.0.1", 0))


async def test_renew_from_cache_answers_a_known_client_and_writes_it_back(tmp_path: Path) -> None:
    path = tmp_path / "cache.toml"
    port, http = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    text = CONFIG.format(port=port, http=http)
    path.write_text(text.replace("unhealthy-after = 0", "unhealthy-after = 0\nrenew-from-cache = true"))
    server = Server(load(path), path)
    await server.start()
    known, stranger = relay_probe(port, "02:67:00:00:03:01"), relay_probe(port, "02:67:00:00:03:02")
    try:
        store = server.store
        assert isinstance(store, RenewFromCache) and isinstance(store.inner, FlakySharedStore)
        offer = (await asyncio.to_thread(known.discover)).reply
        assert offer is not None
        ack = (await asyncio.to_thread(known.request, offer)).reply
        assert ack is not None and ack.msg_type == MessageType.ACK
        first = await store.inner.inner.get(LeaseKind.V4, ack.yiaddr)
        assert first is not None

        store.inner.fail = True
        await asyncio.sleep(1.1)  # the renewal gets a later expiry than the first ACK
        renewed = (await asyncio.to_thread(known.renew, ack)).reply
        assert renewed is not None and renewed.msg_type == MessageType.ACK and renewed.yiaddr == ack.yiaddr
        assert (await asyncio.to_thread(stranger.discover)).reply is None  # no new leases
        assert store.renewed == 1 and store.pending
        assert (await store.inner.inner.get(LeaseKind.V4, ack.yiaddr)) == first  # not written yet

        store.inner.fail = False
        for _ in range(100):  # the server replays every second
            if not store.pending:
                break
            await asyncio.sleep(0.1)
        assert store.replayed == 1
        written = await store.inner.inner.get(LeaseKind.V4, ack.yiaddr)
        assert written is not None and written.client == first.client and written.expires > first.expires
    finally:
        known.sock.close()
        stranger.sock.close()
        await server.stop()
