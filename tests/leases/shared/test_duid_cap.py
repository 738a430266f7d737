"""``[server6] max-leases-per-duid`` on a shared store: the store counts a DUID's leases inside
the claim (the engine cannot ask synchronously there), so no server, and no two servers racing,
give a DUID more addresses and prefixes than the cap; an IA that holds a lease keeps it."""

from __future__ import annotations

import asyncio
import ipaddress
import time

import pytest

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.leases.base import CapsDuidLeases

NA, PD = LeaseKind.NA, LeaseKind.PD
DUID = bytes.fromhex("000100011c39cf88080027fe8f95")
FIRST = int(ipaddress.IPv6Address("2001:db8:1::100"))
PD_FIRST = int(ipaddress.IPv6Address("2001:db8:100::"))


class Range:
    def __init__(self, first: int, last: int, step: int = 1) -> None:
        self.first, self.last, self.step = first, last, step


NA_POOL = [Range(FIRST, FIRST + 999)]
PD_POOL = [Range(PD_FIRST, PD_FIRST + (255 << 72), 1 << 72)]


def ia(iaid: int, duid: bytes = DUID) -> bytes:
    return iaid.to_bytes(4, "big") + duid


def template(kind: LeaseKind, key: bytes, now: float) -> Lease:
    return Lease(0, key, LeaseState.OFFERED, now, now + 30, kind=kind, prefix_len=128 if kind == NA else 56)


async def claim(store: object, kind: LeaseKind, key: bytes, now: float) -> Lease | None:
    """SOLICIT + REQUEST of one IA: an allocation, then its commit."""
    pool = NA_POOL if kind == NA else PD_POOL
    held = await store.allocate(Hold(template(kind, key, now), pool, now, 0))  # type: ignore[attr-defined]
    if held is None:
        return None
    bound = Lease(held.address, key, LeaseState.BOUND, now, now + 600, kind=kind, prefix_len=held.prefix_len)
    result: Lease | None = await store.commit(bound, now)  # type: ignore[attr-defined]
    return result


@pytest.fixture(params=["redis", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    fixture = "shared_url" if request.param == "redis" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


async def test_a_duid_gets_no_more_than_the_cap(store_url: str) -> None:
    a, b = open_store(store_url), open_store(store_url)
    assert isinstance(a, CapsDuidLeases) and isinstance(b, CapsDuidLeases)
    a.limit_leases_per_duid(3)
    b.limit_leases_per_duid(3)
    now = time.time()
    try:
        # two servers, five IAs of one DUID at once (addresses and prefixes): three get one
        kinds: list[tuple[LeaseKind, int]] = [(NA, 1), (PD, 2), (NA, 3), (PD, 4), (NA, 5)]
        got = await asyncio.gather(*(claim((a, b)[i % 2], k, ia(n), now) for i, (k, n) in enumerate(kinds)))
        winners = [(k, n) for (k, n), lease in zip(kinds, got, strict=True) if lease is not None]
        assert len(winners) == 3
        # an IA that holds its lease renews it, and allocates it again, at the cap
        kind, n = winners[0]
        again = await claim(b, kind, ia(n), now + 1)
        assert again is not None
        # another DUID is not affected
        assert await claim(a, NA, ia(1, DUID[:-1] + b"\x00"), now) is not None
        # a commit of a new address for a new IA is refused at the cap too
        loser = next((k, n) for k, n in kinds if (k, n) not in winners)
        pool = NA_POOL if loser[0] == NA else PD_POOL
        direct = Lease(
            pool[0].last, ia(loser[1]), LeaseState.BOUND, now, now + 600, kind=loser[0], prefix_len=128
        )
        assert await a.commit(direct, now) is None
        # once one lease is released, the next IA gets one
        held = next(lease for lease in got if lease is not None)
        assert await a.release(held.kind, held.address, held.client, now + 2)
        assert await claim(a, loser[0], ia(loser[1]), now + 3) is not None
        # no cap: no limit
        a.limit_leases_per_duid(0)
        assert await claim(a, NA, ia(99), now + 4) is not None
    finally:
        await a.close()
        await b.close()


async def test_the_v6_engine_hands_its_cap_to_the_store_also_through_renew_from_cache(
    shared_url: str,
) -> None:
    from dhcpbridge.assemble import build_engine6
    from dhcpbridge.config import loader
    from dhcpbridge.engine.records import HostInfo6
    from dhcpbridge.engine.stats import Stats
    from dhcpbridge.leases.renewcache import RenewFromCache
    from dhcpbridge.leases.shared.redis_store import RedisStore

    cfg = loader.from_dict(
        {"server6": {"max-leases-per-duid": 5}, "subnet6": [{"subnet": "2001:db8:1::/64", "pools": []}]}
    )
    inner = open_store(shared_url)
    assert isinstance(inner, RedisStore)
    try:
        build_engine6(cfg, RenewFromCache(inner), HostInfo6({}), Stats(), [])
        assert inner.duid_cap == 5
    finally:
        await inner.close()
