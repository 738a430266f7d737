#!/usr/bin/env python3
"""bench/run.py - throughput, latency and CPU cost of dhcpbridge against ISC Kea, in one run.

What ``make bench`` runs (``.venv/bin/python bench/run.py``).  Needs root and the Debian packages
of ``make system-deps`` (kea-dhcp4/6-server, kea-admin for perfdhcp).  All traffic stays inside
network namespaces this script creates (and always removes); nothing touches a real interface.

For every server variant (one row of :data:`VARIANTS`: a server and a workload):

1. max sustained rate: the highest offered rate with <= 0.1 % drops (``--drop-threshold``),
   found by :func:`dhcpbridge.testing.loadsearch.find_max_rate` (ceiling probe, then bisection;
   at most ``--max-points`` perfdhcp runs of ``--period`` s).  Every point starts the server on a
   fresh, empty lease directory, lets it idle 1 s, loads it, stops it.
2. latency: one run at ``--latency-rate`` (default 1000/s) with ``perfdhcp -x t`` -> p50/p99 of
   the server-side time of an exchange (sum of both phases).
3. CPU: server process utime+stime per completed exchange (/proc/PID/stat), at the max point.
4. paired points (the ops rows, ``--paired-rounds``, default 2): once every search is done, each
   ops row and its baseline at the baseline's max sustained rate, in turns (baseline, row,
   baseline, row); the note gives the row's completed/s over the baseline's
   (:mod:`dhcpbridge.testing.paired`). Searched minutes apart, two rows differ by more than the
   cost of the glass, the API or DNS updates on a noisy host; at one rate, in turns, they do not.
   Their time is kept back from the searches' budget.

Workloads: DORA (perfdhcp -4 as a relay agent from the ``rly`` namespace), SARR address
(perfdhcp -6 -e address-only, direct from ``cli``) and SARR prefix (-e prefix-only).  The server
is pinned to CPU 1 and perfdhcp to CPU 0 (taskset).  Rates are reported with their ratio to a
baseline measured in the same run (added automatically when a variant is selected): Kea for the
dhcpbridge rows, the in-process (pools) dhcpbridge row for the bridge rows.

The bridge rows (:mod:`bridge`) run DORA through the HTTP source asking ``dhcpbridge answer``
(options from the service, addresses from the pool behind it).  Cache off: every DISCOVER and
REQUEST of 50,000 clients asks the service (ratio to ``dhcpbridge4``).  Cache on (60 s): the
cache serves known clients, so that row uses 2,000 clients made known by a 4 s warm-up run before
each point, and its ratio is to ``dhcpbridge4-known``, the in-process row with the same clients
and warm-up (both with the per-client rate limit off, ``NO_CLIENT_LIMIT``).  The answer service runs on the perfdhcp CPU; the table notes what the bridge did
during the measured run (questions asked / answers from the cache / failures) and the service's
CPU share and time per exchange.

Noise: the machine may be shared.  Before each point the bench waits (up to 10 s, quick 3 s)
until no CPU is busy with other work; a failing point during which other processes took more
than 10 % of the server's core is measured once more; the table flags variants measured on a
shared core (and the JSON keeps ``other_load_pct`` per point).

Results: a table on the terminal, and ``bench/results/bench-<time>.json`` (every point) plus
``.txt`` (the table).  Budget: the default run takes ~21 min on a quiet machine (eight variants of
at most 6 x 20 s points plus a 10 s latency run; bounded by ``--budget``, 25 min), ``--quick``
~4-5 min (6 min bound).  Every perfdhcp run is bounded by -p and a hard timeout.

Examples:
  bench/run.py --quick
  bench/run.py --only kea4 --period 10
  bench/run.py --servers dhcpbridge --max-points 4
  bench/run.py --only dhcpbridge4 --rates 5000,10000,15000
  bench/run.py --only kea4 --scale-leases 0

The scale rows come last (``bench/scale.py`` in its own process, bounded by ``--scale-budget``):
``--scale-leases`` leases (default 1,000,000, quick 100,000) filled into a SQLite store, the
restart time and resident memory per lease, Kea memfile's beside them.
"""

# ruff: noqa: E402  (dhcpbridge is imported after making src/ importable in a bare checkout)
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
try:  # the project venv has dhcpbridge installed (editable); a bare checkout has it in src/
    import dhcpbridge.testing  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(REPO / "src"))

from rich.console import Console
from rich.table import Table

