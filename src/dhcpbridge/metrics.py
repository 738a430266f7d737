"""Prometheus metrics: the engine's plain counters, turned into metric families at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from dhcpbridge.engine.stats import Stats


def _items(counter: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(dict(counter).items())


class StatsCollector(Collector):
    """Reads ``Stats`` objects (per protocol family) and a lease-count callback when scraped."""

    def __init__(
        self,
        stats: dict[str, Stats],
        lease_counts: Callable[[], dict[str, int]],
        events: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self.stats = stats
        self.lease_counts = lease_counts
        self.events = events

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        received = CounterMetricFamily("dhcpbridge_received", "Requests received", labels=["family", "type"])
        sent = CounterMetricFamily("dhcpbridge_sent", "Replies sent", labels=["family", "type"])
        drops = CounterMetricFamily(
            "dhcpbridge_dropped", "Requests dropped without a reply", labels=["family", "reason"]
        )
        errors = CounterMetricFamily("dhcpbridge_errors", "Internal errors", labels=["family", "kind"])
        for family, stats in self.stats.items():
            for name, value in _items(stats.received):
                received.add_metric([family, name], value)
            for name, value in _items(stats.sent):
                sent.add_metric([family, name], value)
            for name, value in _items(stats.drops):
                drops.add_metric([family, name], value)
            for name, value in _items(stats.errors):
                errors.add_metric([family, name], value)
        refused = CounterMetricFamily(
            "dhcpbridge_refused", "Parts of answered requests refused", labels=["family", "reason"]
        )
        for family, stats in self.stats.items():
            for name, value in _items(stats.refused):
                refused.add_metric([family, name], value)
        yield from (received, sent, drops, errors, refused)
        leases = GaugeMetricFamily("dhcpbridge_leases", "Lease records by state", labels=["state"])
        for state, count in sorted(self.lease_counts().items()):
            leases.add_metric([state], count)
        yield leases
        if self.events is not None:
            counts = self.events()
            events = CounterMetricFamily(
                "dhcpbridge_lease_events", "Lease events for listeners", labels=["outcome"]
            )
            for outcome in ("delivered", "overflow", "listener_failures"):
                events.add_metric([outcome], counts.get(outcome, 0))
            yield events


def registry_for(
    stats: dict[str, Stats],
    lease_counts: Callable[[], dict[str, int]],
    events: Callable[[], dict[str, int]] | None = None,
) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(StatsCollector(stats, lease_counts, events))
    return registry


class LatencyCollector(Collector):
    """``dhcpbridge_request_latency_seconds{family, type}``: arrival to send (commit included), from
    each endpoint's ``Latency`` (``server/latency.py``); ``latencies`` gives them by family."""

    def __init__(
        self, latencies: Callable[[], dict[str, Any]], names: dict[str, Callable[[int], str]]
    ) -> None:
        self.latencies = latencies
        self.names = names

    def collect(self) -> Iterator[HistogramMetricFamily]:
        from dhcpbridge.server.latency import BUCKETS

        family = HistogramMetricFamily(
            "dhcpbridge_request_latency_seconds",
            "Seconds from a request's arrival to its reply's send, the lease commit included",
            labels=["family", "type"],
        )
        for fam, latency in sorted(self.latencies().items()):
            name = self.names.get(fam, str)
            for code, counts in sorted(latency.counts.items()):
                cumulative, running = [], 0
                for bound, count in zip((*map(str, BUCKETS), "+Inf"), counts, strict=True):
                    running += count
                    cumulative.append((bound, running))
                family.add_metric([fam, name(code)], cumulative, latency.sums[code])
        yield family
