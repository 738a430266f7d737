"""Search for the highest offered rate a server sustains with at most a given share of drops.

One job: decide which rates to measure next, given the points measured so far, within a bounded
number of points and a deadline.  Measuring is the caller's business (a callback), so the
search is pure and unit-tested without a lab.

Strategy: probe the ``ceiling`` first (perfdhcp on one core tops out near 36-40k exchanges/s).
If it passes, that is the answer (the load generator, not the server, is the limit).  Otherwise
the completed rate at overload estimates the capacity; the next probe is just below it
(``headroom``, default 95 %), then bisection (geometric mean) between the highest passing rate
and the lowest failing one - or just above the estimated capacity when that is lower - until
they are within ``precision`` of each other, the point budget is spent or the deadline is near.  Rates are rounded to two significant figures in steps of 5
(22 000, 22 500, 950, 955...), so reports stay readable.

A single point is noisy on a shared VM (0.1-0.3 % drops well below the knee happen), so the
result is "sustained in this run"; the caller keeps every point for the record.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Measurement(Protocol):
    """What a measured point must offer (``PerfdhcpResult`` does)."""

    @property
    def rate(self) -> float: ...  # completed exchanges per second

    @property
    def drop_pct(self) -> float: ...

    @property
    def completed(self) -> int: ...


@dataclass
class SearchPoint:
    offered: float
    completed_rate: float
    drop_pct: float
    ok: bool
    result: Measurement | None = None


@dataclass
class SearchResult:
    """``best`` = highest offered rate that passed (0 if none); every point in order measured."""

    best: float
    points: list[SearchPoint] = field(default_factory=list)
    stopped_by: str = ""

    @property
    def best_point(self) -> SearchPoint | None:
        passing = [p for p in self.points if p.ok and p.offered == self.best]
        return passing[-1] if passing else None

    @property
    def peak_completed(self) -> float:
        return max((p.completed_rate for p in self.points), default=0.0)

    @property
    def lowest_failing(self) -> float | None:
        failing = [p.offered for p in self.points if not p.ok]
        return min(failing) if failing else None


def nice_rate(rate: float) -> float:
    """Round to two significant figures in steps of 5 (22 340 -> 22 500, 987 -> 985), >= 5."""
    if rate <= 5:
        return 5.0
    step = 5 * 10 ** (math.floor(math.log10(rate)) - 2)
    step = max(step, 1)
    return float(max(5, round(rate / step) * step))


def find_max_rate(
    measure: Callable[[float], Measurement],
    *,
    ceiling: float = 40_000,
    floor: float = 100,
    max_points: int = 7,
    drop_threshold_pct: float = 0.1,
    precision: float = 0.05,
    headroom: float = 0.95,
    deadline: float | None = None,
    point_cost_s: float = 0.0,
    on_point: Callable[[SearchPoint], None] | None = None,
) -> SearchResult:
    """Run the search; ``measure(rate)`` runs one bounded load test at ``rate`` offered/s.

    ``deadline`` (``time.monotonic()`` value) and ``point_cost_s`` (expected seconds per point)
    stop the search before a point would end past the deadline.
    """
    result = SearchResult(best=0.0)
    lo = 0.0  # highest passing offered rate
    hi: float | None = None  # lowest failing offered rate
    capacity: float | None = None  # completed rate seen when overloaded
    rate = nice_rate(ceiling)
    while True:
        if len(result.points) >= max_points:
            result.stopped_by = "max_points"
            break
        if deadline is not None and time.monotonic() + point_cost_s > deadline:
            result.stopped_by = "deadline"
            break
        m = measure(rate)
        ok = m.completed > 0 and m.drop_pct <= drop_threshold_pct
        point = SearchPoint(offered=rate, completed_rate=m.rate, drop_pct=m.drop_pct, ok=ok, result=m)
        result.points.append(point)
        if on_point is not None:
            on_point(point)
        if ok:
            lo = max(lo, rate)
            result.best = lo
        else:
            hi = rate if hi is None else min(hi, rate)
            capacity = m.rate if capacity is None else max(capacity, m.rate)
        if hi is None:
            result.stopped_by = "ceiling"  # even the ceiling passed
            break
        if lo > 0 and hi / lo <= 1 + precision:
            result.stopped_by = "converged"
            break
        # next rate
        if lo == 0:
            guess = headroom * capacity if capacity else hi / 2
            guess = min(guess, hi / (1 + precision))
            if guess < floor:
                if rate <= floor:
                    result.stopped_by = "floor"
                    break
                guess = floor
        else:
            # bisect towards the completed rate seen in overload rather than the far ceiling
            upper = hi
            if capacity:
                upper = min(hi, max(capacity * (1 + 2 * precision), lo * (1 + 4 * precision)))
            guess = math.sqrt(lo * upper)
        nxt = nice_rate(guess)
        if nxt <= lo or nxt >= hi:
            result.stopped_by = "converged"
            break
        rate = nxt
    return result
