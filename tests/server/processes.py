"""Real ``dhcpbridge serve`` processes for the server tests (loopback only, unprivileged ports):
start one with a config, wait for a log line, stop it by its PID."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROGRAM = [sys.executable, str(HERE / "shared_program.py")]  # dhcpbridge + the shared-memory:// double
WAIT = 60.0  # seconds; generous: other test runs share the machine


def free_port(kind: socket.SocketKind = socket.SOCK_DGRAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    """``serve --config PATH`` as a child process; its stderr goes to ``log``."""

    def __init__(self, config: Path, program: Sequence[str] = PROGRAM) -> None:
        self.log = config.with_suffix(f".{time.monotonic_ns()}.log")
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(
            [*program, "serve", "--config", str(config)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, needle: str, count: int = 1, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.text().count(needle) >= count:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no {count} x {needle!r} in the log (exit {self.proc.poll()}):\n{self.text()}")

    def exit_code(self, timeout: float = WAIT) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return self.proc.returncode
