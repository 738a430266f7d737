"""Fixtures for the lease store tests: every ``LeaseStore`` implementation behind one fixture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dhcpbridge.engine.inline import run_inline
from dhcpbridge.leases import IndexedStore, MemoryStore, SqliteStore


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[IndexedStore]:
    """A fresh, empty store of each kind (SQLite in a temporary file, flushed on close)."""
    s: IndexedStore = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "leases.db")
    yield s
    run_inline(s.close())
