"""Structured logging (structlog) to stderr, as console lines or JSON; configured once at start.

Hot-path code never formats log lines it will not emit: callers check ``debug_enabled()`` (a
cached bool) before building per-packet log events.

Clients must not be able to drive the log (or the event loop) with their packets:

- ``LogLimiter``: at most a burst of lines per kind and window at info/warning level, the rest
  counted and summed up in one line when the window ends. ``LIMITER`` is the one the server
  shares for NAKs, lease events and bridge failures (``limited``); drop logs keep one per family.
- ``start_queue``: lines are rendered on the loop but written by a thread (stdlib
  ``QueueListener``) from a bounded queue; a full queue drops the line and counts it
  (``dropped()``), never blocks. ``stop_queue`` writes what is queued (at shutdown, and at exit).

Lines go to stderr, or to a file (``LogFile``: ``[server] log-file``) through a stdlib handler
that the writer thread drives, so writing and rotating never block the event loop: ``size``
(``RotatingFileHandler``, ``log-max-bytes``), ``daily`` (``TimedRotatingFileHandler`` at UTC
midnight) with ``log-keep`` old files, or ``none`` (``WatchedFileHandler``: logrotate renames
the file and the next line opens a new one). ``reopen()`` (on SIGUSR1, which does nothing else,
and on SIGHUP with the reload) closes and reopens the file in every mode, for logrotate's
``postrotate`` or a ``copytruncate``-less move.

Secrets never reach a line (``redact``): a field whose name says token, secret, password or
authorization is written as ``***``, and every URL in a value loses its userinfo and the values
of its query string.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import re
import sys
import threading
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_state = {"debug": False}


class _QueueListener(logging.handlers.QueueListener):
    """A listener whose stop waits for room for its sentinel in a bounded queue (the stdlib one
    would raise ``queue.Full``)."""

    def enqueue_sentinel(self) -> None:
        self.queue.put(self._sentinel, timeout=5.0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LogFile:
    """``[server] log-file`` and how it rotates (see the module docstring)."""

    path: Path
    rotate: str = "none"  # "none" (logrotate), "size" or "daily"
    max_bytes: int = 10 * 1024 * 1024
    keep: int = 7

    def handler(self) -> logging.FileHandler:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.FileHandler
        if self.rotate == "size":
            handler = logging.handlers.RotatingFileHandler(
                self.path, maxBytes=self.max_bytes, backupCount=self.keep, encoding="utf-8"
            )
        elif self.rotate == "daily":
            handler = logging.handlers.TimedRotatingFileHandler(
                self.path, when="midnight", backupCount=self.keep, utc=True, encoding="utf-8"
            )
        else:
            handler = logging.handlers.WatchedFileHandler(self.path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        return handler


class _Sink:
    """Where rendered lines go: straight to the stream (or the file's handler), or into the
    bounded queue."""

    def __init__(self) -> None:
        self.stream: Any = sys.stderr
        self.file: logging.FileHandler | None = None
        self.queue: queue.Queue[Any] | None = None
        self.listener: _QueueListener | None = None
        self.dropped = 0
        self.lock = threading.Lock()

    def write(self, line: str) -> None:
        q = self.queue
        if q is None:
            if self.file is not None:
                self.file.handle(_record(line))
            else:
                print(line, file=self.stream, flush=True)
            return
        try:
            q.put_nowait(_record(line))
        except queue.Full:
            self.dropped += 1


def _record(line: str) -> logging.LogRecord:
    return logging.makeLogRecord({"msg": line, "levelno": logging.INFO})


_sink = _Sink()


class _SinkLogger:
    """structlog's final logger: every method hands the rendered line to the sink."""

    def msg(self, message: str) -> None:
        _sink.write(message)

    log = debug = info = warning = warn = error = critical = exception = fatal = failure = err = msg


def _logger_factory(*args: Any) -> _SinkLogger:
    return _SinkLogger()


_SECRET_FIELDS = ("token", "secret", "password", "passwd", "authorization")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_url(url: str) -> str:
    """``url`` without its userinfo (``***@``) and with ``***`` for each query value."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    host = parts.netloc.rpartition("@")
    netloc = f"***@{host[2]}" if host[1] else parts.netloc
    query = "&".join(f"{k}=***" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    if netloc == parts.netloc and not parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query if parts.query else "", parts.fragment))


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no token, password or URL credential in a log line."""
    for key, value in event.items():
        if any(word in key.lower() for word in _SECRET_FIELDS):
            event[key] = "***"
        elif isinstance(value, str) and "://" in value:
            event[key] = _URL.sub(lambda m: redact_url(m.group(0)), value)
    return event


def configure(level: str = "info", fmt: str = "console", file: LogFile | None = None) -> None:
    """Render at ``level`` as ``fmt`` to stderr, or to ``file`` (opened here; a file already in
    use is kept when ``file`` names the same one)."""
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=file is None and sys.stderr.isatty())
    _sink.stream = sys.stderr
    with _sink.lock:
        if _sink.file is not None and (file is None or Path(_sink.file.baseFilename) != file.path.absolute()):
            _sink.file.close()
            _sink.file = None
        if file is not None and _sink.file is None:
            _sink.file = file.handler()
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=_logger_factory,
        cache_logger_on_first_use=False,
    )
    _state["debug"] = level == "debug"


