"""``docs/grafana/dhcpbridge.json`` asks only for what a server exports: a real ``dhcpbridge
serve`` (loopback, ``[dns]`` on with a zone server that does not answer, one DORA from ``probe``
and one malformed datagram so that the labelled counters have samples) is scraped, and every
metric name in every panel's query must be among its families, and every label a query selects
or groups by among that metric's labels (where the scrape has samples of it: a healthy server
counts no internal errors, so ``dhcpbridge_errors_total`` has none)."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs" / "grafana" / "dhcpbridge.json"
CLI = [sys.executable, "-m", "dhcpbridge"]
CONFIG = """\
[server]
address = "127.0.0.1"
port = {udp}
interfaces = []
raw-socket = false
metrics = "127.0.0.1:{metrics}"

[leases]
store = "memory://"

[dns]
retry-min = 0.5
timeout = 0.5

[[dns.zone]]
name = "grafana.test"
server = "127.0.0.1"
port = {dead}

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
relay-addresses = ["127.0.0.1"]
options = {{ domain-name = "grafana.test" }}
"""


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scrape(tmp_path: Path) -> Iterator[str]:
    udp, metrics = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    config = tmp_path / "dhcpbridge.toml"
    config.write_text(CONFIG.format(udp=udp, metrics=metrics, dead=free_port(socket.SOCK_STREAM)))
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([*CLI, "serve", "--config", str(config)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{metrics}/metrics"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None, (
                    tmp_path / "server.log"
                ).read_text()
                time.sleep(0.2)
        probe = [*CLI, "probe", "--server", f"127.0.0.1:{udp}", "--mac", "02:67:0a:0f:00:01"]
        done = subprocess.run(
            [*probe, "--hostname", "graf", "--full", "--timeout", "10"], capture_output=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # a malformed datagram: a drop
            s.sendto(b"\x01" * 20, ("127.0.0.1", udp))
        time.sleep(1.5)  # the drop counted, the DNS update tried (and failed) at least once
        yield httpx.get(url, timeout=5).text
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _exported(text: str) -> dict[str, set[str]]:
    """Every name a query may use (a counter's ``_total``, a histogram's ``_bucket``...), with
    the labels its samples carry."""
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        base = {family.name: set()}
        if family.type == "counter":
            base[family.name + "_total"] = set()
        elif family.type == "histogram":
            base.update({family.name + s: set() for s in ("_bucket", "_count", "_sum")})
        for sample in family.samples:
            base.setdefault(sample.name, set()).update(sample.labels)
        for name, labels in base.items():
            names.setdefault(name, set()).update(labels)
    return names


def _queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    return exprs


def test_every_query_of_the_dashboard_names_what_the_server_exports(scrape: str) -> None:
    exported = _exported(scrape)
    queries = _queries()
    assert len(queries) >= 15
    used: set[str] = set()
    for expr in queries:
        metrics = re.findall(r"\bdhcpbridge_[a-z0-9_]+\b", expr)
        assert metrics, expr
        for metric in metrics:
            assert metric in exported, (metric, expr)
            used.add(metric)
            for selector in re.findall(metric + r"\{([^}]*)\}", expr):
                for label in re.findall(r"(\w+)\s*[=!~]", selector):
                    sampled = exported[metric]
                    assert label == "instance" or not sampled or label in sampled, (label, metric, expr)
        labels = set().union(*(exported[m] for m in metrics)) | {"le"}
        if labels == {"le"}:
            continue  # no samples of these yet
        for group in re.findall(r"by \(([^)]*)\)", expr):
            for label in (g.strip() for g in group.split(",")):
                assert label in labels, (label, expr)
    # the panels cover traffic, drops, latency, pools, leases, errors and the DNS queue's health
    for wanted in ("received", "sent", "dropped", "request_latency", "subnet_addresses", "pool_addresses",
                   "leases", "errors", "dns_backlog", "dns_oldest_pending_seconds", "dns_updates"):  # fmt: skip
        assert any(wanted in m for m in used), wanted
