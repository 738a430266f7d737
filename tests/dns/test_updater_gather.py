"""The updater's worker gathers changes: a stream of lease events costs a few queue writes, not one
per event, also while an update waits for its retry (the worker then waits with a time limit,
and every event used to wake it for a write and a pass over the queue of its own). And the
queue's JSON of a record and a job keeps every field (written without ``dataclasses.asdict``)."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import time
from pathlib import Path

import dns.update

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns.jobs import Job, Record
from dhcpbridge.dns.protocol import Failed
from dhcpbridge.dns.queue import Batch, UpdateQueue
from dhcpbridge.dns.updater import DnsUpdater, load_zones
from dhcpbridge.dns.zones import Zone
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState


class CountingQueue(UpdateQueue):
    """The real queue, counting its writes."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.saves = 0

    def save(self, batch: Batch) -> None:
        self.saves += 1
        super().save(batch)


def event(i: int, hostname: str) -> LeaseEvent:
    now = time.time()
    address = int(ipaddress.ip_address("10.0.0.0")) + i
    return LeaseEvent(
        "commit",
        Lease(address, bytes([1, i]), LeaseState.BOUND, now, now + 600, LeaseKind.V4, 32, b"", hostname),
    )


async def test_events_during_a_backoff_are_gathered_into_few_writes(tmp_path: Path) -> None:
    cfg = DnsConfig.model_validate(
        {
            "zone": [{"name": "example.test", "server": "127.0.0.1", "port": 9}],
            "queue": "q.sqlite",
            "retry-min": 30.0,
            "retry-max": 60.0,
        }
    )

    async def send(msg: dns.update.UpdateMessage, zone: Zone) -> int:
        if any(b"stuck" in rr for rr in getattr(msg, "prereqs", [])):
            raise Failed("timeout", True, "the server of this name does not answer")
        return 0

    queue = CountingQueue(tmp_path / "q.sqlite")
    updater = DnsUpdater(cfg, load_zones(cfg, tmp_path), queue, send)
    await updater.start()
    try:
        updater.notify(event(1, "stuck"))
        deadline = time.monotonic() + 5
        while updater.counts["timeout"] < 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert updater.counts["timeout"] == 1  # now waiting 24-30 s for its retry
        await asyncio.sleep(0.3)
        before = queue.saves
        for i in range(2, 42):  # 40 leases, one every 2 ms
            updater.notify(event(i, f"host{i}"))
            await asyncio.sleep(0.002)
        deadline = time.monotonic() + 5
        while updater.counts["success"] < 40 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert updater.counts["success"] == 40
        assert queue.saves - before <= 8  # was one write (and one pass) per event: 40 or more
    finally:
        await updater.close()


def test_the_queue_json_keeps_every_field() -> None:
    record = Record(6, "fd00::5", "a.example.test.", True, False, 2, "00ff", True, "b.example.test.")
    assert record.as_dict() == dataclasses.asdict(record)
    assert Record.from_json(record.to_json()) == record
    job = Job(7, "remove", record, 1.5, 3, 9.0)
    again = Job.from_json(7, job.to_json(), 3, 9.0)
    assert again == job
