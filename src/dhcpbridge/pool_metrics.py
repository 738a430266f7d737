"""Per-subnet and per-pool Prometheus gauges (size, bound, offered, declined, free), from a
snapshot that a server task refreshes every few seconds (listing every lease is too much work
for each scrape, and a shared store's listing is IO): ``PoolCollector`` reads the latest one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dhcpbridge import logs
from dhcpbridge.usage import utilisation

REFRESH = 10.0  # seconds between two snapshots
KINDS = ("total", "bound", "offered", "declined", "free")
log = logs.get("dhcpbridge")


class PoolCollector(Collector):
    """``dhcpbridge_subnet_addresses{subnet, state}`` and ``dhcpbridge_pool_addresses{subnet,
    pool, state}`` (state ``total`` is the size); empty until the first snapshot."""

    def __init__(self) -> None:
        self.snapshot: list[Any] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        subnets = GaugeMetricFamily(
            "dhcpbridge_subnet_addresses",
            "Addresses of a subnet's pools by state",
            labels=["subnet", "state"],
        )
        pools = GaugeMetricFamily(
            "dhcpbridge_pool_addresses", "Addresses of a pool by state", labels=["subnet", "pool", "state"]
        )
        for subnet in self.snapshot:
            for kind in KINDS:
                subnets.add_metric([subnet.subnet, kind], getattr(subnet, kind))
            for pool in subnet.pools:
                for kind in KINDS:
                    pools.add_metric([subnet.subnet, pool.pool, kind], getattr(pool, kind))
        yield subnets
        yield pools

    async def refresh_forever(self, server: Any, interval: Callable[[], float] = lambda: REFRESH) -> None:
        """Take a snapshot now and then every ``interval()`` seconds (a failing store is logged
        at most once per window and the old snapshot stays)."""
        while True:
            store = server.store
            if store is not None:
                try:
                    self.snapshot = utilisation(server.config, await store.leases())
                except Exception as exc:  # a store problem must not end the task
                    if logs.limited("pool-metrics"):
                        log.warning("pool metrics: cannot list leases", error=str(exc))
            await asyncio.sleep(interval())