from dhcpbridge.testing.e2e import e2e_unavailable
from dhcpbridge.testing.kea import Kea4, Kea6
from dhcpbridge.testing.loadsearch import SearchPoint, find_max_rate
from dhcpbridge.testing.netns import Topology, lab_topology
from dhcpbridge.testing.paired import run_paired
from dhcpbridge.testing.perfdhcp import PerfdhcpResult, busy_between, cpu_snapshot, perfdhcp4, perfdhcp6
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import (
    DhcpbridgeServer,
    ManagedServer,
    default_dhcpbridge_exe,
    dhcpbridge_unavailable,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bridge  # bench/bridge.py: the bridge rows' two processes
import ops_rows  # bench/ops_rows.py: API polled, looking glass, DNS updates (issues 11, 12)
import redis_row  # bench/redis_row.py: dhcpbridge on a redis-server of its own

RESULTS_DIR = REPO / "bench" / "results"
# quiet check + server start + 1 s idle + stop + perfdhcp start/exit (~2.2 s seen) + its 1 s -W wait
POINT_OVERHEAD_S = 4.5
CONTENDED_PCT = 10.0  # CPU % other processes may take on the server's core before a point is suspect


# --------------------------------------------------------------------------------------------
# what is measured


@dataclass(frozen=True)
class Workload:
    key: str
    family: int
    title: str
    lease_type: str = "address-only"  # perfdhcp -e, DHCPv6 only


DORA = Workload("dora", 4, "DORA")
SARR_NA = Workload("sarr-na", 6, "SARR address", "address-only")
SARR_PD = Workload("sarr-pd", 6, "SARR prefix", "prefix-only")


@dataclass
class Options:
    period: float
    max_points: int
    ceiling: float
    rates: list[float]
    latency_rate: float
    latency_period: float
    drop_threshold: float
    clients: int
    budget: float
    server_cpu: int | None
    client_cpu: int | None
    dhcpbridge_exe: Path
    keep_workdirs: bool
    verbose: bool
    quiet_wait: float = 10.0
    paired_rounds: int = 0  # rounds of paired points per ops row (its baseline and it at one rate)


ServerFactory = Callable[[Topology, Path, Options], ManagedServer]


@dataclass(frozen=True)
class Variant:
    """One table row: a server configuration under one workload.

    ``kind`` groups rows for ``--servers``; ``baseline`` names the row the ratio refers to;
    ``unavailable`` returns why the row cannot run here (None = it can).  ``clients`` replaces
    ``--clients`` for this row; ``warmup`` > 0 runs perfdhcp that many seconds (at most
    :data:`WARMUP_RATE`/s) before each measured point, on the same server, so the clients are known.
    """

    key: str
    label: str
    kind: str
    workload: Workload
    make: ServerFactory
    baseline: str | None = None
    unavailable: Callable[[Options], str | None] = lambda _opts: None
    clients: int | None = None
    warmup: float = 0.0


WARMUP_RATE = 4000.0
KNOWN_CLIENTS = 2000  # the cache-on bridge row and its static twin: every client seen in the warm-up
WARMUP_S = 4.0  # 16,000 DORAs over 2,000 clients: each one about 8 times


def _kea4(topo: Topology, workdir: Path, opts: Options) -> ManagedServer:
    return Kea4(topo["srv"], workdir, LAB_PLAN, cpu=opts.server_cpu)


def _kea6(topo: Topology, workdir: Path, opts: Options) -> ManagedServer:
    return Kea6(topo["srv"], workdir, LAB_PLAN, cpu=opts.server_cpu)


# The known-clients rows send 2,000 clients' DORAs at up to 40,000/s, 20 exchanges per client and
# second: the per-client rate limit (``[limits] client-rate``, 2/s with a burst of 16) would drop
# nearly all of them and the rows would measure the limiter (400 DORA/s completed at 40,000/s
# offered), not the cache. Those rows turn it off, both of them (the ratio compares like with like).
NO_CLIENT_LIMIT: dict[str, dict[str, Any]] = {"limits": {"client-rate": 0}}


def _dhcpbridge(family: int, tables: dict[str, dict[str, Any]] | None = None) -> ServerFactory:
    def make(topo: Topology, workdir: Path, opts: Options) -> ManagedServer:
        return DhcpbridgeServer(
            topo["srv"],
            workdir,
            LAB_PLAN,
            family=family,
            exe=opts.dhcpbridge_exe,
            cpu=opts.server_cpu,
            tables=tables,
        )

    return make


def _bridged(cache_ttl: float, tables: dict[str, dict[str, Any]] | None = None) -> ServerFactory:
    def make(topo: Topology, workdir: Path, opts: Options) -> ManagedServer:
        return bridge.BridgedServer(
            topo["srv"],
            workdir,
            LAB_PLAN,
            cache_ttl=cache_ttl,
            exe=opts.dhcpbridge_exe,
            cpu=opts.server_cpu,
            answer_cpu=opts.client_cpu,
            tables=tables,
        )

    return make


def _dhcpbridge_redis(topo: Topology, workdir: Path, opts: Options) -> ManagedServer:
    return redis_row.RedisBackedServer(
        topo["srv"],
        workdir,
        LAB_PLAN,
        redis_cpu=opts.client_cpu,  # perfdhcp's core, as BIND's of the DNS row
        family=4,
        exe=opts.dhcpbridge_exe,
        cpu=opts.server_cpu,
    )


def _dhcpbridge_redis_workers(topo: Topology, workdir: Path, opts: Options) -> ManagedServer:
    return redis_row.RedisBackedServer(
        topo["srv"], workdir, LAB_PLAN, workers=3, family=4, exe=opts.dhcpbridge_exe, cpu=None
    )


def _redis_missing(opts: Options) -> str | None:
    return _dhcpbridge_missing(opts) or (
        None if shutil.which("redis-server") else "redis-server not installed"
    )


def _extras_note(extras: dict[str, Any]) -> str:
    """What a row's server did besides DHCP (the bridge, the API poller, the DNS updates)."""
    if "bridge_counts" in extras or "bridge_counts_error" in extras:
        return f"bridge: {bridge.summary(extras)}"
    return ops_rows.summary(extras) or f"server {extras.get('server_cpu_pct')} % CPU"


def _dhcpbridge_missing(opts: Options) -> str | None:
    reason = dhcpbridge_unavailable(opts.dhcpbridge_exe)
    return None if reason is None else f"dhcpbridge not runnable ({reason})"


VARIANTS: list[Variant] = [
    # one entry per table row; the bench runs them in this order (each dhcpbridge row right
    # after its Kea baseline, so the two see the same machine state)
    Variant("kea4", "Kea 2.2 memfile", "kea", DORA, _kea4),
    Variant(
        "dhcpbridge4", "dhcpbridge sqlite", "dhcpbridge", DORA, _dhcpbridge(4), "kea4", _dhcpbridge_missing
    ),
    Variant(
        "dhcpbridge4-redis",
        "dhcpbridge on Redis (AOF everysec)",
        "shared",
        DORA,
        _dhcpbridge_redis,
        "dhcpbridge4",
        _redis_missing,
    ),
    Variant(
        "dhcpbridge4-redis-x3",
        "3 dhcpbridge servers (workers = 3) on one Redis",
        "shared",
        DORA,
        _dhcpbridge_redis_workers,
        "dhcpbridge4-redis",
        _redis_missing,
    ),
    Variant(
        "bridge4-nocache",
        "dhcpbridge + HTTP bridge, cache off",
        "bridge",
        DORA,
        _bridged(0),
        "dhcpbridge4",
        _dhcpbridge_missing,
    ),
    Variant(
        "dhcpbridge4-known",
        f"dhcpbridge sqlite, {KNOWN_CLIENTS:,} known clients",
        "bridge",
        DORA,
        _dhcpbridge(4, NO_CLIENT_LIMIT),
        None,
        _dhcpbridge_missing,
        clients=KNOWN_CLIENTS,
        warmup=WARMUP_S,
    ),
    Variant(
        "bridge4-cache",
        f"dhcpbridge + HTTP bridge, cache 60 s, {KNOWN_CLIENTS:,} known clients",
        "bridge",
        DORA,
        _bridged(60, NO_CLIENT_LIMIT),
        "dhcpbridge4-known",
        _dhcpbridge_missing,
        clients=KNOWN_CLIENTS,
        warmup=WARMUP_S,
    ),
    Variant("kea6", "Kea 2.2 memfile", "kea", SARR_NA, _kea6),
    Variant(
        "dhcpbridge6",
        "dhcpbridge sqlite",
        "dhcpbridge",
        SARR_NA,
        _dhcpbridge(6),
        "kea6",
        _dhcpbridge_missing,
    ),
    Variant("kea6-pd", "Kea 2.2 memfile", "kea", SARR_PD, _kea6),
    Variant(
        "dhcpbridge6-pd",
        "dhcpbridge sqlite",
        "dhcpbridge",
        SARR_PD,
        _dhcpbridge(6),
        "kea6-pd",
        _dhcpbridge_missing,
    ),
]

import pgrows  # bench/pgrows.py: the PostgreSQL rows (issue 10)

VARIANTS += pgrows.variants(Variant, DORA, _dhcpbridge_missing)
VARIANTS += ops_rows.variants(Variant, DORA, _dhcpbridge_missing)


# --------------------------------------------------------------------------------------------
# running


@dataclass
class VariantResult:
    key: str
    label: str
    workload: str
    baseline: str | None
    status: str = "pending"  # ok | skipped | failed | interrupted
    note: str = ""
    max_sustained: float | None = None
    peak_completed: float | None = None
    drop_pct_at_max: float | None = None
    cpu_us_at_max: float | None = None
    lowest_failing: float | None = None
    stopped_by: str = ""
    latency_rate: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    latency_drop_pct: float | None = None
    cpu_us_at_latency: float | None = None
    points: list[dict[str, Any]] = field(default_factory=list)
    extras_at_max: dict[str, Any] = field(default_factory=dict)  # what a bridge row's source did
    max_other_load_pct: float | None = None
    seconds: float = 0.0
    store_checks: int = 0  # points after which the shared store was checked for duplicates
    store_duplicates: int = 0  # what those checks found
    paired: dict[str, Any] = field(default_factory=dict)  # ``testing.paired``: at the baseline's knee


class Bench:
    def __init__(self, topo: Topology, opts: Options, console: Console) -> None:
        self.topo = topo
        self.opts = opts
        self.console = console
        self.workroot = Path(tempfile.mkdtemp(prefix="bench-", dir=topo.workdir))
        self.last_server_log = ""
        self.current: VariantResult | None = None  # the variant being measured (for interruptions)
        self.extras: dict[int, dict[str, Any]] = {}  # id(result) -> the server's point_extras()

    def load(self, v: Variant, rate: float, period: float, server_pid: int, latency: bool) -> PerfdhcpResult:
        o = self.opts
        if v.workload.family == 4:
            return perfdhcp4(
                self.topo["rly"],
                rate=rate,
                period=period,
                clients=v.clients or o.clients,
                latency=latency,
                server_pid=server_pid,
                cpu=o.client_cpu,
            )
        return perfdhcp6(
            self.topo["cli"],
            rate=rate,
            period=period,
            interface="cli0",
            lease_type=v.workload.lease_type,
            clients=v.clients or o.clients,
            latency=latency,
            server_pid=server_pid,
            cpu=o.client_cpu,
        )

    def wait_quiet(self, max_wait: float = 10.0) -> float:
        """Wait (at most ``max_wait`` s) until no CPU is busy with other work; the last busy %."""
        deadline = time.monotonic() + max_wait
        while True:
            busy = max(busy_now(0.5).values(), default=0.0)
            if busy <= CONTENDED_PCT or time.monotonic() >= deadline:
                return busy
            time.sleep(1.0)

    def point(self, v: Variant, rate: float, period: float, latency: bool = False) -> PerfdhcpResult:
        """Fresh server on an empty lease dir, 1 s idle, one bounded perfdhcp run, stop."""
        busy = self.wait_quiet(self.opts.quiet_wait)
        if busy > CONTENDED_PCT:
            self.console.print(f"    [yellow]machine still busy ({busy:.0f} % on a CPU): measuring anyway[/]")
        workdir = Path(tempfile.mkdtemp(prefix=f"{v.key}-{rate:g}-", dir=self.workroot))
        server = v.make(self.topo, workdir, self.opts)
        try:
            server.start()
            time.sleep(1.0)
            if v.warmup > 0:  # the clients become known (leases, cached answers); not measured
                self.load(v, min(rate, WARMUP_RATE), v.warmup, server.pid, False)
                time.sleep(0.5)
            if isinstance(server, bridge.BridgedServer | ops_rows.OpsServer):
                server.mark()
            result = self.load(v, rate, period, server.pid, latency)
            if not server.alive():
                raise RuntimeError(f"{server.name} died during the run:\n{server.log()[-2000:]}")
            if isinstance(server, bridge.BridgedServer | ops_rows.OpsServer):
                extras = dict(server.point_extras(result.completed, result.wall_s or 0.0))
                extras["bridged"] = isinstance(server, bridge.BridgedServer)
                if result.server_cpu_s is not None and result.wall_s:
                    extras["server_cpu_pct"] = round(100.0 * result.server_cpu_s / result.wall_s, 1)
                if self.opts.client_cpu is not None:  # the answer service shares perfdhcp's core
                    core_busy = result.cpu_busy_pct.get(f"cpu{self.opts.client_cpu}")
                    if core_busy is not None:
                        extras["answer_core_busy_pct"] = round(core_busy, 1)
                self.extras[id(result)] = extras
            self.last_server_log = server.log()[-1500:] if result.completed == 0 else ""
            return result
        finally:
            server.stop()
            found = getattr(server, "duplicates", None)
            if found is not None and self.current is not None:
                self.current.store_checks += 1
                self.current.store_duplicates += found
            if not self.opts.keep_workdirs:
                shutil.rmtree(workdir, ignore_errors=True)

    def passes(self, r: PerfdhcpResult, threshold: float) -> bool:
        """Sustained: something completed, drops within the threshold and, for a bridge row (not
        the ops rows, whose extras carry no bridge counts: they failed every point before),
        the bridge answered (an overloaded bridge falls back to the pool; that is not the bridge)."""
        if r.completed == 0 or r.drop_pct > threshold:
            return False
        extras = self.extras.get(id(r))
        if extras is None or not extras.get("bridged", True):  # the ops rows: no bridge to ask
            return True
        return bridge.failure_pct(extras) <= threshold

    def other_load(self, r: PerfdhcpResult) -> float | None:
        """CPU % that other processes (and the kernel) took on the server's core during the run."""
        if self.opts.server_cpu is None or not r.wall_s or r.server_cpu_s is None:
            return None
        busy = r.cpu_busy_pct.get(f"cpu{self.opts.server_cpu}")
        if busy is None:
            return None
        return round(max(0.0, busy - 100.0 * r.server_cpu_s / r.wall_s), 1)

    def record(self, res: VariantResult, kind: str, r: PerfdhcpResult, ok: bool | None) -> None:
        other = self.other_load(r)
        entry: dict[str, Any] = {"kind": kind, "ok": ok, **r.summary(), "cpu_busy_pct": r.cpu_busy_pct}
        entry["other_load_pct"] = other
        if id(r) in self.extras:
            entry["extras"] = self.extras[id(r)]
        if r.completed == 0:
            entry["server_log_tail"] = self.last_server_log
            self.console.print(
                f"    [red]nothing completed[/]; server log tail:\n{self.last_server_log}", markup=True
            )
        res.points.append(entry)
        if other is not None:
            res.max_other_load_pct = max(res.max_other_load_pct or 0.0, other)

    def _show(self, v: Variant, r: PerfdhcpResult, ok: bool | None) -> None:
        mark = "" if ok is None else ("[green]ok[/]" if ok else "[red]fail[/]")
        other = self.other_load(r)
        if other is not None and other > CONTENDED_PCT:
            mark += f" [yellow](other load {other:.0f} % on the server CPU)[/]"
        cpu = r.cpu_us_per_exchange
        lat = (
            f" p50 {r.p50_ms:.3f} p99 {r.p99_ms:.3f} ms"
            if r.p50_ms is not None and r.p99_ms is not None
            else ""
        )
        self.console.print(
            f"  {v.key:<15} {r.offered_rate or 0:>8.0f}/s -> {r.rate:>9.1f} done/s  "
            f"drops {r.drop_pct:6.3f} %  cpu {_fmt(cpu, '.1f'):>6} us/exch{lat}  {mark}"
        )
        if id(r) in self.extras:
            self.console.print(f"    {_extras_note(self.extras[id(r)])}", markup=False)
        if self.opts.verbose:
            self.console.print(f"    {r.line(v.key)}", markup=False)

    def run_variant(self, v: Variant, deadline: float, hard_deadline: float) -> VariantResult:
        """Search until ``deadline`` (this variant's share), then the latency run if the whole
        run's ``hard_deadline`` allows it."""
        o = self.opts
        res = VariantResult(v.key, v.label, v.workload.title, v.baseline)
        self.current = res
        t0 = time.monotonic()
        threshold = o.drop_threshold
        overhead = point_overhead(v)

        def measure(rate: float) -> PerfdhcpResult:
            r = self.point(v, rate, o.period)
            ok = self.passes(r, threshold)
            self._show(v, r, ok)
            self.record(res, "search", r, ok)
            other = self.other_load(r)
            contended = other is not None and other > CONTENDED_PCT
            room = time.monotonic() + o.period + overhead < deadline
            if not ok and contended and rate < o.ceiling and room:
                # another process competed for the server's core: this failure says nothing
                self.console.print("    [yellow]server CPU was shared: measuring this rate again[/]")
                r = self.point(v, rate, o.period)
                ok = self.passes(r, threshold)
                self._show(v, r, ok)
                self.record(res, "search-again", r, ok)
            return r

        latency_cost = o.latency_period + overhead + 5 if o.latency_rate > 0 else 0.0
        search_deadline = deadline - latency_cost
        if o.rates:  # fixed sweep
            points: list[SearchPoint] = []
            for rate in o.rates:
                if time.monotonic() + o.period + overhead > search_deadline:
                    res.stopped_by = "deadline"
                    break
                r = measure(rate)
                ok = self.passes(r, threshold)
                points.append(SearchPoint(rate, r.rate, r.drop_pct, ok, r))
            passing = [p for p in points if p.ok]
            best = max(passing, key=lambda p: p.offered) if passing else None
            res.max_sustained = best.offered if best else 0.0
            res.peak_completed = max((p.completed_rate for p in points), default=None)
            best_result = best.result if best else None
            failing = [p.offered for p in points if not p.ok and p.offered > res.max_sustained]
            res.lowest_failing = min(failing) if failing else None
            res.stopped_by = res.stopped_by or "sweep"
        else:
            search = find_max_rate(
                measure,
                ceiling=o.ceiling,
                max_points=o.max_points,
                drop_threshold_pct=threshold,
                deadline=search_deadline,
                point_cost_s=o.period + overhead,
                passes=lambda r: self.passes(r, threshold),
            )
            res.max_sustained = search.best
            res.peak_completed = search.peak_completed if search.points else None
            res.lowest_failing = search.lowest_failing
            res.stopped_by = search.stopped_by
            best_point = search.best_point
            best_result = best_point.result if best_point else None
        if isinstance(best_result, PerfdhcpResult):
            res.drop_pct_at_max = best_result.drop_pct
            res.cpu_us_at_max = best_result.cpu_us_per_exchange
            res.extras_at_max = self.extras.get(id(best_result), {})
        if o.latency_rate > 0 and time.monotonic() + latency_cost <= hard_deadline:
            r = self.point(v, o.latency_rate, o.latency_period, latency=True)
            self._show(v, r, None)
            self.record(res, "latency", r, None)
            res.latency_rate = o.latency_rate
            res.p50_ms, res.p99_ms = r.p50_ms, r.p99_ms
            res.latency_drop_pct = r.drop_pct
            res.cpu_us_at_latency = r.cpu_us_per_exchange
        res.status = "ok"
        res.seconds = round(time.monotonic() - t0, 1)
        return res

    def run_pair(
        self, row: Variant, base: Variant, results: dict[str, VariantResult], deadline: float
    ) -> None:
        """``row`` and its baseline ``base`` in turns at the baseline's max sustained rate
        (``testing.paired``); the outcome goes to ``row``'s result, every point to both."""
        res, base_res = results.get(row.key), results.get(base.key)
        if res is None or base_res is None or res.status != "ok" or base_res.status != "ok":
            return
        rate = base_res.max_sustained
        if not rate:
            res.paired = {"ratio": None, "skipped": f"{base.key} sustained no rate"}
            return
        o = self.opts
        self.console.print(f"[bold]paired[/] {row.key} against {base.key} at {rate:,.0f}/s")

        def measure(role: str, at: float) -> PerfdhcpResult:
            v, into = (base, base_res) if role == "baseline" else (row, res)
            self.current = into
            r = self.point(v, at, o.period)
            ok = self.passes(r, o.drop_threshold)
            self._show(v, r, ok)
            self.record(into, "paired", r, ok)
            return r

        cost = o.period + max(point_overhead(row), point_overhead(base))
        res.paired = run_paired(
            measure, rate, o.paired_rounds, deadline=deadline, point_cost_s=cost
        ).summary()


def point_overhead(v: Variant) -> float:
    """Seconds a point of ``v`` costs besides its measured period (start, stop, its warm-up)."""
    return POINT_OVERHEAD_S + (v.warmup + 1.0 if v.warmup else 0.0)


def paired_rows(variants: Sequence[Variant]) -> list[tuple[Variant, Variant]]:
    """(row, baseline) of every ops row whose baseline runs too: their costs are the ones a
    search alone cannot tell apart from the host's noise."""
    by_key = {v.key: v for v in variants}
    return [(v, by_key[v.baseline]) for v in variants if v.kind == "ops" and v.baseline in by_key]


# --------------------------------------------------------------------------------------------
# reporting


def _fmt_rate(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _fmt(v: float | None, spec: str) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def ratio(res: VariantResult, by_key: dict[str, VariantResult]) -> str:
    if res.baseline is None:
        return "1.00" if res.status == "ok" and any(r.baseline == res.key for r in by_key.values()) else "-"
    base = by_key.get(res.baseline)
    if base is None or not base.max_sustained or res.max_sustained is None:
        return "-"
    return f"{res.max_sustained / base.max_sustained:.2f}"


def _paired_note(p: dict[str, Any]) -> str:
    if p.get("ratio") is None:
        return f"paired: {p.get('skipped') or 'no complete round'}"
    return (
        f"paired at {_fmt_rate(p['rate'])}/s: {p['ratio']:.2f}x "
        f"({_fmt_rate(p['row_done_per_s'])} vs {_fmt_rate(p['baseline_done_per_s'])} done/s, "
        f"{p['rounds']} rounds, worst drops {p['row_worst_drop_pct']:.2f} / {p['baseline_worst_drop_pct']:.2f} %)"
    )


def make_table(results: Sequence[VariantResult], opts: Options, title: str) -> Table:
    by_key = {r.key: r for r in results}
    table = Table(title=title, title_justify="left")
    table.add_column("variant")
    table.add_column("server")
    table.add_column("workload")
    table.add_column(f"max sustained/s\n(<= {opts.drop_threshold:g} % drops)", justify="right")
    table.add_column("vs\nbaseline", justify="right")
    table.add_column("peak done/s", justify="right")
    table.add_column(f"p50 / p99 ms\n@ {opts.latency_rate:g}/s", justify="right")
    table.add_column("CPU us/exch\n@ max", justify="right")
    table.add_column("note")
    for r in results:
        if r.status not in ("ok", "interrupted"):
            table.add_row(r.key, r.label, r.workload, "-", "-", "-", "-", "-", f"{r.status}: {r.note}")
            continue
        lat = f"{_fmt(r.p50_ms, '.3f')} / {_fmt(r.p99_ms, '.3f')}"
        searched = [p for p in r.points if p["kind"] != "latency"]
        note = f"{len(searched)} pts ({r.stopped_by})"
        if r.lowest_failing is not None:
            note += f", fails at {_fmt_rate(r.lowest_failing)}"
        if r.max_other_load_pct is not None and r.max_other_load_pct > CONTENDED_PCT:
            note += f"; CPU shared (<= {r.max_other_load_pct:.0f} %)"
        if r.baseline and not r.baseline.startswith("kea"):
            note += f"; vs {r.baseline}"
        if r.paired:
            note += f"; {_paired_note(r.paired)}"
        if r.extras_at_max:
            note += f"; at max: {_extras_note(r.extras_at_max)}"
        if r.store_checks:
            note += f"; {r.store_duplicates} duplicates in the store ({r.store_checks} pts checked)"
        if r.note:
            note += f"; {r.note}"
        table.add_row(
            r.key,
            r.label,
            r.workload,
            _fmt_rate(r.max_sustained),
            ratio(r, by_key),
            _fmt_rate(r.peak_completed),
            lat,
            _fmt(r.cpu_us_at_max, ".1f"),
            note,
        )
    return table


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else "?"


def busy_now(seconds: float = 1.0) -> dict[str, float]:
    """Per-CPU busy % over ``seconds`` (all processes): is the machine idle before we start?"""
    before = cpu_snapshot()
    time.sleep(seconds)
    return busy_between(before, cpu_snapshot())


def environment() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "python": platform.python_version(),
        "kea": _version(["kea-dhcp4", "-v"]),
        "perfdhcp": _version(["perfdhcp", "-v"]).replace("VERSION: ", ""),
        "git": _version(["git", "-C", str(REPO), "describe", "--always", "--dirty"]),
    }


# --------------------------------------------------------------------------------------------
# command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Max sustained DORA/SARR rate (<= 0.1 % drops), p50/p99 latency and CPU per exchange "
        "of dhcpbridge and ISC Kea, side by side in private network namespaces.",
        epilog="Variants: "
        + ", ".join(v.key for v in VARIANTS)
        + ". Needs root, perfdhcp and Kea (make system-deps).",
    )
    p.add_argument(
        "--quick", action="store_true", help="short runs (4 s points, 4 per variant, ~3-4 min in all)"
    )
    p.add_argument("--only", action="append", default=[], metavar="KEY[,KEY]", help="run only these variants")
    p.add_argument(
        "--servers",
        default="",
        metavar="KIND[,KIND]",
        help="run only these kinds: kea, dhcpbridge, bridge, shared, ops",
    )
    p.add_argument(
        "--list", action="store_true", help="list the variants and whether they can run, then exit"
    )
    p.add_argument("--period", type=float, help="seconds per search point (default 20, quick 4)")
    p.add_argument("--max-points", type=int, help="search points per variant (default 6, quick 4)")
    p.add_argument(
        "--ceiling", type=float, default=40_000, help="first (highest) rate probed (default 40000)"
    )
    p.add_argument("--rates", default="", metavar="R,R,...", help="fixed rate sweep instead of the search")
    p.add_argument("--latency-rate", type=float, default=1000, help="rate of the -x t latency run (0: skip)")
    p.add_argument("--latency-period", type=float, help="seconds of the latency run (default 10, quick 2)")
    p.add_argument(
        "--drop-threshold", type=float, default=0.1, help="max drops %% for 'sustained' (default 0.1)"
    )
    p.add_argument(
        "--clients", type=int, default=50_000, help="simulated clients, perfdhcp -R (default 50000)"
    )
    p.add_argument("--budget", type=float, help="overall time bound in s (default 1500, quick 360)")
    p.add_argument("--server-cpu", type=int, default=1, help="CPU the server is pinned to (-1: no pinning)")
    p.add_argument("--client-cpu", type=int, default=0, help="CPU perfdhcp is pinned to (-1: no pinning)")
    p.add_argument("--checksum-offload", choices=("on", "off"), default="on", help="veth tx checksum offload")
    p.add_argument(
        "--dhcpbridge", type=Path, default=None, help="dhcpbridge executable (default: the venv's)"
    )
    p.add_argument(
        "--scale-leases", type=int, help="leases of the scale rows (default 1000000, quick 100000; 0: skip)"
    )
    p.add_argument("--scale-budget", type=float, default=600.0, help="time bound of the scale rows in s")
    p.add_argument(
        "--paired-rounds",
        type=int,
        help="after the searches, each ops row and its baseline at the baseline's max rate, in turns, "
        "this many rounds (default 2, quick 1; 0: off)",
    )
    p.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="where results files go")
    p.add_argument("--no-save", action="store_true", help="do not write results files")
    p.add_argument("--keep-workdirs", action="store_true", help="keep each point's server dir (debugging)")
    p.add_argument("-v", "--verbose", action="store_true", help="print every perfdhcp summary line")
    return p.parse_args(argv)


