"""The bench's Redis row: ``dhcpbridge serve`` with its leases in a private redis-server (unix
socket, AOF ``appendfsync everysec``, the usual production setting), started and stopped with
the server for every search point, so each point starts from an empty store whose pools' free
sets already exist (as on any Redis that has served before: the first allocation in a range
creates its free set once, about a second for the bench's /16, which would count as drops).

The note of the row counts Redis round trips per exchange: the store's pipelines (one per event
loop turn) are counted in the server, and Redis's own ``total_commands_processed`` /
``used_cpu_sys+user`` are read before the server stops (``redis.json`` in the point's workdir).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.testing.netns import Namespace
from dhcpbridge.testing.plan import AddressPlan
from dhcpbridge.testing.redis import RedisServer
from dhcpbridge.testing.server import DhcpbridgeServer


def redis_info(server: RedisServer) -> dict[str, object]:
    """``INFO`` of ``server`` (commands processed, CPU seconds)."""
    client = redis.Redis(unix_socket_path=str(server.socket))
    try:
        info: dict[str, object] = client.info()
        return info
    finally:
        client.close()


@dataclass(frozen=True)
class _Range:
    first: int
    last: int


def _ranges(plan: AddressPlan) -> list[_Range]:
    out = []
    for subnet in plan.subnets4:
        for pool in subnet.pools:
            first, _, last = pool.partition("-")
            out.append(_Range(int(ipaddress.IPv4Address(first)), int(ipaddress.IPv4Address(last))))
    return out


async def create_free_sets(url: str, plan: AddressPlan) -> None:
    """One allocation (given up at once) in every pool range of ``plan``."""
    store = open_store(url)
    try:
        now = time.time()
        for r in _ranges(plan):
            held = await store.allocate(
                Hold(Lease(0, b"\x00warm-up", LeaseState.OFFERED, now, now + 1), [r], now, 0)
            )
            if held is not None:
                await store.unhold(LeaseKind.V4, held.address, b"\x00warm-up")
    finally:
        await store.close()


class RedisBackedServer(DhcpbridgeServer):
    """``DhcpbridgeServer`` on ``unix://.../redis.sock`` of its own redis-server."""

    def __init__(self, ns: Namespace, workdir: Path, plan: AddressPlan, **kwargs: object) -> None:
        self.redis_dir = Path(tempfile.mkdtemp(prefix="dhcpA-bench-redis-", dir="/tmp"))
        self.redis = RedisServer(self.redis_dir, appendfsync="everysec")
        super().__init__(ns, workdir, plan, lease_store=self.redis.url(), **kwargs)  # type: ignore[arg-type]

    def start(self, timeout: float = 20.0) -> RedisBackedServer:
        self.redis.start()
        try:
            asyncio.run(create_free_sets(self.redis.url(), self.plan))
            super().start(timeout)
        except BaseException:
            self.redis.stop()
            raise
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        code = super().stop(timeout)
        try:
            if self.redis.ping():
                info = redis_info(self.redis)
                keep = ("total_commands_processed", "used_cpu_sys", "used_cpu_user", "used_memory_human")
                self.workdir.mkdir(parents=True, exist_ok=True)
                (self.workdir / "redis.json").write_text(json.dumps({k: info.get(k) for k in keep}))
        finally:
            self.redis.stop()
            shutil.rmtree(self.redis_dir, ignore_errors=True)
        return code
