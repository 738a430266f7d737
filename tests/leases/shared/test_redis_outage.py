"""A Redis outage under load (a private redis-server, never the machine's): Redis is killed
(SIGKILL, ``appendfsync always``) for some seconds while clients keep asking. Every call meanwhile
fails with ``StoreError`` (so nothing is acknowledged that was not recorded), ``failing()`` says
so, the same store object works again by itself once Redis is back (reconnect, script reloaded),
and every lease acknowledged before the crash is still there."""

from __future__ import annotations

import asyncio
import time

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import StoreError, open_store
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.testing.redis import RedisServer
from dhcpbridge.wire.v4.message import ip4_int as ip


class R:
    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last


POOL = [R(ip("10.71.0.0"), ip("10.71.15.255"))]  # 4096 addresses
CLIENTS = 3000


async def test_killed_redis_loses_no_acked_lease_and_the_store_recovers(private_redis: RedisServer) -> None:
    store = open_store(private_redis.url(**{"key-prefix": "tA:", "timeout": "1"}))
    assert isinstance(store, RedisStore)
    acked: dict[int, bytes] = {}  # what a server would have ACKed: committed and flushed
    refused = 0
    counter = 0
    stop = asyncio.Event()

    async def worker(n: int) -> None:
        nonlocal refused, counter
        deadline = time.monotonic() + 120  # bounded in time and in count
        while not stop.is_set() and time.monotonic() < deadline and counter < 200_000:
            counter += 1
            client = b"\x01out-%d" % (counter % CLIENTS)
            now = time.time()
            try:
                offer = await store.allocate(
                    Hold(Lease(0, client, LeaseState.OFFERED, now, now + 30), POOL, now, counter)
                )
                assert offer is not None
                got = await store.commit(Lease(offer.address, client, LeaseState.BOUND, now, now + 3600), now)
                await store.flush()
            except StoreError:
                refused += 1
                await asyncio.sleep(0.02)
                continue
            assert got is not None
            acked[got.address] = client

    workers = [asyncio.create_task(worker(n)) for n in range(8)]
    for _ in range(200):
        if len(acked) >= 500:
            break
        await asyncio.sleep(0.05)
    assert len(acked) >= 500, "no load before the outage"
    private_redis.kill()  # a crash, in the middle of load
    await asyncio.sleep(1.0)
    down = store.failing()
    assert down is not None and down[0] >= 1
    refused_at_crash = refused
    await asyncio.sleep(3.0)  # stays down for some seconds
    assert refused > refused_at_crash
    private_redis.start()
    before = len(acked)
    for _ in range(600):  # the same store serves again by itself
        if store.failing() is None and counter > 0 and len(acked) >= before + 200:
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*workers)
    assert store.failing() is None
    # every acknowledged lease survived the crash, with its client
    for address, client in acked.items():
        lease = await store.get(LeaseKind.V4, address)
        assert lease is not None and lease.client == client and lease.state == LeaseState.BOUND, hex(address)
    stored = {lease.address for lease in await store.leases(LeaseKind.V4) if lease.state == LeaseState.BOUND}
    assert set(acked) <= stored
    await store.close()


async def test_unreachable_redis_fails_every_call_with_store_error(private_redis: RedisServer) -> None:
    store = open_store(private_redis.url(**{"timeout": "1"}))
    private_redis.stop()
    now = time.time()
    for call in (
        store.get(LeaseKind.V4, ip("10.71.0.1")),
        store.commit(Lease(ip("10.71.0.1"), b"\x01x", LeaseState.BOUND, now, now + 60), now),
        store.reap(now),
    ):
        try:
            await call
        except StoreError as exc:
            assert "redis" in str(exc)
        else:
            raise AssertionError("a call to a stopped Redis succeeded")
    assert isinstance(store, RedisStore) and store.failing() is not None
    await store.close()