def options_from(args: argparse.Namespace) -> Options:
    q = args.quick
    pin = (os.cpu_count() or 1) >= 2
    return Options(
        period=args.period or (4.0 if q else 20.0),
        max_points=args.max_points or (4 if q else 6),
        ceiling=args.ceiling,
        rates=[float(r) for r in args.rates.split(",") if r.strip()],
        latency_rate=args.latency_rate,
        latency_period=args.latency_period or (2.0 if q else 10.0),
        drop_threshold=args.drop_threshold,
        clients=args.clients,
        budget=args.budget or (360.0 if q else 1500.0),
        server_cpu=args.server_cpu if pin and args.server_cpu >= 0 else None,
        client_cpu=args.client_cpu if pin and args.client_cpu >= 0 else None,
        dhcpbridge_exe=args.dhcpbridge or default_dhcpbridge_exe(),
        keep_workdirs=args.keep_workdirs,
        verbose=args.verbose,
        quiet_wait=3.0 if q else 10.0,
        paired_rounds=args.paired_rounds if args.paired_rounds is not None else (1 if q else 2),
    )


def select(args: argparse.Namespace, console: Console) -> list[Variant]:
    by_key = {v.key: v for v in VARIANTS}
    wanted = [k.strip() for item in args.only for k in item.split(",") if k.strip()]
    unknown = [k for k in wanted if k not in by_key]
    if unknown:
        raise SystemExit(f"unknown variant(s) {unknown}; known: {list(by_key)}")
    kinds = {k.strip() for k in args.servers.split(",") if k.strip()}
    chosen = [v for v in VARIANTS if (not wanted or v.key in wanted) and (not kinds or v.kind in kinds)]
    # a ratio needs its baseline measured in the same run (and a baseline's own baseline)
    keys = {v.key for v in chosen}
    todo = list(chosen)
    while todo:
        v = todo.pop()
        if v.baseline and v.baseline not in keys:
            console.print(f"[dim]adding {v.baseline} as the baseline of {v.key}[/]")
            keys.add(v.baseline)
            todo.append(by_key[v.baseline])
    return [v for v in VARIANTS if v.key in keys]


