"""Structured logging (structlog) to stderr, as console lines or JSON; configured once at start.

Hot-path code never formats log lines it will not emit: callers check ``debug_enabled()`` (a
cached bool) before building per-packet log events.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_state = {"debug": False}


def configure(level: str = "info", fmt: str = "console") -> None:
    renderer: Any
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _state["debug"] = level == "debug"


def debug_enabled() -> bool:
    return _state["debug"]


def get(name: str) -> Any:
    return structlog.get_logger(name)
