"""A /16 pool (65,536 addresses) on the Redis store: the first allocation needs no per-range set
up (a range's bitmap of taken members starts as a missing key, read as all free), many servers
allocate from it at once without duplicates, releases make addresses free again, and addresses
leased by address (bit still clear) are skipped and marked as the search meets them."""

from __future__ import annotations

import asyncio
import time

import redis

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = LeaseKind.V4
FIRST, LAST = ip("10.70.0.0"), ip("10.70.255.255")


class Range:
    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last


POOL = [Range(FIRST, LAST)]


def client(i: int) -> bytes:
    return b"\x01" + i.to_bytes(6, "big")


async def test_a_slash16_pool_allocates_and_releases(shared_url: str) -> None:
    stores = [open_store(shared_url) for _ in range(3)]
    assert all(isinstance(s, RedisStore) for s in stores)
    prefix = shared_url.split("key-prefix=")[1]
    plain = redis.Redis.from_url(shared_url.split("?")[0], decode_responses=True)
    bitmap = f"{prefix}dhcpbridge:used:v4:10.70.0.0-10.70.255.255"
    now = time.time()
    try:
        # the very first call in the range: nothing to build, one atomic call
        first = await stores[0].allocate(
            Hold(Lease(0, client(0), LeaseState.OFFERED, now, now + 60), POOL, now, 7)
        )
        assert first is not None and first.address == FIRST + 7
        assert plain.strlen(bitmap) <= 8192  # at most one bit per member of the range

        async def one(i: int) -> Lease | None:
            store = stores[i % 3]
            hint = (i * 2654435761) % 65536
            got = await store.allocate(
                Hold(Lease(0, client(i), LeaseState.OFFERED, now, now + 60), POOL, now, hint)
            )
            assert got is not None
            return await store.commit(Lease(got.address, client(i), LeaseState.BOUND, now, now + 600), now)

        bound = await asyncio.gather(*(one(i) for i in range(1, 601)))
        addresses = [lease.address for lease in bound if lease is not None]
        assert len(addresses) == 600 and len(set(addresses)) == 600
        assert all(FIRST <= a <= LAST for a in addresses)
        # released addresses are free again: the same hint finds the same address
        for i, lease in enumerate(bound[:50], start=1):
            assert lease is not None
            assert await stores[0].release(V4, lease.address, client(i), now + 1)
            assert not plain.getbit(bitmap, lease.address - FIRST)
        again = await stores[1].allocate(
            Hold(
                Lease(0, client(9999), LeaseState.OFFERED, now + 2, now + 60),
                POOL,
                now + 2,
                bound[0].address - FIRST,
            ),
        )
        assert again is not None and again.address == bound[0].address
    finally:
        for store in stores:
            await store.close()
        plain.close()


async def test_an_address_leased_by_address_is_skipped_and_marked(shared_url: str) -> None:
    store = open_store(shared_url)
    prefix = shared_url.split("key-prefix=")[1]
    plain = redis.Redis.from_url(shared_url.split("?")[0], decode_responses=True)
    bitmap = f"{prefix}dhcpbridge:used:v4:10.70.0.0-10.70.255.255"
    now = time.time()
    try:
        # a fixed answer's offer: no search, so its bit stays clear
        assert await store.offer(Lease(FIRST + 100, client(1), LeaseState.OFFERED, now, now + 60), now)
        assert not plain.getbit(bitmap, 100)
        got = await store.allocate(
            Hold(Lease(0, client(2), LeaseState.OFFERED, now, now + 60), POOL, now, 100)
        )
        assert got is not None and got.address == FIRST + 101
        assert plain.getbit(bitmap, 100) and plain.getbit(bitmap, 101)
        # once the offer lapses its record clears the bit it was marked with
        await store.unhold(V4, FIRST + 100, client(1))
        assert not plain.getbit(bitmap, 100)
        got = await store.allocate(
            Hold(Lease(0, client(3), LeaseState.OFFERED, now, now + 60), POOL, now, 100)
        )
        assert got is not None and got.address == FIRST + 100
    finally:
        await store.close()
        plain.close()


