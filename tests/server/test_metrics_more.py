"""Issue 12's metrics on a real server's ``/metrics``: after a DORA by ``dhcpbridge probe`` (a
separate process acting as a relay agent on loopback), the request latency histogram counts
the DISCOVER and the REQUEST per type, and the per-subnet and per-pool gauges show the bound
address (their snapshot is refreshed by a task; the test makes it refresh often)."""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dhcpbridge import pool_metrics
from dhcpbridge.config import load
from dhcpbridge.server import Server

CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
metrics = "127.0.0.1:{http}"

[leases]
store = "memory://"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.109", "10.67.0.200/30"]
relay-addresses = ["127.0.0.1"]
"""


def free_port(kind: socket.SocketKind) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as http, http.get(url) as r:
        text = await r.text()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_latency_histogram_and_pool_gauges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_metrics, "REFRESH", 0.1)
    port, http = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG.format(port=port, http=http))
    server = Server(load(path), path)
    await server.start()
    try:
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("dhcpbridge")), "probe", "--server", f"127.0.0.1:{port}",
            "--mac", "02:67:0d:0c:00:01", "--full", "--timeout", "10",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, (out + err).decode()
        url = f"http://127.0.0.1:{http}/metrics"
        subnet = "10.67.0.0/24"
        for _ in range(100):
            samples = await scrape(url)
            if samples.get(("dhcpbridge_subnet_addresses", (("state", "bound"), ("subnet", subnet)))) == 1:
                break
            await asyncio.sleep(0.1)
        count = "dhcpbridge_request_latency_seconds_count"
        assert samples[(count, (("family", "v4"), ("type", "DHCPDISCOVER")))] == 1
        assert samples[(count, (("family", "v4"), ("type", "DHCPREQUEST")))] == 1
        inf = (
            "dhcpbridge_request_latency_seconds_bucket",
            (("family", "v4"), ("le", "+Inf"), ("type", "DHCPREQUEST")),
        )
        assert samples[inf] == 1
        assert (
            samples[("dhcpbridge_request_latency_seconds_sum", (("family", "v4"), ("type", "DHCPREQUEST")))]
            > 0
        )

        def subnet_gauge(state: str) -> float:
            return samples[("dhcpbridge_subnet_addresses", (("state", state), ("subnet", subnet)))]

        assert subnet_gauge("total") == 14 and subnet_gauge("bound") == 1 and subnet_gauge("free") == 13
        pool = (
            "dhcpbridge_pool_addresses",
            (("pool", "10.67.0.200/30"), ("state", "total"), ("subnet", subnet)),
        )
        assert samples[pool] == 4
    finally:
        await server.stop()
