"""ISC perfdhcp (Debian ``kea-admin``) load runs in a namespace, and a parser for its report.

One job: run one bounded perfdhcp test against the server namespace, parse what it prints into a
:class:`PerfdhcpResult`, and attach the server's CPU cost per exchange.

How the load is generated (as in the lab):

* ``perfdhcp -4`` always behaves like a relay agent (giaddr = its own address, hops 1, source port
  67), so it needs an IPv4 address: it runs in the ``rly`` namespace (10.68.0.2) and unicasts to
  the server at 10.68.0.1, which answers unicast to 10.68.0.2:67 from the 10.68.0.0/16 subnet.
* ``perfdhcp -6`` runs in the ``cli`` namespace on ``cli0`` (link-local source, multicast to
  ff02::1:2, exactly like a client) or, with ``relay=True``, in ``rly`` with ``-A 1`` (Relay-forw;
  the link-address comes from a ``-J`` file holding ``fd68::2``).
* perfdhcp is pinned to CPU :data:`CLIENT_CPU` (0) and run single-threaded (``-g single``): it
  busy-polls its core whatever the rate.  The server is pinned to CPU 1 by its runner.
* Every run is bounded twice: ``-p PERIOD`` and an outer ``timeout -s INT`` (then SIGKILL).

Report fields (see :func:`parse_output`): ``rate`` is completed 4-way exchanges (ACK / Reply
received) per second of the test period (:func:`run_perfdhcp` divides by ``-p``; perfdhcp's own
"Rate:" line, which :func:`parse_output` keeps, divides by the period plus the ``-W`` wait); ``sent`` is first-phase
messages (DISCOVER / Solicit) sent; ``completed`` the second-phase replies received; ``drops`` =
``sent - completed`` (lost in either phase, or later than the drop time: perfdhcp waits that long
for the answers still in flight when the period ends, ``-W``); ``avg_ms`` / ``max_ms``
add the two phases (server-side time of one exchange, perfdhcp's own gap between Offer and
Request excluded).  With ``latency=True`` perfdhcp runs with ``-x t`` and prints the timestamps
of every successful exchange; ``p50_ms`` / ``p99_ms`` are the sums of the per-phase percentiles
(perfdhcp does not say which Offer belongs to which Ack).  ``-x t`` keeps every packet in memory
and its exit gets slow beyond ~100k exchanges: use it at moderate rates for a few seconds.

CPU: ``server_cpu_s`` is the server process's utime+stime (/proc/PID/stat, all threads) over the
run; ``cpu_us_per_exchange`` divides it by ``completed``.  It includes the server's idle wake-ups
and start/stop of perfdhcp, so it is meaningful near saturation, an upper bound at low rates.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, Unpack

from dhcpbridge.testing.netns import Namespace, NetnsError
from dhcpbridge.testing.process import process_cpu_seconds

CLIENT_CPU = 0
"""CPU perfdhcp is pinned to (the server under test gets CPU 1)."""

DEFAULT_CLIENTS = 50_000
"""Simulated clients (``-R``): the relayed IPv4 pool 10.68.1.0-10.68.255.254 holds ~65k."""
DROP_TIME = 1.0  # seconds after which perfdhcp counts a request as lost (its -d default)

_PHASES = {4: ("DISCOVER-OFFER", "REQUEST-ACK"), 6: ("SOLICIT-ADVERTISE", "REQUEST-REPLY")}
_NUM = r"([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)"


@dataclass(frozen=True)
class PhaseStats:
    """One "***Statistics for: X***" block, plus the delays of its "Timestamps" block (``-x t``)."""

    name: str
    sent: int
    received: int
    drops: int
    orphans: int
    rejected_leases: int
    non_unique: int
    min_ms: float | None
    avg_ms: float | None
    max_ms: float | None
    std_ms: float | None
    delays_ms: tuple[float, ...] = ()

    def percentile(self, p: float) -> float | None:
        """Nearest-rank percentile of ``delays_ms`` (None without ``-x t``)."""
        return percentile(self.delays_ms, p)


@dataclass
class PerfdhcpResult:
    """A parsed perfdhcp report, plus how it was run and what the server spent."""

    family: int
    rate: float
    sent: int
    completed: int
    phase1: PhaseStats | None
    phase2: PhaseStats | None
    malformed: int = 0
    offered_rate: float | None = None
    period_s: float | None = None
    clients: int | None = None
    exit_code: int | None = None
    wall_s: float | None = None
    server_cpu_s: float | None = None
    cpu_busy_pct: dict[str, float] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def drops(self) -> int:
        return max(0, self.sent - self.completed)

    @property
    def drop_pct(self) -> float:
        return 100.0 * self.drops / self.sent if self.sent else 100.0

    @property
    def avg_ms(self) -> float | None:
        return _add(self.phase1.avg_ms if self.phase1 else None, self.phase2.avg_ms if self.phase2 else None)

    @property
    def max_ms(self) -> float | None:
        return _add(self.phase1.max_ms if self.phase1 else None, self.phase2.max_ms if self.phase2 else None)

    def latency_ms(self, p: float) -> float | None:
        """Sum of the ``p``-th percentile of both phases (needs ``-x t``)."""
        if self.phase1 is None or self.phase2 is None:
            return None
        return _add(self.phase1.percentile(p), self.phase2.percentile(p))

    @property
    def p50_ms(self) -> float | None:
        return self.latency_ms(50)

    @property
    def p99_ms(self) -> float | None:
        return self.latency_ms(99)

    @property
    def cpu_us_per_exchange(self) -> float | None:
        if self.server_cpu_s is None or self.completed <= 0:
            return None
        return 1e6 * self.server_cpu_s / self.completed

    @property
    def ok(self) -> bool:
        """perfdhcp produced a report in which at least one exchange completed."""
        return self.sent > 0 and self.completed > 0

    def summary(self) -> dict[str, float | int | None]:
        """The headline numbers (for logs and results files)."""
        return {
            "offered_rate": self.offered_rate,
            "rate": round(self.rate, 1),
            "sent": self.sent,
            "completed": self.completed,
            "drops": self.drops,
            "drop_pct": round(self.drop_pct, 4),
            "avg_ms": _round(self.avg_ms),
            "max_ms": _round(self.max_ms),
            "p50_ms": _round(self.p50_ms),
            "p99_ms": _round(self.p99_ms),
            "server_cpu_s": _round(self.server_cpu_s),
            "cpu_us_per_exchange": _round(self.cpu_us_per_exchange, 2),
            "wall_s": _round(self.wall_s, 2),
            "exit_code": self.exit_code,
        }

    def line(self, label: str = "") -> str:
        """One ``key=value`` line like the lab's perfdhcp-summary.py."""
        parts = [f"label={label}"] if label else []
        parts += [f"{k}={'na' if v is None else v}" for k, v in self.summary().items()]
        return " ".join(parts)


