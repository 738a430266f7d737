"""Fixtures of the PostgreSQL store tests: a throwaway database on the machine's PostgreSQL
(``DHCPBRIDGE_TEST_PG``), with dhcpbridge's schema or without, dropped after the test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dhcpbridge.testing.pg import drop_database, throwaway_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database with the current schema."""
    url = throwaway_database("s")
    yield url
    drop_database(url)


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A database without dhcpbridge's schema."""
    url = throwaway_database("e", init=False)
    yield url
    drop_database(url)
