"""Claims are atomic in Redis: several stores (as several servers would) and many concurrent tasks
claiming from one small pool never get the same address, and each store sends the calls of one
loop turn as one pipeline (fewer round trips than calls)."""

from __future__ import annotations

import asyncio
import threading
import time

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.leases import open_store
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.wire.v4.message import ip4_int as ip


class R:
    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last


POOL = [R(ip("10.70.0.10"), ip("10.70.0.59"))]  # 50 addresses


async def dora(store: RedisStore, client: bytes, hint: int) -> Lease | None:
    """DISCOVER (allocate) then REQUEST (commit) of one client, as the engine does it."""
    now = time.time()
    offered = await store.allocate(Hold(Lease(0, client, LeaseState.OFFERED, now, now + 30), POOL, now, hint))
    if offered is None:
        return None
    bound = Lease(offered.address, client, LeaseState.BOUND, now, now + 600)
    got = await store.commit(bound, now)
    await store.flush()
    return got


async def test_three_stores_and_many_tasks_never_share_an_address(shared_url: str) -> None:
    stores = [open_store(shared_url) for _ in range(3)]
    assert all(isinstance(s, RedisStore) for s in stores)
    typed = [s for s in stores if isinstance(s, RedisStore)]
    clients = [b"\x01client-%03d" % i for i in range(150)]
    # every client asks all three stores at once with the same hint (the worst case for a race)
    results = await asyncio.gather(
        *(dora(store, client, hint=i % 7) for i, client in enumerate(clients) for store in typed)
    )
    bound = [lease for lease in results if lease is not None]
    owners: dict[int, bytes] = {}
    for lease in bound:
        assert owners.setdefault(lease.address, lease.client) == lease.client, "two clients, one address"
    assert len(owners) == 50  # the whole pool handed out, each address once
    stored = [lease for lease in await typed[0].leases() if lease.state == LeaseState.BOUND]
    assert len(stored) == 50 and len({lease.address for lease in stored}) == 50
    assert {lease.address: lease.client for lease in stored} == owners
    # one pipeline per loop turn: far fewer round trips than the 900+ store calls
    assert sum(s.round_trips for s in typed) < 450
    for s in typed:
        await s.close()


def test_stores_on_parallel_threads_never_share_an_address(shared_url: str) -> None:
    """Three event loops on three threads (three connections writing at the same time)."""
    results: list[list[Lease | None]] = [[] for _ in range(3)]
    errors: list[BaseException] = []

    def server(n: int) -> None:
        async def main() -> None:
            store = open_store(shared_url)
            assert isinstance(store, RedisStore)
            for i in range(40):  # 120 clients on 50 addresses, each server its own clients
                results[n].append(await dora(store, b"\x01t%d-%d" % (n, i), hint=i))
            await store.close()

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported by the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=server, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    bound = [lease for part in results for lease in part if lease is not None]
    assert len(bound) == 50
    assert len({lease.address for lease in bound}) == 50
