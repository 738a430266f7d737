"""Fixtures for the server tests: ``test_stores`` makes the test-only stores (``shared-memory://``,
``flaky-shared://``) known to the store registry while one test runs, and forgets them after it
(other tests list the known schemes in their messages)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dhcpbridge.leases import registry

from .flaky_store import register_flaky
from .shared_program import register_store


@pytest.fixture
def test_stores() -> Iterator[None]:
    before = dict(registry._BACKENDS)
    register_store()
    register_flaky()
    try:
        yield
    finally:
        registry._BACKENDS.clear()
        registry._BACKENDS.update(before)
