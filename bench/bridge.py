"""bench/bridge.py - the "bridge" rows of ``make bench``: dhcpbridge asking ``dhcpbridge answer``.

One job: a :class:`~dhcpbridge.testing.server.ManagedServer` that is two processes in the server
namespace - the reference answer service on 127.0.0.1:8067 (``dhcpbridge answer --default``: every
client gets options from the service, its address from the subnet's pool) and ``dhcpbridge serve``
with the chain ``http`` (named ``inventory``) then ``pools`` - and that reports, per point, what the
bridge did (answers, cache hits, failures, from the server's control socket) and the answer
service's CPU time.

Pinning: the DHCP server on the server CPU (like every row); the answer service on the perfdhcp
CPU, so the server's core is the server's alone and its CPU per exchange stays comparable with
the static-source row.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dhcpbridge.control import call
from dhcpbridge.testing.netns import BackgroundProcess, Namespace
from dhcpbridge.testing.plan import AddressPlan
from dhcpbridge.testing.server import DhcpbridgeServer, ServerError, dhcpbridge_config, to_toml

ANSWER_PORT = 8067
SOURCE = "inventory"
# what the service answers every client: options, no address (the pool behind the source gives it)
DEFAULT_ANSWER: dict[str, Any] = {
    "action": "assign",
    "router": ["10.67.0.1"],
    "dns_servers": ["10.67.0.1"],
    "domain_name": "bridge.bench",
}


class BridgedServer(DhcpbridgeServer):
    """``dhcpbridge serve`` with an HTTP source in front of the pools, and its answer service."""

    def __init__(
        self,
        ns: Namespace,
        workdir: Path,
        plan: AddressPlan,
        *,
        cache_ttl: float,
        exe: Path,
        cpu: int | None,
        answer_cpu: int | None,
        tables: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(ns, workdir, plan, family=4, exe=exe, cpu=cpu, tables=tables)
        self.name = "dhcpbridge4-bridge"
        self.cache_ttl = cache_ttl
        self.answer_cpu = answer_cpu
        self.answer: BackgroundProcess | None = None
        self._answer_cpu0: float | None = None
        self._counts0: dict[str, Any] = {}

    @property
    def control_path(self) -> Path:
        return self.workdir / "control.sock"

    def write_config(self) -> Path:
        doc = dhcpbridge_config(self.plan, self.lease_store, family=4)
        doc["server"]["control-socket"] = str(self.control_path)
        doc["source"] = [
            {
                "type": "http",
                "name": SOURCE,
                "url": f"http://127.0.0.1:{ANSWER_PORT}/v1/question",
                "cache-ttl": self.cache_ttl,
            },
            {"type": "pools"},
        ]
        self.config_path.write_text(to_toml(self.merged(doc)))
        return self.config_path

    def start(self, timeout: float = 20.0) -> BridgedServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        default = self.workdir / "default.json"
        default.write_text(json.dumps(DEFAULT_ANSWER))
        argv = [str(self.exe), "answer", "--default", str(default), "--listen", f"127.0.0.1:{ANSWER_PORT}"]
        self.answer = self.ns.popen(
            argv, name="answer", log_path=self.workdir / "answer.out", cpu=self.answer_cpu
        )
        deadline = time.monotonic() + timeout
        while not self._answer_listening():
            if not self.answer.alive() or time.monotonic() > deadline:
                log = self.answer.log()[-2000:]
                self.answer.stop()
                raise ServerError(f"dhcpbridge answer did not come up:\n{log}")
            time.sleep(0.1)
        try:
            super().start(timeout)
        except Exception:
            self.answer.stop()
            raise
        self._answer_cpu0 = self.answer.cpu_seconds()
        return self

    def _answer_listening(self) -> bool:
        out = self.ns.run(["ss", "-H", "-ltn", f"sport = :{ANSWER_PORT}"], timeout=10, check=False)
        return bool(out.stdout.strip())

    def _counts(self) -> dict[str, Any]:
        stats = asyncio.run(call(self.control_path, {"cmd": "stats"}, timeout=5.0))
        return dict(stats.get("sources", {}).get(SOURCE, {}))

    def mark(self) -> None:
        """The measured load starts now: later figures count from here (not the warm-up)."""
        self._answer_cpu0 = self.answer.cpu_seconds() if self.answer is not None else None
        try:
            self._counts0 = self._counts()
        except (ConnectionError, OSError, ValueError):
            self._counts0 = {}

    def point_extras(self, completed: int, wall_s: float) -> Mapping[str, Any]:
        """What the bridge did since :meth:`mark` (call before :meth:`stop`)."""
        out: dict[str, Any] = {}
        try:
            counts = self._counts()
            for group in ("answers", "failures"):
                before = self._counts0.get(group, {})
                counts[group] = {k: n - before.get(k, 0) for k, n in counts.get(group, {}).items()}
            out["bridge_counts"] = counts
        except (ConnectionError, OSError, ValueError) as exc:
            out["bridge_counts_error"] = str(exc)
        if self.answer is not None and self._answer_cpu0 is not None:
            now = self.answer.cpu_seconds()
            if now is not None:
                spent = now - self._answer_cpu0
                out["answer_cpu_s"] = round(spent, 3)
                if completed:
                    out["answer_cpu_us_per_exchange"] = round(1e6 * spent / completed, 1)
                if wall_s:
                    out["answer_cpu_pct"] = round(100.0 * spent / wall_s, 1)
        return out

    def stop(self, timeout: float = 10.0) -> int | None:
        try:
            return super().stop(timeout)
        finally:
            if self.answer is not None:
                self.answer.stop(timeout)


def _tally(counts: Mapping[str, Any]) -> tuple[int, int, int]:
    """(questions the service answered, answers from the cache, failed questions)."""
    answers: Mapping[str, int] = counts.get("answers", {})
    asked = sum(n for k, n in answers.items() if k not in ("cache-hit", "stale"))
    return asked, answers.get("cache-hit", 0), sum(counts.get("failures", {}).values())


def failure_pct(extras: Mapping[str, Any]) -> float:
    """Questions that failed (timeout, breaker open, ...) in % of all questions; 100 if unknown."""
    counts: Mapping[str, Any] = extras.get("bridge_counts", {})
    if not counts:
        return 100.0
    asked, _, failed = _tally(counts)
    return 100.0 * failed / (asked + failed) if asked + failed else 0.0


def summary(extras: Mapping[str, Any]) -> str:
    """One short line for the table's note: where the answers came from, the service's CPU."""
    counts: Mapping[str, Any] = extras.get("bridge_counts", {})
    parts = []
    if counts:
        asked, cached, failed = _tally(counts)
        parts.append(f"{asked:,} asked, {cached:,} cached, {failed:,} failed")
    if "server_cpu_pct" in extras:
        parts.append(f"server {extras['server_cpu_pct']:.0f} % CPU")
    if "answer_cpu_pct" in extras:
        parts.append(
            f"answer svc {extras['answer_cpu_pct']:.0f} % CPU, "
            f"{extras.get('answer_cpu_us_per_exchange', 0):.0f} us/exch"
        )
    if "answer_core_busy_pct" in extras:
        parts.append(f"its core (with perfdhcp) {extras['answer_core_busy_pct']:.0f} % busy")
    return "; ".join(parts)
