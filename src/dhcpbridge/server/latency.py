"""Request latency per message type, from the datagram's arrival (the batch's clock reading) to
the reply's send, the group commit included: fixed buckets counted in plain lists on the packet
path (one ``bisect`` and two additions per reply), turned into a Prometheus histogram at scrape
time (``dhcpbridge.metrics.LatencyCollector``)."""

from __future__ import annotations

from bisect import bisect_left
from typing import Final

#: upper bounds in seconds (the last bucket, +Inf, is implicit)
BUCKETS: Final[tuple[float, ...]] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
)


class Latency:
    """Counts per request message type (its code): ``counts[code][i]`` replies within bucket
    ``i`` (not cumulative), ``sums[code]`` the seconds in total."""

    def __init__(self) -> None:
        self.counts: dict[int, list[int]] = {}
        self.sums: dict[int, float] = {}

    def observe(self, code: int, seconds: float) -> None:
        counts = self.counts.get(code)
        if counts is None:
            counts = self.counts[code] = [0] * (len(BUCKETS) + 1)
            self.sums[code] = 0.0
        counts[bisect_left(BUCKETS, seconds)] += 1
        self.sums[code] += seconds
