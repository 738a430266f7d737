"""The fuzz targets (``fuzz/``) under a short CI budget: each runs under atheris in its own process
for a bounded number of executions against the pure-Python package, then its corpus is replayed
through the installed (compiled) build; a crash in any target fails the test. ``make fuzz`` runs
the same targets with a long budget."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = 4000  # per target; about 2 s of fuzzing each, plus start-up
pytestmark = pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")


def fuzz(workdir: Path, targets: str, runs: int = RUNS) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "fuzz.run", "--targets", targets, "--runs", str(runs), "--seconds", "120"]
    argv += ["--workdir", str(workdir), "--jobs", "2"]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)


def summary(out: str) -> dict[str, tuple[int, int]]:
    """target -> (executions, crashes) from the runner's per-target lines."""
    rows = re.findall(r"^(\w+)\s+executions=(\d+) .* crashes=(\d+)", out, re.MULTILINE)
    return {name: (int(execs), int(crashes)) for name, execs, crashes in rows}


def test_every_target_runs_its_budget_without_a_crash(tmp_path: Path) -> None:
    proc = fuzz(tmp_path, "wire4,wire6,relay6,engine4,engine6")
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = summary(proc.stdout)
    assert set(rows) == {"wire4", "wire6", "relay6", "engine4", "engine6"}, proc.stdout
    for name, (execs, crashes) in rows.items():
        assert execs >= RUNS and crashes == 0, (name, execs, crashes)
    assert re.search(r"^replay: \d+ inputs, 0 failed", proc.stdout, re.MULTILINE), proc.stdout
    for name in rows:  # the fuzzer grew each corpus beyond its seeds
        assert len(list((tmp_path / "corpus" / name).iterdir())) > 0


def test_a_crash_is_caught_saved_and_fails_the_run(tmp_path: Path) -> None:
    """The runner is not blind: the canary target raises on its seed, and the run reports it."""
    proc = fuzz(tmp_path, "canary", runs=100)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert summary(proc.stdout)["canary"][1] == 1, proc.stdout
    saved = list((tmp_path / "crashes" / "canary").glob("crash-*"))
    assert len(saved) == 1 and saved[0].read_bytes().startswith(b"canary")
    assert "replay through the installed build: FAILED" in proc.stdout
    assert "the canary target crashes on purpose" in proc.stdout


def test_seeds_are_served_by_the_engines() -> None:
    """The engine targets start from real work: every captured client request gets a reply."""
    code = (
        "from fuzz import seeds, targets\n"
        "from dhcpbridge.wire.v4.message import parse\n"
        "from dhcpbridge.wire.v6.message import parse6\n"
        "from dhcpbridge.engine.inline import run_inline\n"
        "n4 = n6 = 0\n"
        "for data in seeds.seeds('engine4'):\n"
        "    if parse(data[1:]).op == 1 and data[0] == 0:\n"
        "        out = run_inline(targets.ENGINES.engine4().process(data[1:], targets.METAS4[0], targets.NOW))\n"
        "        n4 += out.data is not None\n"
        "for data in seeds.seeds('engine6'):\n"
        "    if parse6(data[1:]).msg_type in (1, 11, 12):\n"
        "        out = run_inline(targets.ENGINES.engine6().process(data[1:], targets.METAS6[data[0]], targets.NOW))\n"
        "        n6 += out.data is not None\n"
        "print(n4, n6)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    n4, n6 = map(int, proc.stdout.split())
    assert n4 >= 10 and n6 >= 5, (n4, n6)