def start_queue(size: int = 10_000, stream: Any = None) -> None:
    """From now on lines go through a queue of at most ``size`` lines to a writer thread
    (``stream``: where it writes, default stderr). Calling it again while running changes nothing."""
    with _sink.lock:
        if _sink.queue is not None:
            return
        handler: logging.Handler
        if stream is None and _sink.file is not None:
            handler = _sink.file
        else:
            handler = logging.StreamHandler(stream if stream is not None else _sink.stream)
            handler.setFormatter(logging.Formatter("%(message)s"))
        q: queue.Queue[Any] = queue.Queue(maxsize=size)
        listener = _QueueListener(q, handler)
        listener.start()
        _sink.listener = listener
        _sink.queue = q


def stop_queue() -> None:
    """Write every queued line, stop the writer thread and write directly again."""
    with _sink.lock:
        listener = _sink.listener
        _sink.queue = None
        _sink.listener = None
    if listener is not None:
        listener.stop()
        for handler in listener.handlers:
            handler.flush()
        if _sink.dropped:
            get("dhcpbridge").warning("log lines dropped: the log queue was full", lines=_sink.dropped)


atexit.register(stop_queue)


def reopen() -> bool:
    """Close and reopen the log file (SIGHUP; after logrotate moved it). False without one."""
    handler = _sink.file
    if handler is None:
        return False
    with handler.lock or threading.Lock():  # the writer thread holds it while it writes
        if handler.stream is not None:
            handler.stream.close()
        handler.stream = handler._open()
        if isinstance(handler, logging.handlers.WatchedFileHandler):
            handler._statstream()
    return True


def reopen_signalled() -> None:
    """SIGUSR1: reopen the log file only (logrotate's ``postrotate``), no config reload."""
    if reopen():
        get("dhcpbridge").info("log file reopened")


def dropped() -> int:
    """Lines the full queue dropped since the start."""
    return _sink.dropped


class LogLimiter:
    """At most ``burst`` lines per kind and ``window`` seconds; see the module docstring."""

    def __init__(
        self,
        name: str,
        burst: int = 10,
        window: float = 10.0,
        summary: str = "log lines suppressed",
        **fields: Any,
    ) -> None:
        self.name = name
        self.summary = summary  # the summary line's event, with ``fields`` (drop logs: "drops suppressed")
        self.fields = fields
        self.burst = burst
        self.window = window
        self.window_start = 0.0
        self.counts: dict[str, int] = {}
        self.suppressed = 0  # lines not written since the start

    def allow(self, kind: str, now: float | None = None) -> bool:
        """True when a line of ``kind`` may be written now (always in debug mode)."""
        if now is None:
            now = time.monotonic()
        if now - self.window_start > self.window:
            self._roll(now)
        seen = self.counts.get(kind, 0) + 1
        self.counts[kind] = seen
        if seen <= self.burst or _state["debug"]:
            return True
        self.suppressed += 1
        return False

    def _roll(self, now: float) -> None:
        over = {k: v - self.burst for k, v in self.counts.items() if v > self.burst}
        if over and not _state["debug"]:
            get("dhcpbridge").info(
                self.summary, limiter=self.name, window_s=self.window, counts=over, **self.fields
            )
        self.window_start = now
        self.counts = {}


LIMITER = LogLimiter("events")


def set_limits(burst: int, window: float) -> None:
    """Set the shared limiter's burst and window (``[limits] log-burst`` / ``log-window``)."""
    LIMITER.burst = burst
    LIMITER.window = window


def limited(kind: str) -> bool:
    """Whether a line of ``kind`` (e.g. "nak", "lease", "bridge-failure") may be written now."""
    return LIMITER.allow(kind)


def debug_enabled() -> bool:
    return _state["debug"]


def get(name: str) -> Any:
    return structlog.get_logger(name)
