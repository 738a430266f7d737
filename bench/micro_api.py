"""Micro-benchmark of the management API's handlers with a large lease table: wall ms per request
of the dashboard's polls (``/v1/leases?limit=50``, the next page by cursor, ``/v1/stats``,
``/v1/subnets``) on a real ``Server`` (memory store) holding ``--leases`` bound v4 leases, called
in-process through ASGI (no sockets), best of ``--repeat``.

With ``--http S``: the API served by uvicorn on a loopback port, as in the server, and
``bench/api_poller.py`` polling it at 20 requests/s for ``S`` seconds; prints the CPU time this
process (the server) spent per second of polling, less its idle CPU over as long (bounded: S <= 60).

Run: flock /work/cpu.lock .venv/bin/python bench/micro_api.py [--leases N] [--repeat R] [--http S]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx

from dhcpbridge.api.app import create_app
from dhcpbridge.config import load
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.server import Server
from dhcpbridge.testing.bind import free_port

CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false

[leases]
store = "memory://"

[[subnet4]]
subnet = "10.0.0.0/8"
pools = ["10.0.0.10-10.3.255.250"]
relay-addresses = ["127.0.0.1"]
"""


async def fill(server: Server, count: int) -> None:
    assert server.store is not None
    now = time.time()
    for i in range(count):
        lease = Lease(
            kind=LeaseKind.V4,
            address=0x0A000010 + i * 7919 % count,  # not in address order (count coprime to 7919)
            client=i.to_bytes(6, "big"),
            hwaddr=i.to_bytes(6, "big"),
            state=LeaseState.BOUND,
            starts=now,
            expires=now + 3600,
            hostname=f"host{i}",
            subnet="10.0.0.0/8",
        )
        await server.store.commit(lease, now)


async def polled_cpu(server: Server, seconds: float) -> None:
    """CPU seconds per second the server spends while ``api_poller.py`` polls it (less idle)."""
    from dhcpbridge.api.serve import addons

    config = server.config.model_copy(
        update={"api": server.config.api.model_copy(update={"listen": f"127.0.0.1:{free_port()}"})}
    )
    listen = str(config.api.listen)
    async with addons(config)[0](server):
        t0, c0 = time.monotonic(), time.process_time()
        await asyncio.sleep(seconds)
        idle = (time.process_time() - c0) / (time.monotonic() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            poller = Path(__file__).resolve().parent / "api_poller.py"
            out = Path(tmp) / "polls.json"
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(poller), f"http://{listen}", "20", str(seconds), str(out)
            )
            t0, c0 = time.monotonic(), time.process_time()
            await asyncio.wait_for(proc.wait(), seconds + 30)
            busy = (time.process_time() - c0) / (time.monotonic() - t0)
            print(
                f"polled at 20/s: {1000 * busy:.1f} ms CPU/s, idle {1000 * idle:.1f} ms CPU/s, {out.read_text()}"
            )


async def main(leases: int, repeat: int, http: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.toml"
        path.write_text(CONFIG.format(port=free_port()))
        server = Server(load(path), path)
        await server.start()
        try:
            await fill(server, leases)
            app = create_app(server, None)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                first = (await client.get("/v1/leases?limit=50")).json()
                paths = {
                    "leases page 1": "/v1/leases?limit=50",
                    "leases page 2": f"/v1/leases?limit=50&cursor={first['next_cursor']}",
                    "leases bound": "/v1/leases?limit=50&state=bound",
                    "stats": "/v1/stats",
                    "subnets": "/v1/subnets",
                    "health": "/v1/health",
                }
                for name, url in paths.items():
                    best = float("inf")
                    for _ in range(repeat):
                        t0 = time.perf_counter()
                        r = await client.get(url)
                        best = min(best, time.perf_counter() - t0)
                        assert r.status_code == 200, (url, r.text[:200])
                    print(f"{name:14s} {1000 * best:8.2f} ms")
            if http:
                await polled_cpu(server, min(http, 60.0))
        finally:
            await server.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--leases", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--http", type=float, default=0.0, help="seconds of real HTTP polling (0: none)")
    args = ap.parse_args()
    asyncio.run(main(args.leases, args.repeat, args.http))
