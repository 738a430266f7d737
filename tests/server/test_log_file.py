"""``[server] log-file``: lines go to the file through the writer thread's stdlib handler;
``log-rotate = "size"`` and ``"daily"`` keep ``log-keep`` old files; a real ``serve`` reopens its
file on SIGHUP after logrotate moved it (``log-rotate = "size"``: only the reopen can find the new
file), and on SIGUSR1 without reloading the config; ``none`` (WatchedFileHandler) follows a move
by itself; workers with a rotating file are refused."""

from __future__ import annotations

import logging.handlers
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dhcpbridge import logs
from dhcpbridge.config import ConfigError, load

from .processes import Serve, free_port


@pytest.fixture(autouse=True)
def back_to_stderr() -> Iterator[None]:
    yield
    logs.stop_queue()
    logs.configure("info")


def test_size_rotation_through_the_writer_thread_keeps_n_old_files(tmp_path: Path) -> None:
    path = tmp_path / "log" / "dhcpbridge.log"
    logs.configure("info", "json", logs.LogFile(path, "size", max_bytes=4096, keep=3))
    logs.start_queue(1000)
    log = logs.get("test")
    writers: set[str] = set()
    real_emit = logging.handlers.RotatingFileHandler.emit

    def emit(handler: logging.handlers.RotatingFileHandler, record: logging.LogRecord) -> None:
        writers.add(threading.current_thread().name)
        real_emit(handler, record)

    logging.handlers.RotatingFileHandler.emit = emit  # type: ignore[method-assign]
    try:
        for i in range(400):
            log.info("line", n=i, pad="x" * 40)
        logs.stop_queue()
    finally:
        logging.handlers.RotatingFileHandler.emit = real_emit  # type: ignore[method-assign]
    assert threading.main_thread().name not in writers  # written by the queue's thread only
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["dhcpbridge.log", "dhcpbridge.log.1", "dhcpbridge.log.2", "dhcpbridge.log.3"]
    assert all(p.stat().st_size <= 4096 for p in path.parent.iterdir())
    assert '"n": 399' in path.read_text()  # the newest line is in the current file


def test_daily_rotation_keeps_n_old_files(tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.log"
    logs.configure("info", "console", logs.LogFile(path, "daily", keep=2))
    handler = logs._sink.file
    assert isinstance(handler, logging.handlers.TimedRotatingFileHandler) and handler.utc
    log = logs.get("test")
    for day in range(5):  # five midnights pass: each time the handler's time to roll is past
        handler.rolloverAt = int(time.time()) - (10 - day) * 86400  # names the day it covered
        log.info("day", n=day)
    names = sorted(p.name for p in path.parent.iterdir())
    assert names[0] == "dhcpbridge.log" and len(names) == 1 + 2  # the current one and 2 old ones
    assert all(n[len("dhcpbridge.log.") :].count("-") == 2 for n in names[1:])  # dated
    assert "day" in path.read_text() and "\x1b[" not in path.read_text()  # no colours in a file


def test_reopen_after_a_move_writes_to_a_new_file(tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.log"
    logs.configure("info", "console", logs.LogFile(path, "size"))
    logs.start_queue(100)
    log = logs.get("test")
    log.info("before")
    logs.stop_queue()
    path.rename(tmp_path / "dhcpbridge.log.1")
    assert logs.reopen()
    log.info("after")
    assert "after" in path.read_text() and "after" not in (tmp_path / "dhcpbridge.log.1").read_text()
    logs.configure("info")
    assert not logs.reopen()  # stderr: nothing to reopen


CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
log-file = "log/server.log"
log-rotate = "{rotate}"

[leases]
store = "memory://"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
relay-addresses = ["127.0.0.1"]
"""


def _wait_in(path: Path, needle: str, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if needle in text:
            return text
        time.sleep(0.1)
    raise AssertionError(f"no {needle!r} in {path}: {path.read_text() if path.exists() else '(missing)'}")


@pytest.mark.parametrize("rotate", ["size", "none"])
def test_a_real_server_logs_to_its_file_and_reopens_it_after_logrotate(tmp_path: Path, rotate: str) -> None:
    config = tmp_path / "dhcpbridge.toml"
    config.write_text(CONFIG.format(port=free_port(), rotate=rotate))
    log = tmp_path / "log" / "server.log"
    server = Serve(config)
    try:
        _wait_in(log, "serving")
        assert "serving" not in server.text()  # the file, not stderr
        moved = log.with_name("server.log.1")
        os.rename(log, moved)  # what logrotate does, then its postrotate sends SIGHUP
        os.kill(server.pid, signal.SIGHUP)
        text = _wait_in(log, "reload")
        assert "serving" not in text and "reload" not in moved.read_text()
    finally:
        assert server.stop() == 0
    assert "stopped" in log.read_text()


def test_sigusr1_reopens_the_log_file_without_a_reload(tmp_path: Path) -> None:
    config = tmp_path / "dhcpbridge.toml"
    config.write_text(CONFIG.format(port=free_port(), rotate="size"))
    log = tmp_path / "log" / "server.log"
    server = Serve(config)
    try:
        _wait_in(log, "serving")
        moved = log.with_name("server.log.1")
        os.rename(log, moved)  # logrotate's move; its postrotate sends SIGUSR1
        os.kill(server.pid, signal.SIGUSR1)
        text = _wait_in(log, "log file reopened")
        assert "reload" not in text and "reload" not in moved.read_text()
        assert "log file reopened" not in moved.read_text()
    finally:
        assert server.stop() == 0
    assert "stopped" in log.read_text()


def test_workers_with_a_rotating_file_are_refused(tmp_path: Path) -> None:
    config = tmp_path / "dhcpbridge.toml"
    text = CONFIG.format(port=free_port(), rotate="daily").replace('"memory://"', '"redis://127.0.0.1:1/0"')
    config.write_text(text.replace("[leases]", "workers = 2\n\n[leases]"))
    with pytest.raises(ConfigError, match="log-rotate"):
        load(config)
    config.write_text(text.replace("[leases]", "workers = 2\n\n[leases]").replace('"daily"', '"none"'))
    assert load(config).log_target() == logs.LogFile(tmp_path / "log" / "server.log")
