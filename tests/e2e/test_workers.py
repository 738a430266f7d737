"""``[server] workers = 2`` on one shared store under real perfdhcp load, in the lab namespaces
(perfdhcp relays from ``rly``, the supervisor and its workers serve in ``srv``): both workers
answer, the store holds one address per client and no address twice, a killed worker is started
again and the server keeps serving, and SIGTERM ends every process.

The store is ``DHCPBRIDGE_SHARED_STORE`` (default ``redis://127.0.0.1:6379/0`` with a key prefix of
this run's own, deleted afterwards; never a FLUSHDB). Redis on the host's loopback is not
reachable from inside a namespace, so a TCP store is reached through a Unix socket that ``socat``
(started and ended here, by PID) forwards to it; a ``unix://`` URL is used as it is.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import secrets
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import lab_topology
from dhcpbridge.testing.perfdhcp import perfdhcp4
from dhcpbridge.testing.plan import LAB_PLAN, AddressPlan, Subnet4
from dhcpbridge.testing.server import DhcpbridgeServer, dhcpbridge_config, to_toml, wait_for

pytestmark = pytest.mark.e2e
DEFAULT_STORE = "redis://127.0.0.1:6379/0"
METRICS = "127.0.0.1:9367"  # inside the srv namespace
# the lab's relayed subnet with a pool of 1022 addresses (the lab's own /16 pool is 65k addresses)
PLAN = AddressPlan(
    interfaces=LAB_PLAN.interfaces,
    subnets4=(
        LAB_PLAN.subnets4[0],
        Subnet4("10.68.0.0/16", ("10.68.1.0-10.68.4.253",), routers=("10.68.0.1",)),
    ),
    subnets6=(),
)


def with_prefix(url: str, prefix: str) -> str:
    return url + ("&" if "?" in url else "?") + f"key-prefix={prefix}"


class Forward:
    """``socat`` forwarding a Unix socket (reachable from every namespace) to a TCP store."""

    def __init__(self, directory: Path, host: str, port: int) -> None:
        self.path = directory / "store.sock"
        self.proc = subprocess.Popen(
            ["socat", f"UNIX-LISTEN:{self.path},fork,mode=600", f"TCP:{host}:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for(self.path.exists, 20):
            self.close()
            raise RuntimeError("socat did not create its socket")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def shared_store(directory: Path) -> Iterator[tuple[str, str]]:
    """(URL for the test process, URL for the server in the namespace); this run's keys are
    deleted afterwards."""
    base = os.environ.get("DHCPBRIDGE_SHARED_STORE", DEFAULT_STORE)
    prefix = f"tF{secrets.token_hex(4)}:"
    parts = urlsplit(base)
    if parts.scheme not in ("redis", "rediss", "unix"):
        pytest.skip(f"test_workers knows Redis URLs only, not {parts.scheme}://")
    host_url = with_prefix(base, prefix)
    forward = None
    ns_url = host_url
    if parts.scheme != "unix":
        forward = Forward(directory, parts.hostname or "127.0.0.1", parts.port or 6379)
        ns_url = with_prefix(f"unix://{forward.path}?db={parts.path.strip('/') or '0'}", prefix)
    try:
        yield host_url, ns_url
    finally:
        if forward is not None:
            forward.close()
        delete_prefix(base, prefix)


class Workers(DhcpbridgeServer):
    """``dhcpbridge serve`` with ``[server] workers = 2`` and metrics in the namespace."""

    def write_config(self) -> Path:
        doc: dict[str, Any] = dhcpbridge_config(self.plan, self.lease_store)
        doc["server"].update({"workers": 2, "metrics": METRICS, "raw-socket": False})
        doc["leases"]["reap-interval"] = 5
        self.config_path.write_text(to_toml(doc))
        return self.config_path


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def _bound(url: str) -> list[Any]:
    from dhcpbridge.engine.model import LeaseKind, LeaseState
    from dhcpbridge.leases.registry import open_store

    store = open_store(url)
    try:
        return [lease for lease in await store.leases(LeaseKind.V4) if lease.state == LeaseState.BOUND]
    finally:
        await store.close()


def delete_prefix(url: str, prefix: str) -> None:
    """Delete this run's keys (``prefix``), never a whole database."""
    assert prefix.startswith("tF")
    redis: Any = importlib.import_module("redis")
    client = redis.Redis.from_url(url.split("?")[0])
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
    finally:
        client.close()


def test_two_workers_share_the_load_and_the_pool(tmp_path: Path) -> None:
    require_e2e("perfdhcp", "socat")
    import asyncio

    with shared_store(tmp_path) as (host_url, ns_url), lab_topology() as topo:
        server = Workers(topo["srv"], topo.workdir / "workers", PLAN, lease_store=ns_url, cpu=None)
        with server:
            srv = topo["srv"]
            assert wait_for(lambda: server.log().count("serving") >= 2, 90), server.log()[-3000:]
            workers = children(server.pid)
            assert len(workers) == 2, server.log()[-3000:]

            r = perfdhcp4(topo["rly"], rate=100, period=5, clients=600, server_pid=server.pid)
            assert r.sent > 0 and r.completed > 0, r.line("workers=2") + "\n" + server.log()[-3000:]
            assert r.completed >= 0.5 * r.sent, r.line("workers=2")

            metrics = srv.run(["curl", "-s", f"http://{METRICS}/metrics"], timeout=30).stdout
            per_worker = {
                w: sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in metrics.splitlines()
                    if line.startswith("dhcpbridge_received_total") and f'worker="{w}"' in line
                )
                for w in ("0", "1")
            }
            assert all(count > 0 for count in per_worker.values()), per_worker
            assert srv.run(["curl", "-s", f"http://{METRICS}/healthz"], timeout=30).stdout == "ok\n"

            bound = asyncio.run(_bound(host_url))
            addresses = [lease.address for lease in bound]
            clients = [lease.client for lease in bound]
            assert len(bound) >= r.completed  # every ACK perfdhcp got is a bound lease
            assert len(set(addresses)) == len(addresses)  # no address twice
            assert len(set(clients)) == len(clients)  # no client with two addresses

            os.kill(workers[0], signal.SIGKILL)  # a worker of the supervisor this test started
            assert wait_for(
                lambda: len(children(server.pid)) == 2 and workers[0] not in children(server.pid), 90
            ), server.log()[-3000:]
            assert wait_for(lambda: server.log().count("serving") >= 3, 90), server.log()[-3000:]
            again = perfdhcp4(topo["rly"], rate=50, period=3, clients=300, server_pid=server.pid)
            assert again.completed > 0, again.line("after a restart")
            everyone = children(server.pid)
            print(
                json.dumps({"load": r.summary(), "per_worker": per_worker, "after_restart": again.summary()})
            )
        assert server.proc is not None and not server.proc.alive()
        assert not any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in everyone)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