class Stepped(Range):
    def __init__(self, first: int, last: int, step: int = 1) -> None:
        super().__init__(first, last)
        self.step = step


async def test_the_script_names_v6_members_as_python_does(shared_url: str) -> None:
    """The function computes a member's address (and its RFC 5952 text) from the range's first
    address: the same address the memory store picks for the same hint, across group borders
    and zero runs, for IA_NA addresses and IA_PD prefixes."""
    import ipaddress

    from dhcpbridge.leases import MemoryStore

    def v6(text: str) -> int:
        return int(ipaddress.IPv6Address(text))

    cases = [
        (LeaseKind.NA, Stepped(v6("2001:db8::fff0"), v6("2001:db8::1:20")), [0, 5, 15, 16, 17, 40]),
        (LeaseKind.NA, Stepped(v6("::"), v6("::ff")), [0, 1, 255]),
        (LeaseKind.NA, Stepped(v6("2001:0:0:1::fffe"), v6("2001:0:0:1::1:3")), [0, 2, 5]),
        (
            LeaseKind.PD,
            Stepped(v6("2001:db8:100::"), v6("2001:db8:1ff:ff00::"), 1 << 72),
            [0, 1, 255, 256, 300],
        ),
        (LeaseKind.PD, Stepped(v6("2001:db8::"), v6("2001:db8:ffff:fff0::"), 1 << 68), [0, 1, 15, 16, 4095]),
    ]
    store = open_store(shared_url)
    memory = MemoryStore()
    now = time.time()
    try:
        for n, (kind, r, hints) in enumerate(cases):
            for hint in hints:
                key = bytes([n, hint % 256, hint // 256])
                lease = Lease(0, key, LeaseState.OFFERED, now, now + 60, kind=kind, prefix_len=56)
                want = await memory.allocate(Hold(lease, [r], now, hint))
                lease = Lease(0, key, LeaseState.OFFERED, now, now + 60, kind=kind, prefix_len=56)
                got = await store.allocate(Hold(lease, [r], now, hint))
                assert want is not None and got is not None
                assert got.address == want.address, (ipaddress.IPv6Address(got.address), hint)
                assert await store.get(kind, got.address) is not None  # its record is named alike
    finally:
        await store.close()
        await memory.close()


async def test_records_of_the_old_free_set_layout_still_change(shared_url: str) -> None:
    """A record written by the store before the bitmaps names its range's sorted set in
    ``_free``: releasing and binding it again must not touch that key as a bitmap."""
    import json

    store = open_store(shared_url)
    prefix = shared_url.split("key-prefix=")[1]
    plain = redis.Redis.from_url(shared_url.split("?")[0], decode_responses=True)
    old_set = f"{prefix}dhcpbridge:free:v4:10.70.0.0-10.70.255.255"
    now = time.time()
    try:
        bound = await store.commit(Lease(FIRST + 5, client(1), LeaseState.BOUND, now, now + 600), now)
        assert bound is not None
        plain.zadd(old_set, {"0a460006|10.70.0.6": 6})
        rec = json.loads(plain.hget(f"{prefix}dhcpbridge:rec:v4", "10.70.0.5"))
        rec["_free"] = f"{old_set}|5"
        plain.hset(f"{prefix}dhcpbridge:rec:v4", "10.70.0.5", json.dumps(rec))
        assert await store.release(V4, FIRST + 5, client(1), now + 1)
        got = await store.allocate(
            Hold(Lease(0, client(2), LeaseState.OFFERED, now, now + 60), POOL, now + 2, 5)
        )
        assert got is not None and got.address == FIRST + 5
        assert plain.type(old_set) == "zset"
    finally:
        await store.close()
        plain.close()
