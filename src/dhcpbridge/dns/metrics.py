"""The updater's counters for Prometheus: ``dhcpbridge_dns_updates{outcome}`` (every attempt's
outcome), ``dhcpbridge_dns_enqueued`` and the gauges ``dhcpbridge_dns_backlog`` (updates waiting),
``dhcpbridge_dns_oldest_pending_seconds`` (how long the oldest of them has waited) and
``dhcpbridge_dns_published`` (addresses with a name)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector


class DnsCollector(Collector):
    """Reads ``DnsUpdater.stats()`` when scraped."""

    def __init__(self, stats: Callable[[], dict[str, Any] | None]) -> None:
        self.stats = stats  # None while [dns] is off

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        stats = self.stats()
        if stats is None:
            return
        updates = CounterMetricFamily(
            "dhcpbridge_dns_updates", "DNS update attempts by outcome", labels=["outcome"]
        )
        for outcome, value in stats["outcomes"].items():
            updates.add_metric([outcome], value)
        yield updates
        yield CounterMetricFamily("dhcpbridge_dns_enqueued", "DNS updates queued", value=stats["enqueued"])
        yield GaugeMetricFamily(
            "dhcpbridge_dns_backlog", "DNS updates waiting to be sent", value=stats["backlog"]
        )
        yield GaugeMetricFamily(
            "dhcpbridge_dns_oldest_pending_seconds",
            "How long the oldest waiting DNS update has waited",
            value=stats["oldest_age"],
        )
        yield GaugeMetricFamily(
            "dhcpbridge_dns_published", "Addresses whose name we published", value=stats["published"]
        )
