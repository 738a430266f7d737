"""The max-rate search converges on a server's knee and respects its point and time budgets."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from dhcpbridge.testing.loadsearch import find_max_rate, nice_rate


@dataclass
class Fake:
    """A server model: everything above ``capacity``/s is dropped."""

    rate: float
    drop_pct: float
    completed: int


def server(capacity: float, seconds: float = 10.0, noise_pct: float = 0.0):  # type: ignore[no-untyped-def]
    calls: list[float] = []

    def measure(offered: float) -> Fake:
        calls.append(offered)
        done = min(offered, capacity)
        drop = 100.0 * (offered - done) / offered + (noise_pct if offered < capacity else 0.0)
        return Fake(rate=done, drop_pct=drop, completed=int(done * seconds))

    return measure, calls


@pytest.mark.parametrize("capacity", [300.0, 2_345.0, 9_000.0, 22_700.0, 31_000.0])
def test_converges_below_capacity(capacity: float) -> None:
    measure, calls = server(capacity)
    result = find_max_rate(measure, ceiling=40_000, max_points=8, precision=0.05)
    assert 0 < result.best <= capacity
    assert result.best >= capacity / 1.06 - 5  # within precision (+ rounding)
    assert len(calls) == len(result.points) <= 8
    assert result.points[0].offered == 40_000
    assert result.best_point is not None and result.best_point.ok
    assert result.peak_completed == pytest.approx(capacity)
    assert result.stopped_by == "converged"


def test_ceiling_passing_ends_at_once() -> None:
    measure, calls = server(100_000)
    result = find_max_rate(measure, ceiling=40_000)
    assert (result.best, calls, result.stopped_by) == (40_000, [40_000], "ceiling")


def test_dead_server_stops_at_floor() -> None:
    measure, calls = server(0.0)
    result = find_max_rate(measure, ceiling=40_000, floor=100, max_points=10)
    assert result.best == 0
    assert result.stopped_by == "floor"
    assert calls[-1] == 100 and len(calls) <= 10


def test_point_budget() -> None:
    measure, calls = server(12_345)
    result = find_max_rate(measure, max_points=2)
    assert len(calls) == 2 and result.stopped_by == "max_points"
    assert 0 < result.best <= 12_345


def test_deadline_stops_before_a_point_would_overrun() -> None:
    measure, calls = server(12_345)
    result = find_max_rate(measure, deadline=time.monotonic() + 5, point_cost_s=10)
    assert calls == [] and result.stopped_by == "deadline" and result.best == 0


def test_noise_below_the_knee_is_reported_not_hidden() -> None:
    measure, _ = server(20_000, noise_pct=0.5)  # every point fails the 0.1 % rule
    result = find_max_rate(measure, max_points=6)
    assert result.best == 0
    assert all(not p.ok for p in result.points)


@pytest.mark.parametrize(
    ("raw", "nice"), [(22_340, 22_500), (987, 985), (40_000, 40_000), (3, 5), (123_456, 125_000), (51, 51)]
)
def test_nice_rate(raw: float, nice: float) -> None:
    assert nice_rate(raw) == nice


def test_server_that_livelocks_in_overload() -> None:
    """Kea 6 completes fewer exchanges at 40k offered than it sustains at its knee."""
    calls: list[float] = []

    def measure(offered: float) -> Fake:
        calls.append(offered)
        done = offered if offered <= 16_000 else 10_900
        return Fake(rate=done, drop_pct=100 * (offered - done) / offered, completed=int(done * 10))

    result = find_max_rate(measure, max_points=8)
    assert 15_200 <= result.best <= 16_000
    assert result.points[1].offered < 11_000 < result.best  # climbed past the overload estimate


def test_marginal_failure_is_measured_again() -> None:
    calls: list[float] = []

    def measure(offered: float) -> Fake:
        calls.append(offered)
        if offered >= 20_000:
            return Fake(rate=19_000, drop_pct=5.0, completed=190_000)
        # one sporadic stall: the first run at any rate shows 0.4 % drops
        drop = 0.4 if calls.count(offered) == 1 and len(calls) == 2 else 0.0
        return Fake(rate=offered, drop_pct=drop, completed=int(offered * 10))

    result = find_max_rate(measure, max_points=8)
    assert calls[1] == calls[2]  # same rate again
    assert result.points[2].ok and result.best >= calls[1]


def test_marginal_retry_can_be_disabled() -> None:
    measure, calls = server(10_000, noise_pct=0.5)
    find_max_rate(measure, max_points=4, retry_marginal=False)
    assert len(set(calls)) == len(calls)


def test_lowest_failing_ignores_a_rate_that_passed_on_retry() -> None:
    seen: list[float] = []

    def measure(offered: float) -> Fake:
        seen.append(offered)
        if offered > 20_000:
            return Fake(rate=20_000, drop_pct=50.0, completed=200_000)
        flaky = seen.count(offered) == 1
        return Fake(rate=offered, drop_pct=0.3 if flaky else 0.0, completed=int(offered * 10))

    result = find_max_rate(measure, max_points=3)
    assert result.best == seen[1] == seen[2]
    assert result.lowest_failing == 40_000


def test_the_callers_pass_rule_decides() -> None:
    # the server completes up to 1,600/s, but a point only counts up to 1,500/s (the bench: a
    # bridge row passes only when the bridge itself answered, not the pool behind it)
    measure, _ = server(1_600.0)
    result = find_max_rate(
        measure,
        ceiling=40_000,
        max_points=12,
        precision=0.05,
        passes=lambda m: m.drop_pct == 0 and m.rate <= 1_500,
    )
    assert 1_500 / 1.06 - 5 <= result.best <= 1_500
    assert all(p.ok == (p.drop_pct == 0 and p.completed_rate <= 1_500) for p in result.points)
