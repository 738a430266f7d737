"""A real ``dhcpbridge serve`` on 127.0.0.1 (unprivileged port, SQLite store, control socket), driven
by ``dhcpbridge probe`` acting as a relay agent, and ``dhcpbridge leases`` through the control socket
and beside it. Loopback only; every process is started and ended here, by PID."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dhcpbridge import control
from dhcpbridge.cli import main

CLI = [sys.executable, "-m", "dhcpbridge"]
CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
{control}
log-level = "info"

[leases]
store = "sqlite://leases.db"
reap-interval = 1

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
lease-time = 600
relay-addresses = ["127.0.0.1"]
options = {{ routers = ["10.67.0.1"], domain-name = "lab.example" }}

[[reservation]]
mac = "02:67:00:00:00:77"
ip = "10.67.0.77"
hostname = "fixed"
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    config: Path
    port: int
    log: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def write_config(directory: Path, port: int, control: bool) -> Path:
    path = directory / ("dhcpbridge.toml" if control else "no-control.toml")
    path.write_text(CONFIG.format(port=port, control='control-socket = "control.sock"' if control else ""))
    return path


def ping(path: Path) -> bool:
    try:
        return isinstance(asyncio.run(control.call(path, {"cmd": "stats"}, timeout=1.0)), dict)
    except (ConnectionError, ValueError):
        return False


def start(directory: Path) -> Running:
    port = free_port()
    config = write_config(directory, port, control=True)
    log = directory / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CLI, "serve", "--config", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    server = Running(proc, config, port, log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}: {log.read_text()}")
        if (directory / "control.sock").exists() and ping(directory / "control.sock"):
            return server
        time.sleep(0.1)
    server.stop()
    raise AssertionError(f"serve did not come up: {log.read_text()}")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``dhcpbridge ARGS`` in this process (click's runner): same code path, no interpreter start-up."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def run_real(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m dhcpbridge ARGS`` as its own process."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30)


def probe(server: Running, *extra: str, real: bool = False) -> list[dict[str, Any]]:
    result = (run_real if real else run)(
        "probe",
        "--server",
        f"127.0.0.1:{server.port}",
        "--giaddr",
        "127.0.0.1",
        "--json",
        "--timeout",
        "2",
        *extra,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def leases(server: Running, *args: str, config: Path | None = None) -> Any:
    result = run("leases", *args, "--config", str(config or server.config), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = start(tmp_path_factory.mktemp("serve"))
    try:
        yield running
    finally:
        running.stop()


def wait_for(check: Any, seconds: float = 5.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_probe_full_release_json(server: Running) -> None:
    steps = probe(server, "--full", "--release", "--hostname", "probe-one", real=True)
    assert [s["step"] for s in steps] == ["DISCOVER -> OFFER", "REQUEST -> ACK"]
    offer, ack = steps[0]["reply"], steps[1]["reply"]
    assert offer["type"] == "DHCPOFFER" and ack["type"] == "DHCPACK"
    assert offer["yiaddr"] == ack["yiaddr"] and ack["giaddr"] == "127.0.0.1"
    assert 100 <= int(ack["yiaddr"].split(".")[3]) <= 199 and ack["yiaddr"].startswith("10.67.0.")
    opts = ack["options"]
    assert opts["53 dhcp-message-type"] == "DHCPACK"
    assert opts["51 dhcp-lease-time"] == 600 and opts["3 routers"] == ["10.67.0.1"]
    assert opts["54 dhcp-server-identifier"] == "127.0.0.1"
    addr = ack["yiaddr"]

    def released() -> bool:
        rows = leases(server, "list")
        return any(r["address"] == addr and r["state"] == "released" for r in rows)

    assert wait_for(released), leases(server, "list")


def test_reserved_client_and_leases_through_the_control_socket(server: Running) -> None:
    steps = probe(server, "--full", "--mac", "02:67:00:00:00:77")
    assert steps[1]["reply"]["yiaddr"] == "10.67.0.77"
    row = leases(server, "show", "10.67.0.77")
    assert (
        row["state"] == "bound" and row["hwaddr"] == "02:67:00:00:00:77" and row["source"] == "reservations"
    )
    assert any(r["address"] == "10.67.0.77" for r in leases(server, "list", "--state", "bound"))
    released = leases(server, "release", "10.67.0.77")
    assert released["state"] == "released"
    assert leases(server, "show", "10.67.0.77")["state"] == "released"  # the server's own view
    db = sqlite3.connect(server.config.parent / "leases.db")  # and the file: flushed at once
    state = db.execute("SELECT state FROM leases WHERE address = '10.67.0.77'").fetchone()
    assert state == (2,)
    db.close()


def test_leases_beside_a_running_server_without_control_socket(server: Running) -> None:
    probe(server, "--full", "--mac", "02:67:00:00:00:78")
    other = write_config(server.config.parent, server.port, control=False)
    rows = leases(server, "list", config=other)  # read-only: what the server has flushed
    assert any(r["hwaddr"] == "02:67:00:00:00:78" and r["state"] == "bound" for r in rows)
    result = run("leases", "release", "--config", str(other), rows[0]["address"])
    assert result.returncode == 1
    assert "in use by another dhcpbridge server" in result.stderr and "control-socket" in result.stderr


def test_show_unknown_address_through_the_control_socket(server: Running) -> None:
    result = run_real("leases", "show", "--config", str(server.config), "10.67.0.250")
    assert result.returncode == 1
    assert "no lease for 10.67.0.250" in result.stderr and "Traceback" not in result.stderr


def test_probe_without_a_server_fails(tmp_path: Path) -> None:
    result = run("probe", "--server", f"127.0.0.1:{free_port()}", "--giaddr", "127.0.0.1", "--timeout", "0.3")
    assert result.returncode == 1 and "no reply" in result.stderr


def test_probe_usage_errors() -> None:
    result = run("probe", "--timeout", "0.1")
    assert result.returncode == 2 and "exactly one of --interface" in result.stderr
    result = run("probe", "--server", "127.0.0.1:9", "--mac", "02:67", "--timeout", "0.1")
    assert result.returncode == 2 and "not a 6-byte MAC" in result.stderr


def test_sigterm_stops_cleanly_and_leases_stay_in_the_store(tmp_path: Path) -> None:
    running = start(tmp_path)
    try:
        steps = probe(running, "--full", "--mac", "02:67:00:00:00:79")
        addr = steps[1]["reply"]["yiaddr"]
        stats = run("leases", "list", "--config", str(running.config), "--json", "--state", "offered")
        assert stats.returncode == 0 and json.loads(stats.stdout) == []  # the offer became a lease
    finally:
        code = running.stop()
    assert code == 0, running.log.read_text()
    assert not (tmp_path / "control.sock").exists()
    rows = leases(running, "list")  # no server now: straight from the file
    assert [(r["address"], r["state"]) for r in rows] == [(addr, "bound")]
    assert leases(running, "release", addr)["state"] == "released"
    assert leases(running, "show", addr)["state"] == "released"
    assert os.path.getsize(tmp_path / "leases.db") > 0


SIGHUP_DURING_START = """\
import os, signal, sys
from dhcpbridge.cli import main
from dhcpbridge.server import Server

started = Server.start


async def start_then_hup(self):
    await started(self)  # the ports are open: a reload can come in before run() has returned here
    os.kill(os.getpid(), signal.SIGHUP)


Server.start = start_then_hup
sys.argv = ["dhcpbridge", "serve", "--config", sys.argv[1], "--log-format", "json"]
main()
"""


def test_sighup_while_starting_is_a_reload_not_the_end(tmp_path: Path) -> None:
    """Regression: the signal handlers came after the sockets, so a SIGHUP in that window ended the
    server (the default action) without a word."""
    config = write_config(tmp_path, free_port(), control=False)
    script = tmp_path / "hup_while_starting.py"
    script.write_text(SIGHUP_DURING_START)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(script), str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    running = Running(proc, config, 0, log)
    try:
        assert wait_for(lambda: '"reloaded"' in log.read_text() or proc.poll() is not None, 20.0)
        assert proc.poll() is None, f"serve ended with {proc.returncode}: {log.read_text()}"
    finally:
        code = running.stop()
    assert code == 0, log.read_text()
