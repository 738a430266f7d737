"""The updater yields to the packet path: while the event loop is kept busy (turns longer than
``BUSY_LAG``, as under a peak of DHCP traffic) new batches wait, counted in ``deferred``, yet no
longer than ``MAX_DEFER`` per turn, so every update still goes out while the load lasts."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from pathlib import Path

import dns.rcode
import dns.update

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns import updater as updater_module
from dhcpbridge.dns.queue import UpdateQueue
from dhcpbridge.dns.updater import DnsUpdater, load_zones
from dhcpbridge.dns.zones import Zone
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState


def event(i: int) -> LeaseEvent:
    now = time.time()
    address = int(ipaddress.ip_address("10.0.0.0")) + i
    return LeaseEvent(
        "commit",
        Lease(address, bytes([1, i]), LeaseState.BOUND, now, now + 600, LeaseKind.V4, 32, b"", f"y{i}"),
    )


async def test_batches_wait_for_a_quiet_loop_but_not_forever(tmp_path: Path) -> None:
    cfg = DnsConfig.model_validate(
        {"zone": [{"name": "example.test", "server": "127.0.0.1", "port": 9}], "queue": "q.sqlite"}
    )
    sent: list[float] = []

    async def send(msg: dns.update.UpdateMessage, zone: Zone) -> int:
        sent.append(time.monotonic())
        return dns.rcode.NOERROR

    updater = DnsUpdater(cfg, load_zones(cfg, tmp_path), UpdateQueue(tmp_path / "q.sqlite"), send)
    await updater.start()
    stop = asyncio.Event()

    async def packet_path() -> None:  # turns of 2 ms, back to back, like a loop full of packets
        while not stop.is_set():
            time.sleep(0.002)
            await asyncio.sleep(0)

    busy = asyncio.get_running_loop().create_task(packet_path())
    try:
        await asyncio.sleep(0.05)
        started = time.monotonic()
        for i in range(1, 21):
            updater.notify(event(i))
        deadline = started + 10
        while updater.jobs and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert not updater.jobs and updater.counts["success"] == 20  # the load did not stop them
        assert updater.deferred >= 1
        assert sent[0] - started >= updater_module.MAX_DEFER * 0.9  # the first batch waited
    finally:
        stop.set()
        await busy
        await updater.close()
