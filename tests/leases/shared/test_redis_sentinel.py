"""The Redis store behind Redis Sentinel (``redis+sentinel://``): the URL's parts, and with a real
master, replica and sentinel (private redis-servers on free loopback ports) a failover under a
running store: what was acknowledged with ``wait-replicas=1`` is on the new master, and the same
store object writes there by itself after at most one refused call."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import StoreError, open_store
from dhcpbridge.leases.registry import check_url
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.leases.shared.redis_url import parse
from dhcpbridge.testing.redis import RedisServer, redis_unavailable
from dhcpbridge.testing.redis_sentinel import SentinelSet
from dhcpbridge.wire.v4.message import ip4_int as ip


class R:
    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last


POOL = [R(ip("10.72.0.10"), ip("10.72.0.200"))]


def test_sentinel_urls_name_the_sentinels_the_service_and_the_db() -> None:
    opts = parse(
        "redis+sentinel://user:pw@10.0.0.1:26379,[fd00::2]:26380/dhcp-master/2?key-prefix=d:&sentinel-password=s"
    )
    where = opts.sentinel
    assert where is not None and opts.key_prefix == "d:"
    assert where.hosts == (("10.0.0.1", 26379), ("fd00::2", 26380))
    assert (where.service, where.db, where.username, where.password) == ("dhcp-master", 2, "user", "pw")
    assert (where.sentinel_password, where.tls) == ("s", False)
    assert parse("rediss+sentinel://h:26379/m").sentinel == parse("rediss+sentinel://h:26379/m/0").sentinel
    assert parse("rediss+sentinel://h:26379/m").sentinel.tls  # type: ignore[union-attr]
    assert parse("redis://h:6379/0").sentinel is None
    check_url("redis+sentinel://127.0.0.1:26379/mymaster/0")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+sentinel://h:26379", "needs /SERVICE"),
        ("redis+sentinel://h:26379/m/x", "needs /SERVICE"),
        ("redis+sentinel://h/m", "is not HOST:PORT"),
    ],
)
def test_bad_sentinel_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_url(url)


async def _grant(store: RedisStore, client: bytes) -> Lease:
    now = time.time()
    offer = await store.allocate(Hold(Lease(0, client, LeaseState.OFFERED, now, now + 30), POOL, now, 0))
    assert offer is not None
    got = await store.commit(Lease(offer.address, client, LeaseState.BOUND, now, now + 3600), now)
    assert got is not None
    await store.flush()  # WAIT 1: on the replica too before this returns
    return got


@pytest.mark.skipif(redis_unavailable() is not None, reason=str(redis_unavailable()))
async def test_a_failover_keeps_the_leases_and_the_store_follows_the_new_master(tmp_path: Path) -> None:
    with SentinelSet(tmp_path) as sentinels:
        store = open_store(sentinels.url(**{"key-prefix": "tS:", "wait-replicas": "1", "timeout": "1"}))
        assert isinstance(store, RedisStore)
        try:
            before = [await _grant(store, b"\x01sent-%d" % i) for i in range(20)]
            old = sentinels.master()
            new = sentinels.failover()
            assert new != old and new[1] == sentinels.replica_port
            # the old master's connection fails once, and WAIT 1 refuses until the old master has
            # resynced as the new one's replica (Sentinel reconfigures it): bounded in time
            deadline = time.monotonic() + 30
            while True:
                try:
                    after = await _grant(store, b"\x01sent-new")
                    break
                except StoreError:
                    assert time.monotonic() < deadline, "the store never reached the new master"
                    time.sleep(0.2)
            assert store.failing() is None
            for lease in before:  # acknowledged before the failover: all on the new master
                got = await store.get(LeaseKind.V4, lease.address)
                assert got is not None and got.client == lease.client and got.state is LeaseState.BOUND
            assert after.address not in {lease.address for lease in before}
        finally:
            await store.close()


async def test_a_missing_replica_is_a_wait_refusal_not_an_unreachable_redis(
    private_redis: RedisServer,
) -> None:
    """A WAIT longer than the socket timeout used to time the read out: the store then reported an
    unreachable Redis (and logged an outage) instead of the missing replica."""
    url = private_redis.url() + "&key-prefix=tW:&wait-replicas=1&wait-timeout=1500&timeout=1"
    store = open_store(url)
    assert isinstance(store, RedisStore)
    try:
        with pytest.raises(StoreError, match="only 0 of 1 replica"):
            await _grant(store, b"\x01lonely")
    finally:
        await store.close()
