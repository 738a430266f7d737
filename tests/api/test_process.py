"""A real ``dhcpbridge serve`` process with ``[api]`` and a control socket on loopback: the API
answers over HTTP, ``dhcpbridge stats`` and ``dhcpbridge reload`` reach the same server through
the control socket, and SIGTERM still stops the process cleanly (uvicorn does not take the
server's signals)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .conftest import READ_TOKEN, free_port, write_config, write_tokens

CLI = [sys.executable, "-m", "dhcpbridge"]


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(f"{base}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the API did not come up")


def test_api_and_cli_verbs_against_a_server_process(tmp_path: Path) -> None:
    write_tokens(tmp_path)
    port = free_port(socket.SOCK_STREAM)
    extra = f'[api]\nlisten = "127.0.0.1:{port}"\ntokens-file = "tokens"\n'
    path = write_config(tmp_path, extra)
    path.write_text(path.read_text().replace("[leases]", 'control-socket = "ctl.sock"\n\n[leases]'))
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([*CLI, "serve", "--config", str(path)], stdout=subprocess.DEVNULL)
    try:
        wait_healthy(base, proc)
        read = {"Authorization": f"Bearer {READ_TOKEN}"}
        api_stats = httpx.get(f"{base}/v1/stats", headers=read, timeout=5).json()
        cli = subprocess.run([*CLI, "stats", "--config", str(path)], capture_output=True, timeout=30)
        assert cli.returncode == 0, cli.stderr
        assert set(json.loads(cli.stdout)) == set(api_stats) >= {"v4", "leases", "sources", "events"}
        ok = subprocess.run([*CLI, "reload", "--config", str(path)], capture_output=True, timeout=30)
        assert ok.returncode == 0 and ok.stdout.strip() == b"reloaded", ok.stderr
        # valid for the CLI, rejected by the server (a missing reservations file): its reason shows
        missing = '\n[[source]]\ntype = "reservations"\nfiles = ["nosuch.csv"]\n[[source]]\ntype = "pools"\n'
        path.write_text(path.read_text() + missing)
        bad = subprocess.run([*CLI, "reload", "--config", str(path)], capture_output=True, timeout=30)
        assert bad.returncode == 1
        assert b"reload rejected" in bad.stderr and b"nosuch.csv" in bad.stderr
        assert httpx.get(f"{base}/v1/ready", timeout=5).json()["ready"] is True
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_cli_verbs_without_a_control_socket(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    result = subprocess.run([*CLI, "stats", "--config", str(path)], capture_output=True, timeout=30)
    assert result.returncode == 1 and b"control-socket" in result.stderr
