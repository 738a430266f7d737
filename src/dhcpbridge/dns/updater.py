"""The DNS updater: a lease-event listener that turns commits, releases, expiries and declines
into queued updates, and the worker task that sends them.

``notify`` runs in the event bus's drain (never on the packet path) and only decides and appends
to memory: a renewal that changes nothing costs a dict lookup. The worker writes the new jobs to
the persisted queue (``queue.UpdateQueue``, on its own thread), then sends them oldest first,
up to ``concurrency`` at once. Updates that share a name or an address keep their order: one
waits until those before it are done. An update the server refuses or cannot take (down,
timeout, TSIG error) is retried with exponential backoff and holds back only the updates of its
own name and address (a stalled zone does not stall the others); after ``give-up-after`` seconds
it is abandoned. Every attempt's outcome is counted (``counts``; on
/metrics as ``dhcpbridge_dns_updates``) and failures are logged.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dhcpbridge import logs
from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns import dhcid, names
from dhcpbridge.dns.batches import GroupKey, group_key, run_batch
from dhcpbridge.dns.jobs import Job, Key, Record
from dhcpbridge.dns.keys import KeyFileError
from dhcpbridge.dns.protocol import Failed, Send, Steps, Transport
from dhcpbridge.dns.queue import Batch, UpdateQueue
from dhcpbridge.dns.zones import Zones
from dhcpbridge.engine.model import LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.leases.addresses import addr_text
from dhcpbridge.leases.embedded.sqlite import path_from_url

log = logs.get("dhcpbridge")
OUTCOMES = (
    "success",
    "conflict",
    "refused",
    "tsig-error",
    "timeout",
    "unreachable",
    "server-error",
    "bad-response",
    "rejected",
    "no-zone",
    "abandoned",
)
REMOVING = frozenset({"release", "expire", "decline"})
GATHER = 0.1  # seconds a wake-up waits for more changes to come (fewer queue writes, fuller batches)
UDP_BATCH = 8  # jobs per message over UDP (stays well under 1,232 bytes: no fragments)
SCAN_LIMIT = 10_000  # queued updates looked at per pass (the oldest; a backlog waits its turn)
BUSY_LAG = 0.0005  # seconds one turn of the event loop may take and still count as quiet
DEFER_STEP = 0.05  # seconds between looks at a busy loop
MAX_DEFER = 0.5  # seconds a turn's batches wait at most for a quiet loop (updates still progress)


class DnsSetupError(Exception):
    """``[dns]`` cannot be used (a key file, the queue file); the message says why."""


class DnsUpdater:
    """See the module docstring. ``start`` loads the queue and runs the worker; ``close`` stops.

    On a shared store each server updates DNS for the clients it served: of other servers'
    changes (``remote_events``, see ``dhcpbridge.events``) it only takes the ones that end a
    name it published itself (the client moved to another server, or another server reaped it).
    """

    remote_events = frozenset({"release", "expire", "decline"})

    def __init__(
        self,
        cfg: DnsConfig,
        zones: Zones,
        queue: UpdateQueue,
        send: Send | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.zones = zones
        self.queue = queue
        self.clock = clock
        self.steps = Steps(
            zones,
            send or Transport(cfg.transport, cfg.timeout),
            check=cfg.conflict_resolution == "check-with-dhcid",
            suffix=cfg.name_clash == "suffix-address",
        )
        self.counts: Counter[str] = Counter()
        self.enqueued = 0
        self.deferred = 0  # looks at a busy loop that held batches back
        self.published: dict[Key, Record] = {}
        self.jobs: dict[int, Job] = {}  # by id, oldest first
        self._flying: dict[int, asyncio.Task[None]] = {}  # by job id: the batch it goes in
        self._tasks: set[asyncio.Task[None]] = set()
        self._batch = Batch()
        self._next_id = 1
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # --- life cycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        try:
            await self.queue.run(self.queue.open)
            jobs, published = await self.queue.run(self.queue.load)
        except Exception as exc:
            raise DnsSetupError(f"DNS update queue {self.queue.path}: {exc}") from None
        now = self.clock()
        for job in jobs:
            job.due = min(job.due, now)  # a restart retries at once
        self.jobs.update((job.id, job) for job in jobs)
        self.published = published
        self._next_id = max((j.id for j in jobs), default=0) + 1
        if jobs:
            log.info("DNS updates pending from before the restart", pending=len(jobs))
        self._task = asyncio.get_running_loop().create_task(self._work(), name="dns-updates")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        flying = list(self._tasks)
        for attempt in flying:
            attempt.cancel()
        await asyncio.gather(*flying, return_exceptions=True)  # unsent: stays in the queue
        await self._save()
        await self.queue.close()
        if isinstance(self.steps.send, Transport):
            await self.steps.send.close()

    # --- the listener -------------------------------------------------------------------------
    def notify(self, event: LeaseEvent) -> None:
        lease = event.lease
        if lease.kind == LeaseKind.PD:
            return
        family = 4 if lease.kind == LeaseKind.V4 else 6
        address = addr_text(lease.kind, lease.address)  # ``address_text``'s text, without ipaddress
        key = (family, address)
        current = self.published.get(key)
        if event.event in REMOVING:
            if current is not None:
                self._forget(key)
                self._enqueue("remove", current)
            return
        if event.event != "commit" or lease.state != LeaseState.BOUND:
            return
        want = names.wanted(
            family,
            address,
            lease.hostname,
            event.query,
            self.zones.domain_for(address),
            self.zones.forward_names,
            override_client_update=self.cfg.override_client_update,
            generated_prefix=self.cfg.generated_prefix,
        )
        if want is None:
            if current is not None:
                self._forget(key)
                self._enqueue("remove", current)
            return
        if family == 4:
            id_type, identifier = dhcid.identity4(lease.client, lease.hwaddr, event.query)
        else:
            id_type, identifier = dhcid.identity6(lease.client, event.query)
        record = Record(
            family,
            address,
            want.fqdn,
            want.forward,
            want.reverse,
            id_type,
            binascii.hexlify(identifier).decode(),
        )
        if current is not None:
            if current.same_request(record):
                return  # a renewal: nothing changes in DNS
            self._enqueue("remove", current)
        self._remember(record)
        self._enqueue("add", record)

    def _enqueue(self, op: str, record: Record) -> None:
        job = Job(self._next_id, op, record, self.clock())
        self._next_id += 1
        self.jobs[job.id] = job
        self._batch.added.append(job)
        self.enqueued += 1
        self._wake.set()

    def _remember(self, record: Record) -> None:
        self.published[record.key] = record
        self._batch.published[record.key] = record

    def _forget(self, key: Key) -> None:
        self.published.pop(key, None)
        self._batch.published[key] = None

    # --- the worker ---------------------------------------------------------------------------
    async def _save(self) -> None:
        batch, self._batch = self._batch, Batch()
        if batch:  # shielded: a stop that cancels the worker must not lose a batch in flight
            await asyncio.shield(self.queue.run(lambda: self.queue.save(batch)))

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._save()
            except Exception:
                log.exception("DNS update queue write failed; retrying")
                await asyncio.sleep(1.0)
                continue
            await self._yield_to_packets()
            delay = self._launch()
            if delay is None:
                await self._wake.wait()
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
            if self._wake.is_set():  # new jobs or a finished batch: let more changes gather
                await asyncio.sleep(GATHER)  # into one queue write and fuller batches

    async def _yield_to_packets(self) -> None:
        """Hold new batches back while the event loop is busy (the packet path: one turn of the
        loop took longer than ``BUSY_LAG``), for at most ``MAX_DEFER`` seconds per turn, so under
        a peak of DHCP traffic updates wait in the queue instead of taking the replies' CPU."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_DEFER
        while True:
            started = loop.time()
            await asyncio.sleep(0)
            if loop.time() - started < BUSY_LAG or loop.time() >= deadline:
                return
            self.deferred += 1
            await asyncio.sleep(DEFER_STEP)

    def _launch(self) -> float | None:
        """Start the updates that may go now, in batches (``batches``: one operation and zone pair,
        up to ``batch-size`` jobs); returns seconds until the next one is due (0: look again at
        once), None when nothing waits for time (only for a running update or new jobs)."""
        now = self.clock()
        held: set[tuple[str, ...]] = set()  # names and addresses of earlier, unfinished updates
        nearest: float | None = None
        open_: dict[GroupKey | None, list[Job]] = {}
        size = self.cfg.batch_size if self.cfg.transport == "tcp" else min(self.cfg.batch_size, UDP_BATCH)
        for scanned, job in enumerate(self.jobs.values()):
            if len(self._tasks) >= self.cfg.concurrency or scanned >= SCAN_LIMIT:
                break
            marks = (("name", job.record.fqdn), ("address", str(job.record.family), job.record.address))
            if held.intersection(marks):
                continue
            held.update(marks)
            if job.id in self._flying:
                continue
            if job.due > now:
                nearest = job.due - now if nearest is None else min(nearest, job.due - now)
                continue
            key = group_key(self.steps, job)
            group = open_.setdefault(key, [])
            group.append(job)
            if key is None or len(group) >= size:
                self._start(open_.pop(key))
        for group in open_.values():
            if len(self._tasks) >= self.cfg.concurrency:
                break
            self._start(group)
        return nearest

    def _start(self, jobs: list[Job]) -> None:
        attempt = asyncio.get_running_loop().create_task(self._run(jobs), name="dns-update")
        self._tasks.add(attempt)
        attempt.add_done_callback(self._tasks.discard)
        for job in jobs:
            self._flying[job.id] = attempt

    async def _run(self, jobs: list[Job]) -> None:
        try:
            await self._attempt(jobs)
        finally:
            for job in jobs:
                self._flying.pop(job.id, None)
            self._wake.set()

    async def _attempt(self, jobs: list[Job]) -> None:
        try:
            results = await run_batch(self.steps, jobs)
        except Failed as exc:
            results = [exc] * len(jobs)
        except Exception as exc:  # a bug or an unexpected library error: count, log, retry later
            log.exception("DNS update failed unexpectedly", fqdn=jobs[0].record.fqdn, batch=len(jobs))
            results = [Failed("rejected", True, repr(exc))] * len(jobs)
        for job, result in zip(jobs, results, strict=True):
            if isinstance(result, Failed):
                self._failed(job, result)
            else:
                self._succeeded(job, *result)

    def _succeeded(self, job: Job, outcome: str, record: Record) -> None:
        self.counts[outcome] += 1
        if job.op == "add" and self.published.get(record.key) == job.record and record != job.record:
            self._remember(record)  # renamed after a clash, or marked as someone else's name
        if outcome == "conflict":
            log.warning(
                "DNS name held by another client; not updated",
                fqdn=job.record.fqdn,
                address=job.record.address,
            )
        self._done(job)

    def _failed(self, job: Job, exc: Failed) -> None:
        self.counts[exc.outcome] += 1
        job.attempts += 1
        now = self.clock()
        if not exc.retry or now - job.created >= self.cfg.give_up_after:
            if exc.retry:
                self.counts["abandoned"] += 1
            log.error("DNS update dropped", op=job.op, fqdn=job.record.fqdn, error=str(exc))
            self._done(job)
            return
        backoff = min(self.cfg.retry_max, self.cfg.retry_min * 2 ** min(job.attempts - 1, 30))
        job.due = now + backoff * random.uniform(0.8, 1.0)
        self._batch.retried[job.id] = job
        log.warning(
            "DNS update failed; will retry",
            op=job.op,
            fqdn=job.record.fqdn,
            error=str(exc),
            attempts=job.attempts,
            retry_in=round(job.due - now, 2),
            backlog=len(self.jobs),
        )

    def _done(self, job: Job) -> None:
        self.jobs.pop(job.id, None)
        self._batch.retried.pop(job.id, None)
        self._batch.done.add(job.id)

    # --- counters -----------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """The queue's health: ``backlog`` (updates waiting), ``oldest_age`` (seconds the oldest
        of them has waited), ``failures`` (attempts that did not succeed), and the counters."""
        oldest = next(iter(self.jobs.values()), None)
        return {
            "backlog": len(self.jobs),
            "oldest_age": round(max(0.0, self.clock() - oldest.created), 3) if oldest is not None else 0.0,
            "failures": sum(v for k, v in self.counts.items() if k != "success"),
            "enqueued": self.enqueued,
            "deferred": self.deferred,
            "published": len(self.published),
            "outcomes": {o: self.counts.get(o, 0) for o in OUTCOMES},
        }


def queue_path(cfg: DnsConfig, store_url: str, base: Path) -> Path:
    """Where the queue lives: ``[dns] queue``, else next to an SQLite lease store, else in the
    config file's directory."""
    if cfg.queue:
        return base / cfg.queue
    if store_url.startswith("sqlite:"):
        db = path_from_url(store_url)
        db = db if db.is_absolute() else base / db
        return db.with_name(db.name + ".dns-queue")
    return base / "dns-queue.sqlite"


def load_zones(cfg: DnsConfig, base: Path) -> Zones:
    """The zones and their TSIG keys (key files read now); ``DnsSetupError`` when one is unusable.
    ``check-config`` and a reload call it before anything is changed."""
    try:
        return Zones.from_config(cfg, base)
    except KeyFileError as exc:
        raise DnsSetupError(f"[dns]: {exc}") from None


async def start_updater(cfg: DnsConfig, store_url: str, base: Path) -> DnsUpdater:
    """Load the keys, open the queue and start the worker; ``DnsSetupError`` when it cannot."""
    zones = load_zones(cfg, base)
    updater = DnsUpdater(cfg, zones, UpdateQueue(queue_path(cfg, store_url, base)))
    await updater.start()
    return updater
