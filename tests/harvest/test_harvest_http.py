"""``dhcpbridge harvest --listen``: a real process on loopback; a burst of 20 ``POST /harvest``
calls in the quiet period costs one harvest; the token; a non-loopback endpoint needs one."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))


def _leases(path: Path) -> None:
    end = int(time.time()) + 86400
    path.write_text(f"{end} 02:00:00:00:00:01 10.9.0.1 one *\n{end} 02:00:00:00:00:02 10.9.0.2 two *\n")


class Endpoint:
    def __init__(self, tmp: Path, *extra: str) -> None:
        _leases(tmp / "dnsmasq.leases")
        self.dest = tmp / "harvest.inc"
        argv = [DHCPBRIDGE, "harvest", "--listen", "127.0.0.1:0", "--leases", str(tmp / "dnsmasq.leases")]
        argv += ["--dest", str(self.dest), "--quiet-period", "60s", *extra]
        self.log = open(tmp / "harvest.log", "w+")  # noqa: SIM115  # closed by stop()
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.url = self._wait_url(tmp / "harvest.log")

    def _wait_url(self, log: Path) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            match = re.search(r"listening on (http://\S+)/harvest", log.read_text())
            if match:
                return match.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"no endpoint: {log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Endpoint]:
    ep = Endpoint(tmp_path)
    yield ep
    ep.stop()


async def _post_many(url: str, n: int, headers: dict[str, str] | None = None) -> list[tuple[int, Any]]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

        async def one() -> tuple[int, Any]:
            async with session.post(f"{url}/harvest", headers=headers or {}) as response:
                return response.status, await response.json()

        return await asyncio.gather(*(one() for _ in range(n)))


async def _get(url: str) -> Any:
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as response:
        return await response.json()


def test_a_burst_of_20_calls_costs_one_harvest(endpoint: Endpoint) -> None:
    answers = asyncio.run(_post_many(endpoint.url, 20))
    assert {status for status, _ in answers} == {200}
    assert {body["number"] for _, body in answers} == {1}
    assert sum(not body["shared"] for _, body in answers) == 1
    first = answers[0][1]
    assert first["records"] == 2 and first["changed"] and len(first["added"]) == 2
    assert asyncio.run(_get(f"{endpoint.url}/healthz")) == {"harvests": 1}
    assert "one\tIN A\t10.9.0.1" in endpoint.dest.read_text()


def test_token_required_when_given(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    ep = Endpoint(tmp_path, "--token-file", str(tmp_path / "token"))
    try:
        ((status, body),) = asyncio.run(_post_many(ep.url, 1))
        assert status == 401 and "token" in body["error"]
        ((status, body),) = asyncio.run(_post_many(ep.url, 1, {"Authorization": "Bearer wrong"}))
        assert status == 401
        ((status, body),) = asyncio.run(_post_many(ep.url, 1, {"Authorization": "Bearer s3cret"}))
        assert status == 200 and body["number"] == 1
    finally:
        ep.stop()


def test_non_loopback_needs_a_token(tmp_path: Path) -> None:
    _leases(tmp_path / "dnsmasq.leases")
    argv = [DHCPBRIDGE, "harvest", "--listen", "0.0.0.0:0", "--leases", str(tmp_path / "dnsmasq.leases")]
    result = subprocess.run(
        [*argv, "--dest", str(tmp_path / "h.inc")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "token is required" in result.stderr


def test_every_harvests_again_when_the_leases_change(tmp_path: Path) -> None:
    leases, dest = tmp_path / "dnsmasq.leases", tmp_path / "harvest.inc"
    _leases(leases)
    argv = [DHCPBRIDGE, "harvest", "--leases", str(leases), "--dest", str(dest), "--every", "500ms"]
    with open(tmp_path / "every.log", "w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "one\t" not in (dest.read_text() if dest.exists() else ""):
            time.sleep(0.1)
        assert "two\tIN A\t10.9.0.2" in dest.read_text()
        end = int(time.time()) + 86400
        leases.write_text(f"{end} 02:00:00:00:00:03 10.9.0.3 three *\n")
        while time.monotonic() < deadline and "three" not in dest.read_text():
            time.sleep(0.1)
        text = dest.read_text()
        assert "three\tIN A\t10.9.0.3" in text and "two" not in text
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 0
