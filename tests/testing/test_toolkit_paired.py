"""Paired points alternate baseline and row at one rate, give the ratio of what each completed and
stop before the deadline with whole rounds only."""

from __future__ import annotations

from dataclasses import dataclass

from dhcpbridge.testing.paired import run_paired


@dataclass
class Fake:
    rate: float
    drop_pct: float
    completed: int


def test_alternates_and_compares_completed_rates() -> None:
    calls: list[tuple[str, float]] = []
    done = {"baseline": iter([1000.0, 900.0]), "row": iter([950.0, 810.0])}

    def measure(role: str, rate: float) -> Fake:
        calls.append((role, rate))
        got = next(done[role])
        return Fake(got, 100.0 * (rate - got) / rate, int(got * 10))

    res = run_paired(measure, 1000.0, 2)
    assert calls == [("baseline", 1000.0), ("row", 1000.0)] * 2
    assert res.rounds == 2 and res.stopped_by == "rounds"
    assert res.ratio is not None and abs(res.ratio - (950 + 810) / (1000 + 900)) < 1e-9
    assert res.mean("row") == 880.0 and res.worst_drop_pct("row") == 19.0
    summary = res.summary()
    assert summary["ratio"] == round((950 + 810) / 1900, 4) and len(summary["points"]) == 4  # type: ignore[arg-type]


def test_stops_before_the_deadline_with_whole_rounds() -> None:
    now = [0.0]

    def measure(role: str, rate: float) -> Fake:
        now[0] += 25.0  # each point takes 25 s
        return Fake(rate, 0.0, int(rate))

    res = run_paired(measure, 500.0, 5, deadline=120.0, point_cost_s=25.0, clock=lambda: now[0])
    assert res.rounds == 2 and res.stopped_by == "deadline"  # a third round would end at 150 s
    assert len(res.points) == 4 and res.ratio == 1.0


def test_no_round_no_ratio() -> None:
    res = run_paired(lambda role, rate: Fake(rate, 0.0, 1), 500.0, 0)
    assert res.ratio is None and res.mean("row") is None and res.summary()["ratio"] is None
