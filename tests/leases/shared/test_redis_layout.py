"""The Redis store's key layout as docs/stores/redis.md describes it, read back with plain Redis
commands (``HGETALL``, ``TTL``) the way an operator would: one hash per address, key = the
address text (plus the optional key prefix), TTL = the remaining lease time, set again on renewal;
and the indexes (expiry order, client -> addresses, free sets, counts) agree with the records
after a random run of operations."""

from __future__ import annotations

import random
import time

import redis

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.leases.shared.redis_url import parse
from dhcpbridge.testing.redis import RedisServer
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = LeaseKind.V4
MAC = bytes.fromhex("0267000000aa")


class R:
    def __init__(self, first: int, last: int, step: int = 1) -> None:
        self.first, self.last, self.step = first, last, step


def lease(addr: int, client: bytes, until: float, now: float, **kw: object) -> Lease:
    return Lease(addr, client, LeaseState.BOUND, now, until, **kw)  # type: ignore[arg-type]


def plain(url: str) -> redis.Redis:
    return redis.Redis.from_url(parse(url).url, decode_responses=True)


async def test_a_bound_lease_is_a_hash_named_by_its_address_with_its_remaining_time(
    private_redis: RedisServer,
) -> None:
    url = private_redis.url(db=3)  # the plain layout: no key prefix
    store = open_store(url)
    assert isinstance(store, RedisStore)
    now = time.time()
    got = await store.commit(
        lease(ip("10.67.0.10"), b"\x01" + MAC, now + 3600, now, hwaddr=MAC, hostname="printer", subnet="lab"),
        now,
    )
    assert got is not None
    r = plain(url)
    fields = r.hgetall("10.67.0.10")
    assert fields["mac"] == "02:67:00:00:00:aa"
    assert fields["hostname"] == "printer"
    assert fields["state"] == "bound"
    assert fields["client"] == "01" + MAC.hex()
    assert fields["subnet"] == "lab"
    assert float(fields["expires"]) == now + 3600
    assert 3590 <= r.ttl("10.67.0.10") <= 3600
    # a renewal sets the TTL again
    await store.commit(lease(ip("10.67.0.10"), b"\x01" + MAC, now + 7200, now + 10, hwaddr=MAC), now + 10)
    assert 7170 <= r.ttl("10.67.0.10") <= 7190
    # a release removes the hash at once (the address is free); the store keeps the history
    await store.release(V4, ip("10.67.0.10"), b"\x01" + MAC, now + 20)
    assert r.exists("10.67.0.10") == 0
    kept = await store.get(V4, ip("10.67.0.10"))
    assert kept is not None and kept.state == LeaseState.RELEASED
    await store.close()
    r.close()


async def test_offers_prefixes_and_the_key_prefix(shared_url: str) -> None:
    store = open_store(shared_url)
    assert isinstance(store, RedisStore)
    prefix = store.prefix
    assert prefix.startswith("tA")
    now = time.time()
    r = plain(shared_url)
    # an offer is not a lease yet: no hash (as a dnsmasq lease script sees only ACKs); the store
    # keeps the hold in its records
    offered = await store.allocate(
        Hold(
            Lease(0, b"\x01offer", LeaseState.OFFERED, now, now + 30),
            [R(ip("10.67.0.100"), ip("10.67.0.199"))],
            now,
            5,
        )
    )
    assert offered is not None and offered.address == ip("10.67.0.105")
    assert r.exists(f"{prefix}10.67.0.105") == 0
    held = await store.get(V4, ip("10.67.0.105"))
    assert held is not None and held.state == LeaseState.OFFERED
    # bound: the hash appears, with the lease's time
    await store.commit(lease(ip("10.67.0.105"), b"\x01offer", now + 30, now), now)
    assert r.hget(f"{prefix}10.67.0.105", "state") == "bound"
    assert 25 <= r.ttl(f"{prefix}10.67.0.105") <= 30
    await store.release(V4, ip("10.67.0.105"), b"\x01offer", now)
    assert r.exists(f"{prefix}10.67.0.105") == 0
    # an IPv6 address and a delegated prefix (key: prefix/length); IAID and DUID shown apart
    client6 = (7).to_bytes(4, "big") + bytes.fromhex("000100010203")
    na = 0x20010DB8_00000000_00000000_00000010
    pd = 0x20010DB8_01000000_00000000_00000000
    await store.commit(Lease(na, client6, LeaseState.BOUND, now, now + 600, LeaseKind.NA, 128), now)
    await store.commit(Lease(pd, client6, LeaseState.BOUND, now, now + 900, LeaseKind.PD, 56), now)
    na_hash = r.hgetall(f"{prefix}2001:db8::10")
    assert na_hash["kind"] == "na" and na_hash["iaid"] == "7" and na_hash["duid"] == "00:01:00:01:02:03"
    assert r.hget(f"{prefix}2001:db8:100::/56", "kind") == "pd"
    assert 890 <= r.ttl(f"{prefix}2001:db8:100::/56") <= 900
    # nothing of this store lives outside its prefix
    assert all(key.startswith(prefix) for key in r.scan_iter(match=f"{prefix}*"))
    assert not r.exists("2001:db8::10")
    await store.close()
    r.close()


