"""Driving coroutines that never suspend (in-process stores and sources) without an event loop."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Drive a coroutine that is known not to suspend to its result; raise if it does suspend."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("an in-process coroutine suspended")
