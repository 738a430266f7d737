"""Search for the highest offered rate a server sustains with at most a given share of drops.

One job: decide which rates to measure next, given the points measured so far, within a bounded
number of points and a deadline.  Measuring is the caller's business (a callback), so the
search is pure and unit-tested without a lab.

Strategy: probe the ``ceiling`` first (perfdhcp on one core tops out near 36-40k exchanges/s).
If it passes, that is the answer (the load generator, not the server, is the limit).  Otherwise
the completed rate at overload estimates the capacity; the next probe is just below it
(``headroom``, default 95 %).  While nothing passes, step down (x0.85 after a near miss, x0.6
otherwise).  Then bisect (geometric mean) between the highest passing rate and the lowest
failing one - capped just above the overload throughput while that is still ahead, or at twice
the passing rate once a pass beat it (servers that livelock in overload, like Kea 6, complete
less at 40k offered than at their knee) - until the two are within ``precision``, the point
budget is spent or the deadline is near.  A marginal failure (drops at most 10 x the threshold)
is measured once more before it counts.  Rates are rounded to two significant figures in steps of 5
(22 000, 22 500, 950, 955...), so reports stay readable.

A single point is noisy on a shared VM (0.1-0.3 % drops well below the knee happen), so the
result is "sustained in this run"; the caller keeps every point for the record.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypedDict, TypeVar, Unpack


class Measurement(Protocol):
    """What a measured point must offer (``PerfdhcpResult`` does)."""

    @property
    def rate(self) -> float: ...  # completed exchanges per second

    @property
    def drop_pct(self) -> float: ...

    @property
    def completed(self) -> int: ...


M = TypeVar("M", bound=Measurement)


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
        """Lowest failing rate above ``best`` (a marginal failure that passed on retry is not one)."""
        failing = [p.offered for p in self.points if not p.ok and p.offered > self.best]
        return min(failing) if failing else None


def nice_rate(rate: float) -> float:
    """Round to two significant figures in steps of 5 (22 340 -> 22 500, 987 -> 985), >= 5."""
    if rate <= 5:
        return 5.0
    step = 5 * 10 ** (math.floor(math.log10(rate)) - 2)
    step = max(step, 1)
    return float(max(5, round(rate / step) * step))


class SearchLimits(TypedDict, total=False):
    """The search's bounds and tolerances (defaults in :func:`find_max_rate`'s docstring)."""

    ceiling: float
    floor: float
    max_points: int
    drop_threshold_pct: float
    precision: float
    headroom: float
    retry_marginal: bool
    deadline: float | None
    point_cost_s: float


def find_max_rate(
    measure: Callable[[float], M],
    *,
    on_point: Callable[[SearchPoint], None] | None = None,
    passes: Callable[[M], bool] | None = None,
    **limits: Unpack[SearchLimits],
) -> SearchResult:
    """Run the search; ``measure(rate)`` runs one bounded load test at ``rate`` offered/s.

    Limits (:class:`SearchLimits`) and their defaults: ``ceiling`` 40 000, ``floor`` 100,
    ``max_points`` 7, ``drop_threshold_pct`` 0.1, ``precision`` 0.05, ``headroom`` 0.95,
    ``retry_marginal`` True, ``deadline`` None, ``point_cost_s`` 0.

    ``retry_marginal``: a point that fails with few drops (at most 10 x the threshold) is
    measured once more before it counts as a failure - single points on a shared machine show
    sporadic drops well below the knee.  ``deadline`` (a ``time.monotonic()`` value) and
    ``point_cost_s`` (expected seconds per point) stop the search before a point would end past
    the deadline. ``passes(measurement)`` replaces the pass rule (something completed, drops
    within the threshold) when a point must meet more than that (the bench's bridge rows: the
    bridge itself must have answered).
    """
    ceiling = limits.get("ceiling", 40_000)
    floor = limits.get("floor", 100)
    max_points = limits.get("max_points", 7)
    drop_threshold_pct = limits.get("drop_threshold_pct", 0.1)
    precision = limits.get("precision", 0.05)
    headroom = limits.get("headroom", 0.95)
    retry_marginal = limits.get("retry_marginal", True)
    deadline = limits.get("deadline")
    point_cost_s = limits.get("point_cost_s", 0.0)
    result = SearchResult(best=0.0)
    lo = 0.0  # highest passing offered rate
    hi: float | None = None  # lowest failing offered rate
    capacity: float | None = None  # best completed rate seen at a failing point
    failures = 0
    retried: set[float] = set()
    rate = nice_rate(ceiling)
    while True:
        if len(result.points) >= max_points:
            result.stopped_by = "max_points"
            break
        if deadline is not None and time.monotonic() + point_cost_s > deadline:
            result.stopped_by = "deadline"
            break
        m = measure(rate)
        ok = passes(m) if passes is not None else m.completed > 0 and m.drop_pct <= drop_threshold_pct
        point = SearchPoint(offered=rate, completed_rate=m.rate, drop_pct=m.drop_pct, ok=ok, result=m)
        result.points.append(point)
        if on_point is not None:
            on_point(point)
        if ok:
            lo = max(lo, rate)
            result.best = lo
        else:
            marginal = m.completed > 0 and m.drop_pct <= 10 * drop_threshold_pct
            if retry_marginal and marginal and rate not in retried and rate < ceiling:
                retried.add(rate)
                continue  # measure the same rate once more
            hi = rate if hi is None else min(hi, rate)
            capacity = m.rate if capacity is None else max(capacity, m.rate)
            failures += 1
        if hi is None:
            result.stopped_by = "ceiling"  # even the ceiling passed
            break
        if lo > 0 and hi / lo <= 1 + precision:
            result.stopped_by = "converged"
            break
        # next rate
        if lo == 0:
            if failures == 1 and capacity:
                guess = headroom * capacity  # just below what the server completed in overload
            elif m.completed == 0:  # nothing at all came back: come down fast
                guess = hi / (10 if failures == 1 else 4)
            else:  # failed below its own overload throughput: step down, faster if far off
                guess = hi * (0.85 if m.drop_pct <= 1.0 else 0.6)
            guess = min(guess, hi / (1 + precision))
            if guess < floor:
                if rate <= floor:
                    result.stopped_by = "floor"
                    break
                guess = floor
        else:
            upper = hi
            if capacity and lo < capacity:
                # the knee is near the overload throughput, not near the far ceiling
                upper = min(hi, max(capacity * (1 + 2 * precision), lo * (1 + 4 * precision)))
            else:  # passed above the overload throughput (the server livelocks in overload)
                upper = min(hi, 2 * lo)
            guess = math.sqrt(lo * upper)
        nxt = nice_rate(guess)
        if nxt <= lo or nxt >= hi:
            result.stopped_by = "converged"
            break
        rate = nxt
    return result