def _round(v: float | None, nd: int = 3) -> float | None:
    return None if v is None or math.isnan(v) else round(v, nd)


def _add(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a + b


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100) of an ascending sequence; None if empty."""
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, max(0, round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


def _block(text: str, header: str) -> str | None:
    """The body of a ``***header***`` block (up to the next ``***`` header or the end)."""
    m = re.search(r"\*\*\*" + re.escape(header) + r"\*\*\*\n(.*?)(?=\n\*\*\*|\Z)", text, re.S)
    return m.group(1) if m else None


def _int(body: str, label: str) -> int:
    m = re.search(r"^" + re.escape(label) + r": (\d+)", body, re.M)
    return int(m.group(1)) if m else 0


def _ms(body: str, label: str) -> float | None:
    m = re.search(r"^" + re.escape(label) + r": " + _NUM + r" ms", body, re.M)
    return float(m.group(1)) if m else None


def _delays(text: str, name: str) -> tuple[float, ...]:
    body = _block(text, f"Timestamps for packets: {name}")
    if not body:
        return ()
    out = [
        (float(m.group(2)) - float(m.group(1))) * 1000.0
        for m in re.finditer(r"sent / received: " + _NUM + r" / " + _NUM, body)
    ]
    return tuple(sorted(out))


def _phase(text: str, name: str) -> PhaseStats | None:
    body = _block(text, f"Statistics for: {name}")
    if body is None:
        return None
    return PhaseStats(
        name=name,
        sent=_int(body, "sent packets"),
        received=_int(body, "received packets"),
        drops=_int(body, "drops"),
        orphans=_int(body, "orphans"),
        rejected_leases=_int(body, "rejected leases"),
        non_unique=_int(body, "non unique addresses"),
        min_ms=_ms(body, "min delay"),
        avg_ms=_ms(body, "avg delay"),
        max_ms=_ms(body, "max delay"),
        std_ms=_ms(body, "std deviation"),
        delays_ms=_delays(text, name),
    )


def parse_output(text: str, family: int | None = None) -> PerfdhcpResult:
    """Parse perfdhcp's report (with or without ``-x t``); ``family`` is guessed when None.

    A report without statistics (perfdhcp failed to start) parses to ``sent == completed == 0``.
    """
    if family is None:
        family = 6 if "SOLICIT-ADVERTISE" in text or re.search(r"perfdhcp\s+-6", text) else 4
    p1_name, p2_name = _PHASES[family]
    rate_m = re.search(r"^Rate: " + _NUM, text, re.M)
    malformed_m = re.search(r"^Malformed packets: (\d+)", text, re.M)
    p1, p2 = _phase(text, p1_name), _phase(text, p2_name)
    return PerfdhcpResult(
        family=family,
        rate=float(rate_m.group(1)) if rate_m else 0.0,
        sent=p1.sent if p1 else 0,
        completed=p2.received if p2 else 0,
        phase1=p1,
        phase2=p2,
        malformed=int(malformed_m.group(1)) if malformed_m else 0,
        output=text,
    )


def cpu_snapshot() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, total) jiffies from /proc/stat (busy = user+nice+system+irq+softirq)."""
    out = {}
    for line in Path("/proc/stat").read_text().splitlines():
        parts = line.split()
        if parts and parts[0].startswith("cpu") and parts[0] != "cpu":
            v = [int(x) for x in parts[1:8]]
            busy = v[0] + v[1] + v[2] + v[5] + v[6]
            out[parts[0]] = (busy, busy + v[3] + v[4])
    return out


