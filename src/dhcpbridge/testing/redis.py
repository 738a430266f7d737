"""A private ``redis-server`` for tests: listens only on a unix socket in its own directory (no
TCP port, so parallel runs cannot collide, and processes in network namespaces reach it through
the file system), AOF on with ``appendfsync always`` by default; stopped (SIGTERM, or SIGKILL for
a crash) and started again on the same socket and data by PID. Never touches the machine's Redis.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Self

from dhcpbridge.testing.process import StartStop, end_all


class RedisServerError(RuntimeError):
    """redis-server did not start (its log tail is in the message)."""


def delete_prefix(url: str, prefix: str) -> int:
    """Delete every key under ``prefix`` (a test's own keys, never a whole DB); how many there were."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for i in range(0, len(keys), 500):
            client.delete(*keys[i : i + 500])
        return len(keys)
    finally:
        client.close()


def unique_prefix(letter: str = "A") -> str:
    """A key prefix no parallel test run shares."""
    return f"t{letter}{secrets.token_hex(4)}:"


def redis_unavailable() -> str | None:
    """None when ``redis-server`` can be run here, else why not (for a skip or a failure)."""
    return None if shutil.which("redis-server") else "redis-server is not installed"


class RedisServer(StartStop):
    """See the module docstring."""

    def __init__(self, directory: Path, appendfsync: str = "always", cpu: int | None = None) -> None:
        self.dir = directory
        self.cpu = cpu  # pinned to this CPU (``taskset``), threads included; None: not pinned
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket = self.dir / "redis.sock"
        self.log = self.dir / "redis.log"
        self.appendfsync = appendfsync
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0, **options: str) -> str:
        """``unix:///DIR/redis.sock?db=N&key-prefix=...``, the store URL of this server."""
        query = "&".join([f"db={db}", *(f"{k}={v}" for k, v in options.items())])
        return f"unix://{self.socket}?{query}"

    def start(self, timeout: float = 20.0) -> Self:
        args = [
            "redis-server",
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "777",
            "--dir", str(self.dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--save", "",
            "--daemonize", "no",
            "--logfile", str(self.log),
        ]  # fmt: skip
        if self.cpu is not None:
            args = ["taskset", "-c", str(self.cpu), *args]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.ping():
                return self
            time.sleep(0.05)
        self.kill()
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise RedisServerError(f"redis-server did not start on {self.socket}:\n{tail}")

    def ping(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(1.0)
                s.connect(str(self.socket))
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout: float = 20.0) -> None:
        """A clean shutdown (SIGTERM: Redis writes its AOF and exits)."""
        self._signal(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """A crash (SIGKILL): only what Redis had written to its AOF survives."""
        self._signal(signal.SIGKILL, 10.0)

    def _signal(self, sig: signal.Signals, timeout: float) -> None:
        if self.proc is not None:
            end_all([self.proc], sig, timeout)
