"""The bench's Redis row: ``dhcpbridge serve`` with its leases in a private redis-server (unix
socket, AOF ``appendfsync everysec``, the usual production setting), started and stopped with
the server for every search point, so each point starts from an empty store (a pool range needs
no set-up in Redis: its bitmap of taken addresses starts as a missing key).

The note of the row counts Redis round trips per exchange: the store's pipelines (one per event
loop turn) are counted in the server, and Redis's own ``total_commands_processed`` /
``used_cpu_sys+user`` are read before the server stops (``redis.json`` in the point's workdir).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path

import redis

from dhcpbridge.leases import open_store
from dhcpbridge.testing.netns import Namespace
from dhcpbridge.testing.plan import AddressPlan
from dhcpbridge.testing.redis import RedisServer
from dhcpbridge.testing.server import DhcpbridgeServer, dhcpbridge_config, to_toml, wait_for


def redis_info(server: RedisServer) -> dict[str, object]:
    """``INFO`` of ``server`` (commands processed, CPU seconds)."""
    client = redis.Redis(unix_socket_path=str(server.socket))
    try:
        info: dict[str, object] = client.info()
        return info
    finally:
        client.close()


def duplicates(server: RedisServer) -> int:
    """Bound leases beyond one per client in the store (0 when no client got two addresses; an
    address has one record by construction: the records are a hash keyed by address)."""
    client = redis.Redis(unix_socket_path=str(server.socket))
    try:
        now = time.time()
        per_client: dict[str, int] = {}
        for raw in client.hvals("dhcpbridge:rec:v4"):
            rec = json.loads(raw)
            if rec["state"] == "bound" and float(rec["expires"]) > now:
                per_client[rec["client"]] = per_client.get(rec["client"], 0) + 1
        return sum(n - 1 for n in per_client.values() if n > 1)
    finally:
        client.close()


class RedisBackedServer(DhcpbridgeServer):
    """``DhcpbridgeServer`` on ``unix://.../redis.sock`` of its own redis-server."""

    def __init__(
        self,
        ns: Namespace,
        workdir: Path,
        plan: AddressPlan,
        workers: int = 0,
        redis_cpu: int | None = None,
        **kwargs: object,
    ) -> None:
        self.redis_dir = Path(tempfile.mkdtemp(prefix="dhcpA-bench-redis-", dir="/tmp"))
        # pinned, as BIND and the API poller of the ops rows, to perfdhcp's core (``redis_cpu``):
        # unpinned, the scheduler put it on the server's core, the two taking turns on one core
        # (the store runs on another host in a deployment)
        self.redis = RedisServer(self.redis_dir, appendfsync="everysec", cpu=redis_cpu)
        self.workers = workers  # > 0: ``[server] workers``, that many servers on this one Redis
        self.duplicates: int | None = None  # found in Redis when the server stopped
        super().__init__(ns, workdir, plan, lease_store=self.redis.url(), **kwargs)  # type: ignore[arg-type]

    def write_config(self) -> Path:
        config = dhcpbridge_config(self.plan, self.lease_store, family=self.family)
        if self.workers:
            config.setdefault("server", {})["workers"] = self.workers
        self.config_path.write_text(to_toml(config))
        return self.config_path

    def start(self, timeout: float = 20.0) -> RedisBackedServer:
        self.redis.start()
        try:
            super().start(timeout)
            # the supervisor binds the port; each worker serves only once it has started
            if self.workers and not wait_for(lambda: self.log().count(" serving ") >= self.workers, timeout):
                raise RuntimeError(f"{self.workers} workers did not all start:\n{self.log()[-2000:]}")
        except BaseException:
            self.redis.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        code = super().stop(timeout)
        try:
            if self.redis.ping():
                self.duplicates = duplicates(self.redis)
                info = redis_info(self.redis)
                keep = ("total_commands_processed", "used_cpu_sys", "used_cpu_user", "used_memory_human")
                self.workdir.mkdir(parents=True, exist_ok=True)
                (self.workdir / "redis.json").write_text(json.dumps({k: info.get(k) for k in keep}))
        finally:
            self.redis.stop()
            shutil.rmtree(self.redis_dir, ignore_errors=True)
        return code