def save(
    results: Sequence[VariantResult], opts: Options, env: dict[str, Any], table_text: str, outdir: Path
) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = outdir / f"bench-{stamp}.json"
    doc = {
        "environment": env,
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()},
        "results": [vars(r) for r in results],
    }
    path.write_text(json.dumps(doc, indent=2))
    path.with_suffix(".txt").write_text(table_text)
    return path


def scale_rows(leases: int, budget: float, console: Console) -> dict[str, Any]:
    """The scale rows: ``bench/scale.py`` (fill, restart time, RSS per lease, ours and Kea's)."""
    if leases <= 0:
        return {}
    console.print(f"[bold]scale[/] {leases:,} leases: fill a SQLite store, restart it, Kea memfile beside it")
    cmd = [sys.executable, str(REPO / "bench" / "scale.py"), "--leases", str(leases)]
    try:
        done = subprocess.run(
            [*cmd, "--budget", str(budget), "--json"], capture_output=True, text=True, timeout=budget + 120
        )
    except subprocess.TimeoutExpired:
        console.print(f"[yellow]scale rows: no answer within {budget + 120:.0f} s[/]")
        return {"status": "timed out"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        console.print(f"[red]scale rows failed:[/] {done.stderr.strip()[-400:]}")
        return {"status": "failed"}
    for line in lines[:-1]:
        console.print(line, markup=False, highlight=False)
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 150)
    opts = options_from(args)
    variants = select(args, console)
    if args.list:
        for v in VARIANTS:
            reason = v.unavailable(opts)
            console.print(f"{v.key:<16} {v.kind:<11} {v.workload.title:<13} {v.label}  {reason or 'ready'}")
        return 0
    reason = e2e_unavailable("perfdhcp", "kea-dhcp4", "kea-dhcp6")
    if reason:
        console.print(f"[red]cannot benchmark: {reason}[/]")
        return 2
    env = environment()
    env["idle_busy_pct"] = idle = busy_now()
    if any(pct > CONTENDED_PCT for pct in idle.values()):
        console.print(
            f"[yellow]the machine is not idle before the run ({idle}): other processes will add noise[/]"
        )
    console.print(
        f"[bold]dhcpbridge bench[/] {env['date']}  {env['cpu_model']} x{env['cpus']}  kernel {env['kernel']}  "
        f"Kea {env['kea']}  perfdhcp {env['perfdhcp']}  git {env['git']}"
    )
    console.print(
        f"period {opts.period:g} s, <= {opts.max_points} points/variant, drops <= {opts.drop_threshold:g} %, "
        f"latency at {opts.latency_rate:g}/s for {opts.latency_period:g} s, budget {opts.budget:g} s, "
        f"server CPU {opts.server_cpu}, perfdhcp CPU {opts.client_cpu}"
    )
    results: list[VariantResult] = []
    runnable: list[Variant] = []
    bench: Bench | None = None
    for v in variants:
        why = v.unavailable(opts)
        if why:
            console.print(f"[yellow]skipping {v.key}: {why}[/]")
            results.append(
                VariantResult(v.key, v.label, v.workload.title, v.baseline, status="skipped", note=why)
            )
        else:
            runnable.append(v)
    start = time.monotonic()
    deadline = start + opts.budget
    pairs = paired_rows(runnable) if opts.paired_rounds > 0 else []
    # the paired points' time comes off the searches' budget, so they run whatever the searches took
    reserve = len(pairs) * opts.paired_rounds * 2 * (opts.period + POINT_OVERHEAD_S + opts.quiet_wait / 2)
    searches_end = deadline - reserve
    interrupted = False
    try:
        with lab_topology(
            checksum_offload=args.checksum_offload == "on", keep_workdir=args.keep_workdirs
        ) as topo:
            bench = Bench(topo, opts, console)
            for i, v in enumerate(runnable):
                remaining = searches_end - time.monotonic()
                share = remaining / (len(runnable) - i)
                console.print(f"[bold]{v.key}[/] {v.label}, {v.workload.title} (time share {share:.0f} s)")
                try:
                    res = bench.run_variant(v, time.monotonic() + share, searches_end)
                except Exception as exc:  # one broken server must not hide the others' numbers
                    res = VariantResult(v.key, v.label, v.workload.title, v.baseline, status="failed")
                    res.note = (
                        str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                    )
                    console.print(f"[red]{v.key} failed:[/] {exc}", markup=True)
                results.append(res)
            done = {r.key: r for r in results}
            for row, base in pairs:
                bench.run_pair(row, base, done, deadline)
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, or SIGTERM (the topology turns it into SystemExit)
        interrupted = True
        console.print("[yellow]interrupted: namespaces removed, reporting what was measured[/]")
        partial = bench.current if bench is not None else None
        if partial is not None and partial.status == "pending":
            partial.status, partial.note = "interrupted", "partial: best passing point so far"
            passing = [p["offered_rate"] for p in partial.points if p.get("ok")]
            partial.max_sustained = max(passing, default=None)
            results.append(partial)
    if not interrupted:
        leases = (
            args.scale_leases if args.scale_leases is not None else (100_000 if args.quick else 1_000_000)
        )
        env["scale"] = scale_rows(leases, args.scale_budget, console)
    elapsed = time.monotonic() - start
    order = {v.key: i for i, v in enumerate(VARIANTS)}
    results.sort(key=lambda r: order[r.key])
    title = f"dhcpbridge bench {env['date']} ({elapsed / 60:.1f} min{', interrupted' if interrupted else ''})"
    table = make_table(results, opts, title)
    console.print(table)
    if not args.no_save:
        recorder = Console(record=True, width=160, file=open(os.devnull, "w"))  # noqa: SIM115
        recorder.print(table)
        path = save(
            results,
            opts,
            env | {"elapsed_s": round(elapsed, 1), "interrupted": interrupted},
            recorder.export_text(),
            args.results_dir,
        )
        console.print(f"results: {path} (+ .txt)")
    failed = [r for r in results if r.status == "failed"]
    return 130 if interrupted else (1 if failed else 0)


if __name__ == "__main__":
    sys.exit(main())
