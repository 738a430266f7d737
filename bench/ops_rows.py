"""The operations rows of ``make bench`` (issues 11 and 12), each against a baseline in the same
run:

- ``dhcpbridge4-plain``: the sqlite row with the looking glass off and no API (the baseline of the
  next one);
- ``dhcpbridge4-api``: the looking glass on and the management API polled at 20 requests/s
  (``bench/api_poller.py`` in the server's namespace, the leases page and the stats in turn, as
  the dashboard does; pinned to perfdhcp's CPU like BIND below) during the max-rate search;
  goal >= 0.95x;
- ``dhcpbridge4-dns``: ``[dns]`` updates on (A + PTR + DHCID for every lease: names generated for
  perfdhcp's clients) to a BIND 9 the bench starts in the server's namespace on a free port
  (pinned to perfdhcp's CPU: a DNS server is another host, it must not take the server's core),
  against ``dhcpbridge4`` (updates off); goal >= 0.9x. The row's note gives the update backlog at
  the end of the measured run and the updates per second BIND accepted (read through the
  server's control socket).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dhcpbridge.testing.bind import BindServer, free_port
from dhcpbridge.testing.netns import Namespace, Topology
from dhcpbridge.testing.plan import LAB_PLAN, AddressPlan
from dhcpbridge.testing.process import BackgroundProcess
from dhcpbridge.testing.server import DhcpbridgeServer, ManagedServer, dhcpbridge_config, to_toml

POLL_RATE = 20.0
POLLER = Path(__file__).resolve().parent / "api_poller.py"
FORWARD = "bench.test"


def reverse_zones(plan: AddressPlan) -> list[str]:
    """The in-addr.arpa zones of the plan's v4 subnets (/8, /16 or /24 boundaries)."""
    zones = []
    for subnet in plan.subnets4:
        net, length = subnet.subnet.split("/")
        octets = net.split(".")[: int(length) // 8]
        zones.append(".".join(reversed(octets)) + ".in-addr.arpa")
    return zones


class OpsServer(DhcpbridgeServer):
    """``DhcpbridgeServer`` with extra config tables (``extra``) and a control socket, so the
    bench can read the server's counters at the end of a point."""

    def __init__(
        self, ns: Namespace, workdir: Path, plan: AddressPlan, extra: dict[str, Any], **kw: Any
    ) -> None:
        super().__init__(ns, workdir, plan, **kw)
        self.extra = extra

    def write_config(self) -> Path:
        doc = dhcpbridge_config(self.plan, self.lease_store, family=self.family)
        doc["server"]["control-socket"] = str(self.workdir / "control.sock")
        for table, values in self.extra.items():
            doc.setdefault(table, {}).update(values)
        self.config_path.write_text(to_toml(doc))
        return self.config_path

    def server_stats(self) -> dict[str, Any]:
        out = subprocess.run(
            [str(self.exe), "stats", "--config", str(self.config_path)],
            capture_output=True,
            text=True,
            timeout=20,
        )
        if out.returncode != 0:
            raise OSError(out.stderr.strip()[-300:])
        stats: dict[str, Any] = json.loads(out.stdout)
        return stats

    def mark(self) -> None:
        """The start of the measured run."""
        self._t0 = time.monotonic()

    def point_extras(self, completed: int, wall_s: float) -> Mapping[str, Any]:
        return {}


class PolledServer(OpsServer):
    """The API on 127.0.0.1 in the server's namespace, polled at ``POLL_RATE`` while it runs; the
    poller is pinned to ``poller_cpu`` (perfdhcp's core: an operator's tool runs on another host,
    it must not take the server's core; None: unpinned)."""

    def __init__(
        self, ns: Namespace, workdir: Path, plan: AddressPlan, poller_cpu: int | None = None, **kw: Any
    ) -> None:
        self.poller_cpu = poller_cpu
        self.api_port = free_port()
        super().__init__(ns, workdir, plan, {"api": {"listen": f"127.0.0.1:{self.api_port}"}}, **kw)
        self.poller: BackgroundProcess | None = None
        self.poll_out = self.workdir / "poller.json"

    def mark(self) -> None:
        super().mark()
        url = f"http://127.0.0.1:{self.api_port}"
        argv = [sys.executable, str(POLLER), url, str(POLL_RATE), "900", str(self.poll_out)]
        self.poller = self.ns.popen(argv, name="api-poller", cpu=self.poller_cpu)

    def point_extras(self, completed: int, wall_s: float) -> Mapping[str, Any]:
        poller, self.poller = self.poller, None
        if poller is None:
            return {}
        poller.stop(10.0)  # SIGTERM: it writes what it did
        try:
            polls: dict[str, Any] = json.loads(self.poll_out.read_text())
        except (OSError, ValueError) as exc:
            return {"api_error": str(exc)}
        if polls.get("seconds"):
            polls["per_s"] = round(polls["requests"] / polls["seconds"], 1)
        return {"api": polls}

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.poller is not None:
            self.poller.stop(5.0)
        return super().stop(timeout)


class DnsServer(OpsServer):
    """``[dns]`` on, to a BIND started for each point in the server's namespace."""

    def __init__(
        self, ns: Namespace, workdir: Path, plan: AddressPlan, bind_cpu: int | None = None, **kw: Any
    ) -> None:
        self.bind = BindServer(
            workdir / "bind", [FORWARD, *reverse_zones(plan)], port=free_port(), ns=ns, cpu=bind_cpu
        )
        zones = [
            {"name": zone, "server": "127.0.0.1", "port": self.bind.port, "key-file": str(self.bind.key_path)}
            for zone in (FORWARD, *reverse_zones(plan))
        ]
        dns = {"generated-prefix": "dhcp", "queue": str(workdir / "dns-queue.sqlite"), "zone": zones}
        super().__init__(ns, workdir, plan, {"dns": dns}, **kw)
        self._counts0: dict[str, Any] = {}

    def start(self, timeout: float = 20.0) -> DnsServer:
        self.bind.start()
        try:
            super().start(timeout)
        except BaseException:
            self.bind.stop()
            raise
        return self

    def _dns(self) -> dict[str, Any]:
        dns: dict[str, Any] = self.server_stats().get("dns", {})
        return dns

    def mark(self) -> None:
        super().mark()
        try:
            self._counts0 = self._dns()
        except (OSError, ValueError):
            self._counts0 = {}

    def point_extras(self, completed: int, wall_s: float) -> Mapping[str, Any]:
        try:
            dns = self._dns()
        except (OSError, ValueError) as exc:
            return {"dns_error": str(exc)}
        before = self._counts0.get("outcomes", {})
        outcomes = {
            k: n - before.get(k, 0) for k, n in dns.get("outcomes", {}).items() if n - before.get(k, 0)
        }
        seconds = time.monotonic() - getattr(self, "_t0", time.monotonic())
        accepted = outcomes.get("success", 0)
        return {
            "dns": {
                "enqueued": dns.get("enqueued", 0) - self._counts0.get("enqueued", 0),
                "deferred": dns.get("deferred", 0) - self._counts0.get("deferred", 0),
                "backlog": dns.get("backlog"),
                "oldest_age_s": dns.get("oldest_age"),
                "outcomes": outcomes,
                "accepted_per_s": round(accepted / seconds, 1) if seconds > 0 else None,
            }
        }

    def stop(self, timeout: float = 10.0) -> int | None:
        try:
            return super().stop(timeout)
        finally:
            self.bind.stop()


def summary(extras: Mapping[str, Any]) -> str | None:
    """The note of an ops row's point, or None when ``extras`` are not ours."""
    if "api" in extras:
        a = extras["api"]
        return f"API polled {a.get('per_s')}/s ({a.get('failed')} failed, p50 {a.get('p50_ms')} ms, p99 {a.get('p99_ms')} ms)"
    if "dns" in extras:
        d = extras["dns"]
        return (
            f"DNS: {d.get('enqueued')} updates queued, BIND accepted {d.get('accepted_per_s')}/s, "
            f"backlog {d.get('backlog')} (oldest {d.get('oldest_age_s')} s), outcomes {d.get('outcomes')}, "
            f"{d.get('deferred')} waits for a quiet loop"
        )
    if "api_error" in extras or "dns_error" in extras:
        return str(extras.get("api_error") or extras.get("dns_error"))
    return None


def variants(variant: Callable[..., Any], dora: Any, missing: Callable[[Any], str | None]) -> list[Any]:
    """The three rows (``Variant`` and the DORA workload come from bench/run.py)."""

    def plain(topo: Topology, workdir: Path, opts: Any) -> ManagedServer:
        extra = {"looking-glass": {"enabled": False}}
        return OpsServer(
            topo["srv"], workdir, LAB_PLAN, extra, family=4, exe=opts.dhcpbridge_exe, cpu=opts.server_cpu
        )

    def polled(topo: Topology, workdir: Path, opts: Any) -> ManagedServer:
        return PolledServer(
            topo["srv"],
            workdir,
            LAB_PLAN,
            opts.client_cpu,  # perfdhcp's core, as BIND's below
            family=4,
            exe=opts.dhcpbridge_exe,
            cpu=opts.server_cpu,
        )

    def dns(topo: Topology, workdir: Path, opts: Any) -> ManagedServer:
        bind_cpu = opts.client_cpu  # perfdhcp's core, not the server's (None: unpinned)
        return DnsServer(
            topo["srv"],
            workdir,
            LAB_PLAN,
            bind_cpu,
            family=4,
            exe=opts.dhcpbridge_exe,
            cpu=opts.server_cpu,
        )

    def no_named(opts: Any) -> str | None:
        import shutil

        return missing(opts) or (None if shutil.which("named") else "named (bind9) not installed")

    return [
        variant(
            "dhcpbridge4-plain", "dhcpbridge sqlite, glass off, no API", "ops", dora, plain, None, missing
        ),
        variant(
            "dhcpbridge4-api",
            f"dhcpbridge sqlite, glass on, API polled {POLL_RATE:g}/s",
            "ops",
            dora,
            polled,
            "dhcpbridge4-plain",
            missing,
        ),
        variant(
            "dhcpbridge4-dns",
            "dhcpbridge sqlite, DNS updates on (BIND)",
            "ops",
            dora,
            dns,
            "dhcpbridge4",
            no_named,
        ),
    ]
