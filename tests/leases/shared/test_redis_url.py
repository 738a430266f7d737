"""Redis store URLs: the schemes the registry knows, the store's own query options (split from
redis-py's), the errors the config reports, and the capabilities the server looks for."""

from __future__ import annotations

import pytest

from dhcpbridge.leases import open_store
from dhcpbridge.leases.base import (
    CountsLeases,
    QueriesLeases,
    ReportsHealth,
    SharedStore,
    is_inline,
    is_shared,
)
from dhcpbridge.leases.registry import check_url
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.leases.shared.redis_url import parse


def test_options_are_split_from_redis_py_ones() -> None:
    opts = parse("redis://:pw@10.0.0.5:6380/2?key-prefix=dhcp:&wait-replicas=1&wait-timeout=250&timeout=0.5")
    assert opts.url == "redis://:pw@10.0.0.5:6380/2"
    assert (opts.key_prefix, opts.wait_replicas, opts.wait_timeout_ms, opts.timeout) == ("dhcp:", 1, 250, 0.5)
    unix = parse("unix:///run/redis/redis.sock?db=3&key-prefix=%7Bdhcp%7D:")
    assert unix.url == "unix:///run/redis/redis.sock?db=3"
    assert unix.key_prefix == "{dhcp}:"  # a hash tag for Redis Cluster
    assert parse("rediss://redis.example:6380/0").url == "rediss://redis.example:6380/0"
    assert parse("redis://127.0.0.1").key_prefix == ""  # the plain layout by default


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("unix://", "needs a socket path"),
        ("redis://h?wait-replicas=-1", "must be >= 0"),
        ("redis://h?timeout=zero", "Redis store option"),
    ],
)
def test_bad_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_url(url)


def test_the_store_has_the_capabilities_the_server_looks_for() -> None:
    for url in ("redis://127.0.0.1:6379/0", "rediss://127.0.0.1:6380/0", "unix:///tmp/none.sock?db=1"):
        check_url(url)
        store = open_store(url, retention=600)  # nothing connects before the first call
        assert isinstance(store, RedisStore) and store.retention == 600
        assert isinstance(store, CountsLeases) and isinstance(store, QueriesLeases)
        assert isinstance(store, ReportsHealth) and isinstance(store, SharedStore)
        assert is_shared(store) and not is_inline(store)
        assert store.failing() is None and store.count_by_state() == {}