def consistent(r: redis.Redis, prefix: str, counted: dict[str, int]) -> None:
    """Every index agrees with the records (the invariants docs/stores/redis.md states)."""
    import json

    internal = f"{prefix}dhcpbridge:"
    records = {k: json.loads(v) for k, v in r.hgetall(f"{internal}rec:v4").items()}
    exp = dict(r.zrange(f"{internal}exp:v4", 0, -1, withscores=True))
    old = dict(r.zrange(f"{internal}old:v4", 0, -1, withscores=True))
    active = {a for a, rec in records.items() if rec["state"] in ("offered", "bound", "declined")}
    assert set(exp) == active
    assert set(old) == set(records) - active
    for addr, rec in records.items():
        assert r.zscore(f"{internal}cli:v4:{rec['client']}", addr) is not None
        view = f"{prefix}{addr}"
        # every hold here lasts >= 20 s of store time, so no view hash ran out in real time yet
        assert bool(r.exists(view)) == (records[addr]["state"] in ("bound", "declined")), addr
    for key in r.scan_iter(match=f"{internal}cli:v4:*"):
        client = key.rsplit(":", 1)[1]
        for addr in r.zrange(key, 0, -1):
            assert records[addr]["client"] == client
    bitmap = f"{internal}used:v4:10.67.0.10-10.67.0.19"
    for n in range(10, 20):  # a set bit: an active address whose record remembers the bit
        addr = f"10.67.0.{n}"
        if r.getbit(bitmap, n - 10):
            assert addr in active, addr
            assert f"{bitmap}|{n - 10}" in records[addr]["_free"].split(";"), addr
    expected: dict[str, int] = {}
    for rec in records.values():
        expected[f"v4_{rec['state']}"] = expected.get(f"v4_{rec['state']}", 0) + 1
    # the counts hash has no offers (the store derives them from exp:)
    counts = {k: int(v) for k, v in r.hgetall(f"{internal}counts").items() if int(v)}
    assert counts == {k: v for k, v in expected.items() if k != "v4_offered"}
    assert counted == expected


async def test_indexes_stay_consistent_with_the_records(shared_url: str) -> None:
    store = open_store(shared_url)
    assert isinstance(store, RedisStore)
    r = plain(shared_url)
    rng = random.Random(10)
    pool = [R(ip("10.67.0.10"), ip("10.67.0.19"))]
    now = time.time()
    for step in range(400):
        client = b"\x01c%d" % rng.randrange(14)
        addr = ip("10.67.0.10") + rng.randrange(10)
        op = rng.choice(["alloc", "alloc", "commit", "commit", "release", "decline", "unhold", "reap"])
        if op == "alloc":
            await store.allocate(
                Hold(Lease(0, client, LeaseState.OFFERED, now, now + 30), pool, now, rng.randrange(99))
            )
        elif op == "commit":
            await store.commit(lease(addr, client, now + rng.choice([20, 60, 600]), now), now)
        elif op == "release":
            await store.release(V4, addr, client, now)
        elif op == "decline":
            await store.decline(V4, addr, client, now, now + 45)
        elif op == "unhold":
            await store.unhold(V4, addr, client)
        else:
            await store.reap(now)
        now += rng.choice([0, 1, 5, 20])
        if step % 50 == 49:
            await store._refresh_counts()
            consistent(r, store.prefix, store.count_by_state())
    await store.reap(now)
    leases = await store.leases()
    assert len({lease.address for lease in leases}) == len(leases)
    await store.close()
    r.close()


async def test_prefix_delegation_ranges_with_a_step(shared_url: str) -> None:
    """A PD pool (members first + k * step; /62 prefixes: step 2^66, not a multiple of 4 bits):
    allocations are aligned members, and a returning client gets its own prefix back."""
    store = open_store(shared_url)
    assert isinstance(store, RedisStore)
    step = 1 << 66
    first = 0xFD67_1000 << 96
    pool = [R(first, first + 15 * step, step)]
    now = time.time()
    got = []
    for i in range(16):
        client = (i).to_bytes(4, "big") + b"\x00\x01duid"
        held = await store.allocate(
            Hold(Lease(0, client, LeaseState.OFFERED, now, now + 30, LeaseKind.PD, 62), pool, now, i * 5)
        )
        assert held is not None
        got.append(held.address)
    assert sorted(got) == [first + k * step for k in range(16)]
    none = await store.allocate(
        Hold(Lease(0, b"\x00" * 8, LeaseState.OFFERED, now, now + 30, LeaseKind.PD, 62), pool, now, 0)
    )
    assert none is None  # all 16 prefixes held
    client3 = (3).to_bytes(4, "big") + b"\x00\x01duid"
    await store.commit(Lease(got[3], client3, LeaseState.BOUND, now, now + 60, LeaseKind.PD, 62), now)
    await store.release(LeaseKind.PD, got[3], client3, now + 1)
    again = await store.allocate(
        Hold(Lease(0, client3, LeaseState.OFFERED, now + 2, now + 32, LeaseKind.PD, 62), pool, now + 2, 9)
    )
    assert again is not None and again.address == got[3]
    await store.close()


async def test_offers_are_counted_from_the_active_records(shared_url: str) -> None:
    """Offers are not in the ``counts`` hash (one write fewer per offer and per commit): the
    store counts them as the active records less the bound and declined ones; an ``offered``
    field left there by an older server is ignored."""
    store = open_store(shared_url)
    assert isinstance(store, RedisStore)
    r = plain(shared_url)
    r.hset(f"{store.prefix}dhcpbridge:counts", "v4_offered", 7)  # as servers before 2026-12-07 kept it
    now = time.time()
    pool = [R(ip("10.67.0.100"), ip("10.67.0.199"))]
    for n in range(3):
        held = await store.allocate(
            Hold(Lease(0, b"\x01o%d" % n, LeaseState.OFFERED, now, now + 30), pool, now, n)
        )
        assert held is not None
    await store.commit(lease(ip("10.67.0.150"), b"\x01b", now + 600, now), now)
    await store._refresh_counts()
    assert store.count_by_state() == {"v4_offered": 3, "v4_bound": 1}
    await store.close()
    r.close()
