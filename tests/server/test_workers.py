"""``[server] workers``: the supervisor starts N workers that share its sockets, starts a killed
one again, forwards SIGHUP, serves one aggregated ``/metrics`` and ``/healthz``, and SIGTERM
ends every process. Real processes on loopback, with the test-only ``shared-memory://`` store
(``shared_program.py``); a single-writer store is refused."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from dhcpbridge.config import ConfigError, load
from dhcpbridge.server import StartError
from dhcpbridge.server.workers import require_shared_store

from .processes import WAIT, Serve, free_port

pytestmark = pytest.mark.usefixtures("test_stores")

CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
workers = {workers}
metrics = "127.0.0.1:{http}"
{extra}

[leases]
store = "{store}"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
relay-addresses = ["127.0.0.1"]
"""


def config(tmp_path: Path, workers: int = 2, store: str = "shared-memory://", extra: str = "") -> Path:
    path = tmp_path / "workers.toml"
    text = CONFIG.format(
        port=free_port(), http=free_port(socket.SOCK_STREAM), workers=workers, store=store, extra=extra
    )
    path.write_text(text)
    return path


def http(path: Path, route: str) -> tuple[int, str]:
    url = f"http://{load(path).server.metrics}{route}"
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return int(reply.status), reply.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def workers_of(pid: int) -> set[int]:
    return {child.pid for child in psutil.Process(pid).children() if child.status() != psutil.STATUS_ZOMBIE}


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def probe(path: Path, mac: str) -> dict[str, object]:
    """A relayed DISCOVER -> REQUEST through ``dhcpbridge probe`` (a separate process)."""
    port = load(path).server.port
    command = [sys.executable, "-m", "dhcpbridge", "probe", "--server", f"127.0.0.1:{port}", "--mac", mac]
    out = subprocess.run(
        [*command, "--full", "--json", "--timeout", "10"],
        capture_output=True,
        timeout=WAIT,
        check=False,
    )
    return {"code": out.returncode, "out": out.stdout.decode()}


def test_workers_start_serve_restart_reload_and_stop(tmp_path: Path) -> None:
    path = config(tmp_path)
    sup = Serve(path)
    try:
        sup.wait_for("serving", count=2)
        serving = [line for line in sup.text().splitlines() if "serving" in line]
        assert {"worker=0", "worker=1"} <= {
            w for line in serving for w in line.split() if w.startswith("worker=")
        }
        first = workers_of(sup.pid)
        assert len(first) == 2
        wait_until(lambda: http(path, "/healthz") == (200, "ok\n"), "healthz ok")
        answered = probe(path, "02:67:00:00:01:01")
        assert answered["code"] == 0 and "DHCPACK" in str(answered["out"])
        status, metrics = http(path, "/metrics")
        assert status == 200
        assert 'worker="0"' in metrics and 'worker="1"' in metrics
        assert "dhcpbridge_received_total" in metrics

        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)  # a worker this test's supervisor started
        wait_until(lambda: len(workers_of(sup.pid)) == 2 and victim not in workers_of(sup.pid), "restart")
        sup.wait_for("worker exited; restarting")
        sup.wait_for("serving", count=3)
        wait_until(lambda: http(path, "/healthz") == (200, "ok\n"), "healthz ok after the restart")

        sup.proc.send_signal(signal.SIGHUP)
        sup.wait_for("reload forwarded")
        sup.wait_for("reloaded", count=2)
        everyone = workers_of(sup.pid)
    finally:
        code = sup.stop()
    assert code == 0
    assert not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in everyone
    )
    assert sup.text().count("stopped") >= 3  # two workers and the supervisor


def test_control_stats_count_every_workers_packets(tmp_path: Path) -> None:
    """``stats`` on the control socket (served by worker 0) adds up both workers' counters; it
    used to show worker 0's alone."""
    from dhcpbridge.control import call

    control = tmp_path / "control.sock"
    path = config(tmp_path, extra=f'control-socket = "{control}"')
    sup = Serve(path)
    try:
        sup.wait_for("serving", count=2)
        for i in range(10):
            answered = probe(path, f"02:67:00:00:02:{i:02x}")
            assert answered["code"] == 0 and "DHCPACK" in str(answered["out"])
        stats = asyncio.run(call(control, {"cmd": "stats"}))
        _, metrics = http(path, "/metrics")
    finally:
        assert sup.stop() == 0
    assert stats["workers"] == {"count": 2, "counted": [0, 1], "missing": []}
    assert stats["v4"]["received"]["DHCPDISCOVER"] == 10 and stats["v4"]["received"]["DHCPREQUEST"] == 10
    assert stats["v4"]["sent"]["DHCPACK"] == 10
    per_worker = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("dhcpbridge_received_total") and 'type="DHCPREQUEST"' in line
    ]
    assert sum(per_worker) == 10


