"""Issue 9 point 5 (logging): lines that clients can cause (NAKs, lease events, bridge and engine
failures) stay within a shared rate limit, and lines are written by a thread from a bounded queue,
never on the event loop."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from structlog.testing import capture_logs

from dhcpbridge import logs
from dhcpbridge.engine.model import LeaseEvent, LeaseState
from dhcpbridge.events import LeaseLog

from .fakes import Harness, lease


@pytest.fixture(autouse=True)
def fresh_limiter() -> Iterator[None]:
    logs.configure("info")
    limiter = logs.LIMITER
    saved = (limiter.burst, limiter.window)
    limiter.counts = {}
    limiter.window_start = time.monotonic()
    yield
    limiter.burst, limiter.window = saved
    logs.stop_queue()


async def test_a_nak_storm_logs_a_burst_not_a_line_per_nak() -> None:
    h = Harness([[b"n%d" % i for i in range(100)]])
    h.endpoint.is_nak = lambda outcome: True
    with capture_logs() as lines:
        h.endpoint.on_readable()
    assert len(h.sent) == 100  # every NAK is sent ...
    naks = [line for line in lines if line["event"] == "nak"]
    assert len(naks) == logs.LIMITER.burst == 10  # ... but only a burst of them is logged


def test_lease_events_are_logged_within_the_limit() -> None:
    listener = LeaseLog()
    with capture_logs() as lines:
        for i in range(100):
            record = lease(address=0x0A430000 + i)
            record.state = LeaseState.RELEASED
            listener.notify(LeaseEvent("release", record, None))
    assert len([line for line in lines if line["event"] == "lease"]) == 10


def test_suppressed_lines_are_summed_up_when_the_window_ends() -> None:
    limiter = logs.LogLimiter("test", burst=3, window=10.0)
    with capture_logs() as lines:
        allowed = [limiter.allow("nak", now=100.0 + i * 0.01) for i in range(8)]
        assert allowed == [True] * 3 + [False] * 5
        assert limiter.allow("nak", now=111.0)  # a new window: the summary, then lines again
    assert lines == [
        {
            "event": "log lines suppressed",
            "limiter": "test",
            "window_s": 10.0,
            "counts": {"nak": 5},
            "log_level": "info",
        }
    ]
    assert limiter.suppressed == 5


class SlowStream(io.StringIO):
    """stderr on a slow terminal or a full pipe: every write takes 5 ms."""

    def __init__(self) -> None:
        super().__init__()
        self.writer_threads: set[str] = set()

    def write(self, text: str) -> int:
        self.writer_threads.add(threading.current_thread().name)
        time.sleep(0.005)
        return super().write(text)


def test_lines_go_through_a_bounded_queue_to_a_writer_thread_and_are_flushed_at_stop() -> None:
    stream = SlowStream()
    logs.start_queue(50, stream=stream)
    log = logs.get("test")
    before = logs.dropped()
    started = time.monotonic()
    for i in range(400):
        log.warning("line", n=i)
    elapsed = time.monotonic() - started
    assert elapsed < 0.5  # written synchronously, 400 lines would take at least 2 s
    logs.stop_queue()  # waits for what is queued
    written = [line for line in stream.getvalue().splitlines() if "line" in line]
    dropped = logs.dropped() - before
    assert dropped > 0 and len(written) + dropped == 400  # a full queue drops and counts, never blocks
    assert written[0].endswith("n=0")
    assert threading.current_thread().name not in stream.writer_threads
    log.warning("after stop")  # direct again: nothing is lost after the queue is gone
    assert logs._sink.queue is None


def test_starting_the_queue_twice_keeps_one_writer() -> None:
    logs.start_queue(16, stream=io.StringIO())
    listener: Any = logs._sink.listener
    logs.start_queue(16, stream=io.StringIO())
    assert logs._sink.listener is listener


def test_secrets_and_url_credentials_never_reach_a_line() -> None:
    """Issue 9 point 11: a token field, a URL's userinfo and its query values are redacted."""
    out = io.StringIO()
    logs.start_queue(stream=out)
    logs.get("dhcpbridge").warning(
        "bridge failed",
        url="https://ops:hunter2@answers.example/v1/question?key=s3cret&x=1",
        detail="asking http://answers.example/q?token=abc123 failed",
        token="tok-very-secret",
        authorization="Bearer tok-very-secret",
    )
    logs.stop_queue()
    line = out.getvalue()
    assert "bridge failed" in line and "answers.example/v1/question" in line
    for secret in ("hunter2", "ops:", "s3cret", "abc123", "tok-very-secret"):
        assert secret not in line, line
    assert logs.redact_url("https://a.example/x") == "https://a.example/x"  # nothing to hide: unchanged
