"""One harvest (read leases, select, verify, write the fragment if it changed, reload the zone),
and the ``Coalescer`` that lets the calls of a quiet period share one harvest."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dhcpbridge import logs
from dhcpbridge.engine.model import Lease
from dhcpbridge.harvest import zone
from dhcpbridge.harvest.entries import select
from dhcpbridge.harvest.rndc import Rndc, RndcError
from dhcpbridge.harvest.verify import VerifyError, reachable

log = logs.get("dhcpbridge.harvest")


class SourceError(Exception):
    """The leases cannot be read (store or file)."""


@dataclass(frozen=True)
class LeaseSource:
    """Where leases come from: a lease store URL, or lease files of other servers (path, format)."""

    store: str | None = None
    files: tuple[tuple[Path, str], ...] = ()
    base_dir: str | None = None

    def describe(self) -> str:
        return self.store or ", ".join(str(path) for path, _ in self.files)

    async def read(self) -> tuple[list[Lease], list[str]]:
        """The lease records and the reader's warnings; ``SourceError`` when unreadable."""
        from dhcpbridge.leases.base import StoreError
        from dhcpbridge.leases.files import LeaseFileError, read_lease_file
        from dhcpbridge.leases.transfer import read_store

        leases: list[Lease] = []
        warnings: list[str] = []
        if self.store is not None:
            try:
                leases += await read_store(self.store, self.base_dir)
            except (StoreError, OSError) as exc:
                raise SourceError(f"{self.store}: {exc}") from exc
        for path, fmt in self.files:
            try:
                result = await asyncio.to_thread(read_lease_file, path, fmt)
            except (LeaseFileError, OSError) as exc:
                raise SourceError(f"{path}: {exc}") from exc
            leases += result.leases
            warnings += [f"{path}: {w}" for w in result.warnings]
        return leases, warnings


@dataclass(frozen=True)
class Settings:
    source: LeaseSource
    dest: Path
    pattern: re.Pattern[str] | None = None
    verify: bool = False
    timeout: float = 1.0
    workers: int = 64
    ttl: int | None = None
    rndc: Rndc | None = None
    origin: str | None = None  # the zone the fragment is in (names under it keep all their labels)


@dataclass
class HarvestResult:
    """What one harvest found and did (the JSON answer of ``POST /harvest``)."""

    number: int
    started: float
    seconds: float = 0.0
    leases: int = 0  # lease records read
    records: int = 0  # records in the fragment
    unreachable: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: bool = False  # the fragment was rewritten
    reloaded: bool = False  # and rndc reloaded the zone
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.error:
            return f"harvest {self.number} failed: {self.error}"
        verb = "rewritten" if self.changed else "unchanged"
        text = f"harvest {self.number}: {self.records} record(s) from {self.leases} lease(s), fragment {verb}"
        if self.changed:
            text += f" (+{len(self.added)} -{len(self.removed)})"
        if self.unreachable:
            text += f", {len(self.unreachable)} unreachable left out"
        if self.reloaded:
            text += ", zone reloaded"
        return text


class Harvester:
    """Runs harvests with fixed ``Settings``; ``count`` is how many ran."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.count = 0

    async def harvest(self) -> HarvestResult:
        s = self.settings
        self.count += 1
        started = time.monotonic()
        result = HarvestResult(self.count, self.clock())
        try:
            await self._harvest(s, result)
        except (SourceError, VerifyError, RndcError, OSError) as exc:
            result.error = str(exc)
            log.error("harvest failed", error=str(exc), number=result.number)
        result.seconds = round(time.monotonic() - started, 3)
        if result.error is None:
            log.info(result.summary())
        return result

    async def _harvest(self, s: Settings, result: HarvestResult) -> None:
        leases, result.warnings = await s.source.read()
        result.leases = len(leases)
        entries = select(leases, result.started, s.pattern, s.origin)
        if s.verify:
            alive = await reachable(sorted({e.address for e in entries}), s.timeout, s.workers)
            result.unreachable = sorted({e.address for e in entries if e.address not in alive})
            entries = [e for e in entries if e.address in alive]
        result.records = len(entries)
        text = zone.render(entries, s.ttl)
        old = zone.read(s.dest)
        if old == text:
            return
        before, after = zone.record_lines(old or ""), zone.record_lines(text)
        zone.write_atomic(s.dest, text)
        if s.rndc is not None:
            try:
                await s.rndc.reload()
            except RndcError:
                if old is None:
                    s.dest.unlink()
                else:
                    zone.write_atomic(s.dest, old)  # the old file stays; the next harvest retries
                raise
            result.reloaded = True
        result.changed = True
        result.added = sorted(after - before)
        result.removed = sorted(before - after)


class Coalescer:
    """Calls that come while a harvest runs, or within ``quiet`` seconds of the start of the last
    one, share that harvest's result instead of starting another (a burst costs one harvest)."""

    def __init__(
        self, harvester: Harvester, quiet: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.harvester = harvester
        self.quiet = quiet
        self.monotonic = monotonic
        self._current: asyncio.Future[HarvestResult] | None = None
        self._started = 0.0

    async def request(self) -> tuple[HarvestResult, bool]:
        """The result of the harvest this call shares or starts, and whether it was shared."""
        now = self.monotonic()
        current = self._current
        if current is not None and (not current.done() or now - self._started < self.quiet):
            return await asyncio.shield(current), True
        self._started = now
        self._current = current = asyncio.ensure_future(self.harvester.harvest())
        return await asyncio.shield(current), False