def test_healthz_names_a_missing_worker(tmp_path: Path) -> None:
    path = config(tmp_path)
    sup = Serve(path)
    try:
        sup.wait_for("serving", count=2)
        victim = sorted(workers_of(sup.pid))[-1]
        os.kill(victim, signal.SIGSTOP)  # frozen: runs no more, answers nothing
        try:
            status, text = http(path, "/healthz")
            assert status == 503 and "no answer" in text
        finally:
            os.kill(victim, signal.SIGCONT)
    finally:
        assert sup.stop() == 0


def test_single_writer_store_is_refused(tmp_path: Path) -> None:
    for store in ("memory://", f"sqlite://{tmp_path}/leases.db"):
        with pytest.raises(ConfigError, match="needs a shared lease store"):
            load(config(tmp_path, store=store))
    # a store of another scheme is checked at start, by what it is once opened
    shared = load(config(tmp_path))
    single = shared.model_copy(update={"leases": shared.leases.model_copy(update={"store": "memory://"})})
    with pytest.raises(StartError, match="needs a shared lease store"):
        asyncio.run(require_shared_store(single))
    sup = Serve(config(tmp_path, store="memory://"))
    try:
        assert sup.exit_code() == 2  # an invalid config
    finally:
        sup.stop()
    assert "server.workers = 2 needs a shared lease store" in sup.text()
    assert "worker started" not in sup.text()


def test_a_worker_that_cannot_start_stops_the_supervisor(tmp_path: Path) -> None:
    path = config(tmp_path, extra='user = "no-such-user-f7"')  # each worker fails to drop privileges
    sup = Serve(path)
    try:
        assert sup.exit_code() == 1
    finally:
        sup.stop()
    assert "worker could not start; stopping" in sup.text()


def test_role_round_trips_through_the_environment() -> None:
    from dhcpbridge.server.worker_role import ENV, WorkerRole

    role = WorkerRole(1, 3, 42, {"v4": 7, "v6": 8}, "/run/x.sock")
    assert WorkerRole.from_env({ENV: role.to_env()}) == role
    assert WorkerRole.from_env({}) is None
    assert json.loads(role.to_env())["fds"] == {"v4": 7, "v6": 8}


def test_sighup_while_the_workers_start_reaches_them_once_they_serve(tmp_path: Path) -> None:
    path = config(tmp_path)
    sup = Serve(path)
    try:
        sup.wait_for("worker started", count=2)
        sup.proc.send_signal(signal.SIGHUP)  # before the workers have their handlers (slow imports)
        sup.wait_for("reload forwarded")
        sup.wait_for("serving", count=2)
        sup.wait_for("reloaded", count=2)  # each worker got it once it served
        assert "worker exited" not in sup.text() and sup.proc.poll() is None
    finally:
        assert sup.stop() == 0


CONFIG6 = """\
[server]
interfaces = ["lo"]
workers = 2

[server6]
port = {port}
server-duid = "en:32473:0a0b"

[leases]
store = "shared-memory://"

[[subnet6]]
subnet = "fd69::/64"
pools = ["fd69::100:0/120"]
"""


def test_dhcpv6_workers_share_the_supervisors_socket(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        port = int(s.getsockname()[1])
    path = tmp_path / "v6.toml"
    path.write_text(CONFIG6.format(port=port))
    sup = Serve(path)
    try:
        sup.wait_for("serving", count=2)
        assert "ports={'v6': " in sup.text()
        argv = [sys.executable, "-m", "dhcpbridge", "probe", "-6", "--server", f"[::1]:{port}"]
        argv += ["--link-address", "fd69::1", "--json", "--timeout", "10"]
        for _ in range(2):
            done = subprocess.run(argv, capture_output=True, text=True, timeout=WAIT, check=False)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "ADVERTISE" in done.stdout
    finally:
        assert sup.stop() == 0
