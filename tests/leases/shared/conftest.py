"""Fixtures of the shared-store tests. Redis: a key prefix of its own on the machine's Redis
(deleted afterwards), and a private redis-server on a unix socket (for the plain layout without a
prefix and for outages, which must never touch the machine's Redis). PostgreSQL: a throwaway
database on the machine's PostgreSQL (``DHCPBRIDGE_TEST_PG``), with dhcpbridge's schema or
without, dropped after the test."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dhcpbridge.testing.pg import drop_database, throwaway_database
from dhcpbridge.testing.redis import RedisServer, delete_prefix, unique_prefix

SHARED = "redis://127.0.0.1:6379/0"


@pytest.fixture
def shared_url() -> Iterator[str]:
    """A store URL on the machine's Redis with a fresh key prefix; its keys are deleted after."""
    redis.Redis.from_url(SHARED).ping()  # fails loudly when Redis is down
    prefix = unique_prefix()
    yield f"{SHARED}?key-prefix={prefix}"
    delete_prefix(SHARED, prefix)


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this test only (unix socket in a short temporary directory)."""
    directory = Path(tempfile.mkdtemp(prefix="dhcpA-redis-", dir="/tmp"))
    server = RedisServer(directory)
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


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