async def _micro_dora(url: str, clients: int, batch: int) -> dict[str, float]:
    """``clients`` DORAs through the v4 engine on ``url``, ``batch`` clients at a time (each batch's
    DISCOVERs together, then its REQUESTs, then a flush: the server's batches, without sockets)."""
    import micro_engine4 as m  # bench/micro_engine4.py: its config and perfdhcp-like packets

    from dhcpbridge.assemble import build_engine4
    from dhcpbridge.config import loader
    from dhcpbridge.engine.records import HostInfo
    from dhcpbridge.engine.stats import Stats
    from dhcpbridge.wire.v4.message import ip4_int, parse

    store = open_store(url)
    engine = build_engine4(
        loader.from_dict(m.CONFIG), store, HostInfo.build({"srv1": (ip4_int("10.68.0.1"),)}), Stats()
    )
    now = time.time()
    warm = m.perfdhcp_like(1, clients + 1)  # creates the pool's free set before the clock starts
    await engine.process(warm, m.META, now)
    trips = getattr(store, "round_trips", 0)
    wall, cpu = time.perf_counter(), time.process_time()
    for base in range(0, clients, batch):
        ids = range(base + 1, min(clients, base + batch) + 1)
        offers = await asyncio.gather(*(engine.process(m.perfdhcp_like(1, i), m.META, now) for i in ids))
        requests = []
        for i, outcome in zip(ids, offers, strict=True):
            assert outcome.data is not None, outcome.drop_reason
            offer = parse(outcome.data)
            requests.append(
                m.perfdhcp_like(3, i, {50: offer.yiaddr.to_bytes(4, "big"), 54: offer.options[54]})
            )
        acks = await asyncio.gather(*(engine.process(r, m.META, now) for r in requests))
        await store.flush()
        assert all(a.data for a in acks), acks[0].drop_reason
        m.release(offers, acks)
    out = {
        "wall_s": time.perf_counter() - wall,
        "client_cpu_s": time.process_time() - cpu,
        "round_trips": float(getattr(store, "round_trips", 0) - trips),
    }
    await store.close()
    return out


def micro(clients: int, batch: int) -> None:
    """Print DORA/s, round trips, Redis commands and CPU per DORA against a private redis-server."""
    with tempfile.TemporaryDirectory(prefix="dhcpA-redis-micro-", dir="/tmp") as tmp:
        server = RedisServer(Path(tmp), appendfsync="everysec").start()
        try:
            before = redis_info(server)
            got = asyncio.run(_micro_dora(server.url(), clients, batch))
            after = redis_info(server)
        finally:
            server.stop()

    def delta(key: str) -> float:
        return float(after[key]) - float(before[key])  # type: ignore[arg-type]

    redis_cpu = delta("used_cpu_sys") + delta("used_cpu_user")
    print(
        f"redis micro, {clients} DORAs, batch {batch}: {clients / got['wall_s']:8.0f} DORA/s  "
        f"round trips/DORA {got['round_trips'] / clients:5.2f}  "
        f"redis commands/DORA {delta('total_commands_processed') / clients:5.2f}  "
        f"client CPU/DORA {got['client_cpu_s'] / clients * 1e6:6.0f} µs  "
        f"redis CPU/DORA {redis_cpu / clients * 1e6:6.0f} µs"
    )


if __name__ == "__main__":
    import argparse
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    ap = argparse.ArgumentParser(description="Redis store micro-benchmark (no sockets but Redis's)")
    ap.add_argument("--clients", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=32)
    cli = ap.parse_args()
    for b in (1, cli.batch):
        micro(cli.clients, b)
