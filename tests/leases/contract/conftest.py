"""Fixtures of the store contract suite: one ``store`` fixture over every backend in
``backends.BACKENDS``, and ``run``, which drives a store coroutine to completion on one event loop
that lives for the whole session (shared-store clients are bound to the loop they were made on)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from dhcpbridge.engine.ports import LeaseStore

from .backends import BACKENDS

T = TypeVar("T")
_LOOP = asyncio.new_event_loop()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """The result of a store coroutine (inline stores finish without suspending)."""
    return _LOOP.run_until_complete(coro)


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LeaseStore]:
    """A fresh, empty store of each backend, closed after the test."""
    s = BACKENDS[request.param](tmp_path)
    yield s
    run(s.close())
