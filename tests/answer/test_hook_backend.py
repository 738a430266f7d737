"""The hook backend over real HTTP: good hooks, and every way a hook can go wrong."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.answer.files import FileStore
from dhcpbridge.answer.hook import HookRunner
from dhcpbridge.answer.service import AnswerService

from .conftest import RecordingLog, Serve, q4


def hook(tmp_path: Path, name: str, body: str) -> Path:
    """An executable Python script run by this interpreter."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\nimport json, os, sys, time, subprocess\n{body}\n")
    path.chmod(0o755)
    return path


GOOD = """
question = json.load(sys.stdin)
table = {"02:67:00:00:00:02": "10.67.0.50"}
ip = table.get(os.environ["DHCP_CLIENT_MAC"])
if question["msg_type"] == "DHCPINFORM":
    pass  # no opinion: print nothing
elif ip:
    print(json.dumps({"action": "assign", "client_ip": ip, "hostname": os.environ.get("DHCP_CIRCUIT_ID_TEXT", "-")}))
else:
    print(json.dumps({"action": "deny", "message": "not in " + os.environ["DHCPBRIDGE_CONTRACT_VERSION"]}))
"""


def hook_service(
    path: Path, log: RecordingLog, tmp_path: Path, timeout: float = 5.0, **options: Any
) -> AnswerService:
    layers = tmp_path / "layers"
    layers.mkdir(exist_ok=True)
    (layers / "default.json").write_text('{"lease_time": 900}')
    store = FileStore(layers, log)
    runner = HookRunner(path, timeout, log, **options)
    service = AnswerService([store], log, hook=runner, default={"action": "ignore"})
    service.load()
    return service


async def test_a_good_hook_answers_and_its_assign_is_layered(
    tmp_path: Path, log: RecordingLog, serve: Serve
) -> None:
    bridge = await serve(hook_service(hook(tmp_path, "good", GOOD), log, tmp_path))
    question = q4(circuit_id={"hex": "657468302f312f33", "text": "eth0/1/3"})
    assert await bridge.ask(question) == {
        "action": "assign",
        "lease_time": 900,
        "client_ip": "10.67.0.50",
        "hostname": "eth0/1/3",
    }
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:09")) == {"action": "deny", "message": "not in 1"}
    # no output = none: the service goes on to its unknown-client answer
    assert await bridge.ask(q4(msg_type="DHCPINFORM")) == {"action": "ignore"}
    assert [r["source"] for r in log.find("info", "answer")] == ["hook", "hook", "default"]
    assert not log.find("error")


async def test_a_slow_hook_is_killed_with_its_children(
    tmp_path: Path, log: RecordingLog, serve: Serve
) -> None:
    pids = tmp_path / "pids"
    slow = hook(
        tmp_path,
        "slow",
        f"child = subprocess.Popen(['sleep', '30'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "time.sleep(30)\n",
    )
    bridge = await serve(hook_service(slow, log, tmp_path, timeout=0.5))
    started = time.monotonic()
    assert await bridge.ask(q4()) == {"action": "none"}
    assert time.monotonic() - started < 5
    error = log.find("error", "hook failed")[-1]
    assert error["reason"] == "timed out after 0.5 s (killed)" and error["fallback"] == "none"
    for pid in map(int, pids.read_text().split()):
        deadline = time.monotonic() + 5
        while _alive(pid):
            assert time.monotonic() < deadline, f"process {pid} survived the timeout"
            await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie whose parent was killed is reaped by init soon; treat it as gone
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        ("sys.stderr.write('lookup failed: no route to CMDB\\n'); sys.exit(3)", "exit status 3", "stderr"),
        ("print('<html>502 Bad Gateway</html>')", "output is not JSON", "output"),
        (
            "print(json.dumps({'action': 'assign', 'client_ip': '10.67.0.999'}))",
            "answer breaks the contract",
            "problems",
        ),
        ("print(json.dumps({'client_ip': '10.67.0.5'}))", "answer breaks the contract", "problems"),
        ("os.kill(os.getpid(), 9)", "killed by signal 9", None),
    ],
    ids=["bad-exit", "garbage", "invalid-address", "no-action", "signal"],
)
async def test_a_bad_hook_gives_none_and_a_clear_error(
    tmp_path: Path, log: RecordingLog, serve: Serve, body: str, reason: str, detail: str | None
) -> None:
    bridge = await serve(hook_service(hook(tmp_path, "bad", body), log, tmp_path))
    assert await bridge.ask(q4()) == {"action": "none"}
    error = log.find("error", "hook failed")[-1]
    assert error["reason"].startswith(reason)
    if detail == "stderr":
        assert error["stderr"] == "lookup failed: no route to CMDB"
    elif detail == "output":
        assert error["output"].startswith("<html>")
    elif detail == "problems":
        assert error["problems"] and all(isinstance(p, str) for p in error["problems"])


async def test_a_configured_fallback_replaces_none(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    broken = hook(tmp_path, "broken", "sys.exit(1)")
    service = hook_service(broken, log, tmp_path, fallback={"action": "ignore", "message": "hook down"})
    bridge = await serve(service)
    assert await bridge.ask(q4()) == {"action": "ignore", "message": "hook down"}
    assert log.find("info", "answer")[-1]["source"] == "hook-fallback"


async def test_a_missing_executable_is_reported(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    gone = hook(tmp_path, "gone", "")
    service = hook_service(gone, log, tmp_path)
    gone.unlink()
    bridge = await serve(service)
    assert await bridge.ask(q4()) == {"action": "none"}
    assert log.find("error", "hook failed")[-1]["reason"].startswith("cannot run")


async def test_hooks_are_not_asked_about_known_clients(
    tmp_path: Path, log: RecordingLog, serve: Serve
) -> None:
    counter = tmp_path / "runs"
    counting = hook(
        tmp_path, "count", f"open({str(counter)!r}, 'a').write('x')\nprint('{{\"action\": \"none\"}}')"
    )
    service = hook_service(counting, log, tmp_path)
    (tmp_path / "layers" / "02-67-00-00-00-02.json").write_text('{"client_ip": "10.67.0.50"}')
    await service.refresh()
    bridge = await serve(service)
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.50"
    assert not counter.exists()
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:09")) == {"action": "ignore"}
    assert counter.read_text() == "x"


async def test_the_notify_hook_gets_each_notification(
    tmp_path: Path, log: RecordingLog, serve: Serve
) -> None:
    inbox = tmp_path / "inbox"
    notify = hook(
        tmp_path,
        "notify",
        f"data = sys.stdin.read()\nopen({str(inbox)!r}, 'a').write(os.environ['DHCP_EVENT'] + ' ' + data + '\\n')",
    )
    service = hook_service(hook(tmp_path, "good", GOOD), log, tmp_path)
    bridge = await serve(service, notify_hook=HookRunner(notify, 5.0, log))
    note = {"version": 1, "event": "release", "protocol": 4, "lease": {"client_ip": "10.67.0.50"}}
    status, _ = await bridge.post("/v1/commit", note)
    assert status == 204
    deadline = time.monotonic() + 5
    while not inbox.exists() or not inbox.read_text().endswith("\n"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    event, _, data = inbox.read_text().strip().partition(" ")
    assert event == "release" and json.loads(data) == note