def busy_between(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> dict[str, float]:
    """Per-CPU busy % between two :func:`cpu_snapshot` calls (all processes and the kernel)."""
    out = {}
    for name, (b1, t1) in after.items():
        b0, t0 = before.get(name, (b1, t1))
        if t1 > t0:
            out[name] = round(100.0 * (b1 - b0) / (t1 - t0), 1)
    return out


def run_perfdhcp(
    ns: Namespace,
    args: Sequence[str],
    *,
    family: int,
    period: float,
    rate: float | None = None,
    clients: int | None = None,
    server_pid: int | None = None,
    cpu: int | None = CLIENT_CPU,
    timeout: float | None = None,
    raw_output: Path | None = None,
) -> PerfdhcpResult:
    """Run ``perfdhcp ARGS`` in ``ns`` (bounded), parse it, measure ``server_pid``'s CPU time.

    ``args`` must already contain ``-p`` (use :func:`perfdhcp4` / :func:`perfdhcp6`).  The hard
    bound is ``timeout`` (default: period + 20 s): perfdhcp gets SIGINT, then SIGKILL 5 s later.
    """
    hard = math.ceil(timeout if timeout is not None else period + 20)
    argv = ["timeout", "-s", "INT", "-k", "5", str(hard)]
    if cpu is not None:
        argv += ["taskset", "-c", str(cpu)]
    argv += ["perfdhcp", *args]
    cpu0 = process_cpu_seconds(server_pid) if server_pid else None
    busy0 = cpu_snapshot()
    t0 = time.monotonic()
    try:
        proc = ns.run(argv, timeout=hard + 15, check=False)
        text, code = proc.stdout + proc.stderr, proc.returncode
    except NetnsError as exc:  # even `timeout -k` did not end it
        text, code = str(exc), None
    wall = time.monotonic() - t0
    cpu1 = process_cpu_seconds(server_pid) if server_pid else None
    busy1 = cpu_snapshot()
    result = parse_output(text, family)
    if period > 0:  # perfdhcp's Rate line also counts the -W wait after the period as test time
        result.rate = result.completed / period
    result.offered_rate = rate
    result.period_s = period
    result.clients = clients
    result.exit_code = code
    result.wall_s = wall
    result.command = argv
    if cpu0 is not None and cpu1 is not None:
        result.server_cpu_s = cpu1 - cpu0
    result.cpu_busy_pct = busy_between(busy0, busy1)
    if raw_output is not None:
        raw_output.write_text(text)
    return result


def _common(rate: float, period: float, clients: int, latency: bool, drop_time: float | None) -> list[str]:
    args = ["-g", "single", "-r", f"{rate:g}", "-R", str(clients), "-p", f"{period:g}"]
    if latency:
        args += ["-x", "t"]
    if drop_time is not None:
        args += ["-d", f"{drop_time:g}"]
    # the answers in flight when the period ends are waited for (as long as an answer may take
    # mid-run, the drop time): without it they counted as drops, rate x latency of them, which
    # failed a server with 10 ms of latency at 1,000/s for answers that were not late
    wait_us = round((drop_time if drop_time is not None else DROP_TIME) * 1e6)
    return [*args, "-W", str(wait_us)]


def latency_timeout(rate: float, period: float) -> float:
    """Hard bound for a run: period + 20 s, plus time for ``-x t`` to print every exchange."""
    return period + 20 + rate * period / 5000.0


class LoadOptions(TypedDict, total=False):
    """What :func:`perfdhcp4` and :func:`perfdhcp6` take besides rate and period.

    ``clients`` (default :data:`DEFAULT_CLIENTS`), ``latency`` (``-x t``, bounded by
    :func:`latency_timeout`), ``server_pid`` (CPU accounting), ``drop_time``, ``extra`` perfdhcp
    arguments, ``cpu`` (default :data:`CLIENT_CPU`), ``raw_output`` (keep perfdhcp's output there).
    """

    clients: int
    latency: bool
    server_pid: int | None
    drop_time: float | None
    extra: Sequence[str]
    cpu: int | None
    raw_output: Path | None


def _load(
    ns: Namespace,
    family: int,
    rate: float,
    period: float,
    args: Callable[[list[str], Sequence[str]], list[str]],
    options: LoadOptions,
) -> PerfdhcpResult:
    """Run perfdhcp with ``args(common arguments, extra arguments)``."""
    clients = options.get("clients", DEFAULT_CLIENTS)
    latency = options.get("latency", False)
    common = _common(rate, period, clients, latency, options.get("drop_time"))
    return run_perfdhcp(
        ns,
        args(common, options.get("extra", ())),
        family=family,
        period=period,
        rate=rate,
        clients=clients,
        server_pid=options.get("server_pid"),
        cpu=options.get("cpu", CLIENT_CPU),
        timeout=latency_timeout(rate, period) if latency else None,
        raw_output=options.get("raw_output"),
    )


def perfdhcp4(
    ns: Namespace, *, rate: float, period: float, server: str = "10.68.0.1", **options: Unpack[LoadOptions]
) -> PerfdhcpResult:
    """DORA load as a relay agent from ``ns`` (the lab's ``rly``) to ``server``."""
    return _load(ns, 4, rate, period, lambda common, extra: ["-4", *common, *extra, server], options)


LEASE_TYPES = ("address-only", "prefix-only", "address-and-prefix")


def perfdhcp6(
    ns: Namespace,
    *,
    rate: float,
    period: float,
    interface: str = "cli0",
    lease_type: str = "address-only",
    relay: bool = False,
    link_address: str = "fd68::2",
    **options: Unpack[LoadOptions],
) -> PerfdhcpResult:
    """SARR load: direct from ``interface`` (the lab's ``cli``/cli0) or, with ``relay``, ``-A 1``.

    In relay mode run it in the ``rly`` namespace with ``interface="rly0"``; ``link_address``
    is written to the ``-J`` file (it selects the subnet on the server).
    """
    if lease_type not in LEASE_TYPES:
        raise ValueError(f"lease_type must be one of {LEASE_TYPES}")
    relays: list[str] = []
    jfile: Path | None = None
    if relay:
        fd, name = tempfile.mkstemp(prefix="perfdhcp6-relays-", dir=ns.workdir)
        os.close(fd)
        jfile = Path(name)
        jfile.write_text(link_address + "\n")
        relays = ["-A", "1", "-J", str(jfile)]

    def args(common: list[str], extra: Sequence[str]) -> list[str]:
        return ["-6", *common, "-e", lease_type, *extra, *relays, "-l", interface, "all"]

    try:
        return _load(ns, 6, rate, period, args, options)
    finally:
        if jfile is not None:
            jfile.unlink(missing_ok=True)
