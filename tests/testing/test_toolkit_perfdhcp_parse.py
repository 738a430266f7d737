"""The perfdhcp report parser on outputs saved from real runs against Kea (tests/testing/data)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dhcpbridge.testing.perfdhcp import parse_output, percentile, run_perfdhcp

DATA = Path(__file__).parent / "data"


def test_v4_with_timestamps() -> None:
    text = (DATA / "perfdhcp4-kea-xt.txt").read_text()
    r = parse_output(text)
    assert r.family == 4
    assert r.rate == pytest.approx(99.4972)
    assert (r.sent, r.completed, r.drops, r.drop_pct) == (199, 199, 0, 0.0)
    assert r.phase1 is not None and r.phase2 is not None
    assert r.phase1.name == "DISCOVER-OFFER" and r.phase2.name == "REQUEST-ACK"
    assert (r.phase1.avg_ms, r.phase2.avg_ms) == (0.320, 0.166)
    assert r.avg_ms == pytest.approx(0.486)
    assert r.max_ms == pytest.approx(0.426 + 0.180)
    # one timestamp line per successful exchange and phase
    assert len(r.phase1.delays_ms) == text.count("sent / received") // 2 == 199
    assert list(r.phase1.delays_ms) == sorted(r.phase1.delays_ms)
    assert r.phase1.min_ms is not None and r.phase1.max_ms is not None
    assert (
        r.phase1.min_ms - 0.001 <= r.phase1.delays_ms[0] <= r.phase1.delays_ms[-1] <= r.phase1.max_ms + 0.001
    )
    assert r.p50_ms is not None and r.p99_ms is not None
    assert r.p50_ms <= r.p99_ms <= r.max_ms + 0.002
    assert r.ok


def test_v6_with_timestamps() -> None:
    r = parse_output((DATA / "perfdhcp6-kea-xt.txt").read_text())
    assert r.family == 6
    assert r.phase1 is not None and r.phase1.name == "SOLICIT-ADVERTISE"
    assert r.phase2 is not None and r.phase2.name == "REQUEST-REPLY"
    assert (r.sent, r.completed) == (199, 199)
    assert len(r.phase2.delays_ms) == 199
    assert r.p50_ms == pytest.approx(r.phase1.percentile(50) + r.phase2.percentile(50))  # type: ignore[operator]


def test_v4_overload_counts_drops_of_both_phases() -> None:
    r = parse_output((DATA / "perfdhcp4-kea-overload.txt").read_text())
    assert r.phase1 is not None and r.phase2 is not None
    assert (r.sent, r.phase1.received, r.completed) == (104842, 61447, 60353)
    assert r.drops == 104842 - 60353 == r.phase1.drops + r.phase2.drops
    assert r.drop_pct == pytest.approx(100 * 44489 / 104842)
    assert r.rate == pytest.approx(20117.6)
    assert r.p50_ms is None and r.p99_ms is None  # no -x t
    assert r.phase1.delays_ms == ()


def test_garbage_parses_to_nothing() -> None:
    r = parse_output("perfdhcp: There is no such address 127.0.0.2\n", 4)
    assert (r.sent, r.completed, r.rate) == (0, 0, 0.0)
    assert not r.ok and r.drop_pct == 100.0 and r.avg_ms is None


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0  # index round(0.5 * 99) = 50 (half to even) -> 51
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([], 50) is None


class _Namespace:
    """Stands in for a namespace: ``run`` returns a saved perfdhcp report."""

    def __init__(self, text: str) -> None:
        self.text = text

    def run(self, argv: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(argv, 0, stdout=self.text, stderr="")


def test_rate_is_completed_exchanges_per_second_of_the_period_not_of_the_wait_after_it() -> None:
    # perfdhcp's Rate line divides by the period plus the -W wait (1,000 done in 2 s + 1 s: 333/s)
    text = (DATA / "perfdhcp4-kea-xt.txt").read_text()
    ns = _Namespace(text)
    r = run_perfdhcp(ns, ["-4", "-p", "2", "-W", "1000000"], family=4, period=2, cpu=None)  # type: ignore[arg-type]
    assert r.completed == 199
    assert r.rate == pytest.approx(199 / 2)
    assert parse_output(text).rate == pytest.approx(99.4972)
