"""Paired points: a row and its baseline measured at the same offered rate, in turns.

One job: compare two server configurations (a feature on, and off) where a max-rate search cannot.
On a noisy 2-core VM one search point decides a row's maximum, and two rows searched minutes
apart differ by more than the cost being measured (the looking glass, the API, DNS updates).
Here both rows are loaded at one rate, the baseline's highest sustained rate (its knee: where a
cost shows), alternating baseline, row, baseline, row ... so slow drifts of the host hit both
alike. The figure is the row's completed exchanges per second over the baseline's, summed over
the rounds, with every point kept.

Measuring is the caller's business (a callback), so this is pure and unit-tested without a lab.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dhcpbridge.testing.loadsearch import Measurement


@dataclass
class PairedPoint:
    role: str  # "baseline" or "row"
    completed_rate: float
    drop_pct: float


@dataclass
class PairedResult:
    """``ratio`` = the row's completed/s over the baseline's, summed over the rounds (a round is
    recorded whole: both its points or neither)."""

    rate: float
    rounds: int = 0
    points: list[PairedPoint] = field(default_factory=list)
    stopped_by: str = "rounds"  # or "deadline"

    def _sum(self, role: str) -> float:
        return sum(p.completed_rate for p in self.points if p.role == role)

    @property
    def ratio(self) -> float | None:
        base = self._sum("baseline")
        return self._sum("row") / base if self.rounds and base > 0 else None

    def mean(self, role: str) -> float | None:
        return self._sum(role) / self.rounds if self.rounds else None

    def worst_drop_pct(self, role: str) -> float | None:
        drops = [p.drop_pct for p in self.points if p.role == role]
        return max(drops) if drops else None

    def summary(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "rounds": self.rounds,
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "baseline_done_per_s": self.mean("baseline"),
            "row_done_per_s": self.mean("row"),
            "baseline_worst_drop_pct": self.worst_drop_pct("baseline"),
            "row_worst_drop_pct": self.worst_drop_pct("row"),
            "stopped_by": self.stopped_by,
            "points": [vars(p) for p in self.points],
        }


def run_paired(
    measure: Callable[[str, float], Measurement],
    rate: float,
    rounds: int,
    *,
    deadline: float | None = None,
    point_cost_s: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
) -> PairedResult:
    """Measure ``measure("baseline", rate)`` then ``measure("row", rate)``, ``rounds`` times,
    while a whole round still fits before ``deadline`` (each point costs ``point_cost_s``)."""
    out = PairedResult(rate)
    for _ in range(rounds):
        if deadline is not None and clock() + 2 * point_cost_s > deadline:
            out.stopped_by = "deadline"
            break
        for role in ("baseline", "row"):
            r = measure(role, rate)
            out.points.append(PairedPoint(role, r.rate, r.drop_pct))
        out.rounds += 1
    return out
