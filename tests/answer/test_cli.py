"""``dhcpbridge answer`` as a user runs it: --check, start-up errors, a real process, SIGHUP, load."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from click.testing import CliRunner

from dhcpbridge.answer import loadgen
from dhcpbridge.answer.cli import answer_command, parse_listen
from dhcpbridge.contract import validate_answer


@pytest.fixture(autouse=True)
def keep_logging_config() -> Iterator[None]:
    """The command configures structlog for its process; in-process runs must not leak that."""
    saved = structlog.get_config()
    yield
    structlog.configure(**saved)


def test_parse_listen() -> None:
    assert parse_listen("127.0.0.1:8067") == ("127.0.0.1", 8067)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    assert parse_listen(":8067") == ("127.0.0.1", 8067)


def test_check_reports_problems_and_exit_status(tmp_path: Path) -> None:
    (tmp_path / "02-67-00-00-00-02.json").write_text('{"client_ip": "10.67.0.50"}')
    runner = CliRunner()
    result = runner.invoke(answer_command, ["--dir", str(tmp_path), "--check", "--log-level", "error"])
    assert result.exit_code == 0, result.output
    assert "0 problem(s)" in result.output

    (tmp_path / "relay-10.68.0.2.json").write_text('{"router": ["fd68::1"]}')
    (tmp_path / "hosts.csv").write_text("key,client_ip\n02:67:00:00:00:03,10.67.0\n")
    result = runner.invoke(
        answer_command,
        ["--dir", str(tmp_path), "--csv", str(tmp_path / "hosts.csv"), "--check", "--log-level", "error"],
    )
    assert result.exit_code == 1
    assert "files: relay-10.68.0.2.json: router[0]: 'fd68::1' is not an IPv4 address" in result.output
    assert "csv: hosts.csv:2: client_ip: '10.67.0' is not an IPv4 address" in result.output


def test_start_up_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(answer_command, [])
    assert result.exit_code == 2 and "nothing to answer from" in result.output
    bad_default = tmp_path / "unknown.json"
    bad_default.write_text('{"action": "maybe"}')
    result = runner.invoke(answer_command, ["--default", str(bad_default)])
    assert result.exit_code == 2 and "action" in result.output
    result = runner.invoke(answer_command, ["--dir", str(tmp_path), "--listen", "nowhere"])
    assert result.exit_code == 2 and "HOST:PORT" in result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, object] = json.loads(response.read())
    validate_answer(answer)
    return answer


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    """The command in a child process; its log goes to ``tmp_path/log`` (a pipe could fill up)."""
    hosts = tmp_path / "hosts"
    loadgen.make_dir(hosts, 50)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from dhcpbridge.answer.cli import answer_command; answer_command()",
            "--dir",
            str(hosts),
            "--listen",
            f"127.0.0.1:{port}",
            "--poll-interval",
            "0",
            "--log-format",
            "json",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "log").open("w"),
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            assert process.poll() is None, "the service exited during start-up"
            assert time.monotonic() < deadline, "the service did not come up"
            time.sleep(0.1)
    try:
        yield base, hosts, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_real_command_serves_reloads_on_sighup_and_logs_json(
    running: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    base, hosts, process = running
    question = {"version": 1, "protocol": 4, "msg_type": "DHCPDISCOVER", "client_mac": loadgen.mac_of(7)}
    question["subnet"] = "10.67.0.0/16"
    answer = post(base + "/v1/question", question)
    assert answer["client_ip"] == loadgen.ip_of(7) and answer["router"] == ["10.67.0.1"]

    (hosts / "02-67-00-00-00-07.json").write_text('{"client_ip": "10.67.200.7"}')
    os.kill(process.pid, signal.SIGHUP)  # --poll-interval 0: only SIGHUP reloads
    deadline = time.monotonic() + 10
    while post(base + "/v1/question", question)["client_ip"] != "10.67.200.7":
        assert time.monotonic() < deadline, "SIGHUP did not reload"
        time.sleep(0.05)

    process.send_signal(signal.SIGTERM)
    process.wait(timeout=10)
    log = hosts.parent / "log"
    events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    answers = [e for e in events if e["event"] == "answer"]
    assert answers and answers[0]["client_mac"] == loadgen.mac_of(7) and answers[0]["action"] == "assign"
    assert any(e["event"] == "SIGHUP: reloading" for e in events)
    assert any(e["event"] == "answer service listening" for e in events)


async def test_the_load_generator_against_the_real_command(
    running: tuple[str, Path, subprocess.Popen[str]],
) -> None:
    base, _, _ = running
    result = await loadgen.run(
        base + "/v1/question", clients=50, connections=4, requests=400, seconds=20, check=True
    )
    assert (result.requests, result.ok, result.errors) == (400, 400, 0)
    assert result.rate > 0 and result.percentile(0.99) >= result.percentile(0.5) > 0
    assert "requests=400 ok=400 errors=0" in result.line()


def test_the_load_generator_only_targets_loopback() -> None:
    assert loadgen.loopback_target("http://127.0.0.1:8067/v1/question") == ("127.0.0.1", 8067, "/v1/question")
    assert loadgen.loopback_target("http://[::1]:8067/v1/question")[0] == "::1"
    for url in (
        "http://10.67.0.1:8067/v1/question",
        "http://example.invalid/v1/question",
        "https://127.0.0.1/",
    ):
        with pytest.raises(ValueError):
            loadgen.loopback_target(url)
