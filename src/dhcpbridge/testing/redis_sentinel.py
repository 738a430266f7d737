"""A private Redis Sentinel set-up for tests: a master, one replica and one sentinel, each a
``redis-server`` on a free TCP port of 127.0.0.1 (Sentinel knows servers by host and port, not by
unix socket) with its files in one directory; a failover on demand; stopped by PID. Never touches
the machine's Redis."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Self

import redis

from dhcpbridge.testing.process import StartStop, end_all
from dhcpbridge.testing.redis import RedisServerError

SERVICE = "mymaster"


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SentinelSet(StartStop):
    """See the module docstring."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.master_port = _free_tcp_port()
        self.replica_port = _free_tcp_port()
        self.sentinel_port = _free_tcp_port()
        self.procs: list[subprocess.Popen[bytes]] = []

    def url(self, **options: str) -> str:
        """The store URL: ``redis+sentinel://127.0.0.1:PORT/mymaster/0?...``."""
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"redis+sentinel://127.0.0.1:{self.sentinel_port}/{SERVICE}/0" + (f"?{query}" if query else "")

    def _server(self, name: str, *args: str) -> None:
        work = self.dir / name
        work.mkdir(parents=True, exist_ok=True)
        self.procs.append(
            subprocess.Popen(
                [
                    "redis-server",
                    *args,
                    "--dir",
                    str(work),
                    "--logfile",
                    str(work / "log"),
                    "--daemonize",
                    "no",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        )

    def start(self, timeout: float = 30.0) -> Self:
        plain = ("--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
        self._server("master", "--port", str(self.master_port), *plain)
        self._server(
            "replica",
            "--port",
            str(self.replica_port),
            *plain,
            "--replicaof",
            "127.0.0.1",
            str(self.master_port),
        )
        conf = self.dir / "sentinel.conf"  # Sentinel rewrites its config: a file of its own
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.dir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.master_port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 1000\n"
            f"sentinel failover-timeout {SERVICE} 5000\n"
        )
        self._server("sentinel", str(conf), "--sentinel")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # ready: the sentinel knows the replica, in sync
            try:
                replicas = self.sentinel().sentinel_slaves(SERVICE)
                if replicas and replicas[0].get("master-link-status") == "ok":
                    return self
            except (redis.RedisError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RedisServerError(f"the sentinel set in {self.dir} did not come up in {timeout} s")

    def sentinel(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.sentinel_port, socket_timeout=2, decode_responses=True)

    def master(self) -> tuple[str, int]:
        found: Any = self.sentinel().sentinel_get_master_addr_by_name(SERVICE)
        host, port = found
        return str(host), int(port)

    def failover(self, timeout: float = 30.0) -> tuple[str, int]:
        """``SENTINEL FAILOVER``: the replica becomes the master; returns the new master's address."""
        old = self.master()
        self.sentinel().execute_command("SENTINEL", "FAILOVER", SERVICE)  # type: ignore[no-untyped-call]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = self.master()
            if new != old:
                role = redis.Redis(host=new[0], port=new[1], socket_timeout=2).role()
                if role[0] in (b"master", "master"):
                    return new
            time.sleep(0.2)
        raise RedisServerError(f"no failover within {timeout} s (master still {old})")

    def stop(self) -> None:
        end_all(self.procs)
