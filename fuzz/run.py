"""``python -m fuzz.run``: fuzz the targets with atheris, each in its own process, and replay what
was found through the compiled build.

    python -m fuzz.run                          # every target, FUZZ_SECONDS / FUZZ_RUNS each
    python -m fuzz.run --targets wire6 --runs 100000 --seconds 60
    python -m fuzz.run --replay-only            # only replay the corpora through the compiled build

atheris instruments Python bytecode; modules compiled with mypyc (``_native.MODULES``) are machine
code it cannot see. So each target runs against a copy of ``src/dhcpbridge`` without the ``.so``
files (in ``<workdir>/pure``, first on ``PYTHONPATH``), i.e. the same source interpreted. Then the
corpus each target grew, its seeds and any crash inputs are replayed through the package as
installed (compiled when ``make native`` ran), so a difference between the two builds shows too.

Per target it prints executions, seconds, corpus size and crashes; crash inputs are kept in
``<workdir>/crashes/<target>/`` (libFuzzer's ``crash-*``, ``timeout-*``, ``oom-*`` files; replay
one with ``python -m fuzz.run --replay-only --targets T --inputs FILE``). Exit status 1 when any
target crashed or a replay failed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from fuzz import seeds

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dhcpbridge"
NAMES = ("wire4", "wire6", "relay6", "engine4", "engine6")
ARTIFACT_PREFIXES = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


@dataclass
class Result:
    """One target's fuzzing run."""

    target: str
    executions: int
    seconds: float
    corpus: int
    crashes: list[Path]
    returncode: int
    log: Path
    rate: int  # executions per second while fuzzing (libFuzzer's), start-up excluded

    def line(self) -> str:
        return (
            f"{self.target:8} executions={self.executions} seconds={self.seconds:.0f} "
            f"({self.rate}/s) corpus={self.corpus} crashes={len(self.crashes)} rc={self.returncode}"
        )


def pure_copy(workdir: Path) -> Path:
    """A copy of the package without compiled extensions; returns the directory to put on the path."""
    dest = workdir / "pure"
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(
        PACKAGE, dest / "dhcpbridge", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__")
    )
    return dest


def executions(log: str) -> int:
    """Executions libFuzzer reports (final stats, the ``Done`` line, or the last status line)."""
    for pattern in (r"stat::number_of_executed_units:\s*(\d+)", r"Done (\d+) runs", r"^#(\d+)\s"):
        found = re.findall(pattern, log, re.MULTILINE)
        if found:
            return max(int(n) for n in found)
    return 0


def artifacts(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.startswith(ARTIFACT_PREFIXES))


def fuzz_one(target: str, workdir: Path, pure: Path, runs: int, seconds: int, extra: list[str]) -> Result:
    """Run one target in a child process under atheris; bounded by ``runs`` and ``seconds``."""
    corpus = workdir / "corpus" / target
    crashes = workdir / "crashes" / target
    crashes.mkdir(parents=True, exist_ok=True)
    seeds.write(target, corpus)
    before = set(artifacts(crashes))
    log = workdir / f"{target}.log"
    argv = [
        sys.executable, "-m", "fuzz.run", "--child", target, "--",
        f"-runs={runs}", f"-max_total_time={seconds}", "-timeout=20", "-rss_limit_mb=2048",
        "-print_final_stats=1", f"-artifact_prefix={crashes}/", *extra, str(corpus),
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(pure))
    started = time.monotonic()
    with log.open("w") as out:
        # the child is bounded by -max_total_time; the margin covers start-up and the seed pass
        proc = subprocess.run(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=seconds + 600, check=False
        )
    took = time.monotonic() - started
    text = log.read_text(errors="replace")
    found = [p for p in artifacts(crashes) if p not in before]
    size = sum(1 for _ in corpus.iterdir())
    rate = re.findall(r"stat::average_exec_per_sec:\s*(\d+)", text)
    count = executions(text)
    speed = int(rate[-1]) if rate and int(rate[-1]) else int(count / took)  # libFuzzer's rounds to 0 s
    return Result(target, count, took, size, found, proc.returncode, log, speed)


def child(target: str, libfuzzer_args: list[str]) -> None:
    """Inside the fuzzing process: instrument the package, check it is the pure copy, fuzz."""
    import atheris
    from atheris.import_hook import instrument_imports

    with instrument_imports(include=["dhcpbridge", "fuzz.targets"]):
        import dhcpbridge
        from dhcpbridge import _native
        from fuzz import targets

    compiled = _native.compiled()
    if compiled:
        sys.exit(f"{dhcpbridge.__file__}: compiled modules would not be instrumented: {compiled[:3]}...")
    check = targets.TARGETS[target]
    atheris.Setup([sys.argv[0], *libfuzzer_args], check)
    atheris.Fuzz()


def replay(target: str, inputs: list[Path]) -> list[str]:
    """Run ``inputs`` through ``target`` in this process (the installed, maybe compiled build)."""
    from fuzz import targets

    check = targets.TARGETS[target]
    failures = []
    for path in inputs:
        try:
            check(path.read_bytes())
        except Exception:
            failures.append(f"{target} {path}:\n{traceback.format_exc()}")
    return failures


def replay_inputs(target: str, workdir: Path) -> list[Path]:
    files: list[Path] = []
    for sub in ("corpus", "crashes"):
        directory = workdir / sub / target
        if directory.is_dir():
            files += sorted(p for p in directory.iterdir() if p.is_file())
    return files


def replay_child(names: list[str], workdir: Path, inputs: list[Path]) -> int:
    """Replay in a child process with the package as installed; returns how many inputs failed."""
    argv = [
        sys.executable,
        "-m",
        "fuzz.run",
        "--replay-here",
        "--workdir",
        str(workdir),
        "--targets",
        ",".join(names),
    ]
    argv += ["--inputs", *map(str, inputs)] if inputs else []
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(argv, cwd=ROOT, env=env, timeout=3600, check=False)
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    if args_in[:1] == ["--child"]:
        child(args_in[1], [a for a in args_in[2:] if a != "--"])
        return 0
    parser = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default=",".join(NAMES), help="comma-separated, of: " + " ".join(NAMES))
    parser.add_argument("--runs", type=int, default=int(os.environ.get("FUZZ_RUNS", "10000000")))
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "600")))
    parser.add_argument("--workdir", type=Path, default=Path(os.environ.get("FUZZ_DIR", ROOT / ".fuzz")))
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("FUZZ_JOBS", "1")))
    parser.add_argument("--replay-only", action="store_true", help="only replay corpora and crashes")
    parser.add_argument("--replay-here", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", nargs="*", type=Path, default=[], help="replay these files only")
    parser.add_argument("--libfuzzer", default="", help="extra libFuzzer flags, space-separated")
    args = parser.parse_args(args_in)
    names = [n for n in args.targets.split(",") if n]
    unknown = set(names) - {*NAMES, "canary"}
    if unknown:
        parser.error(f"unknown targets: {sorted(unknown)}")
    workdir: Path = args.workdir.resolve()

    if args.replay_here:
        from dhcpbridge import _native

        failures: list[str] = []
        total = 0
        for name in names:
            inputs = args.inputs or replay_inputs(name, workdir) or []
            if not inputs:
                seed_dir = workdir / "seeds" / name
                seeds.write(name, seed_dir)
                inputs = sorted(seed_dir.iterdir())
            total += len(inputs)
            failures += replay(name, inputs)
        print(f"replay: {total} inputs, {len(failures)} failed, {len(_native.compiled())} compiled modules")
        for failure in failures:
            print(failure)
        return 1 if failures else 0

    if args.replay_only:
        return 1 if replay_child(names, workdir, args.inputs) else 0

    workdir.mkdir(parents=True, exist_ok=True)
    pure = pure_copy(workdir)
    results: list[Result] = []
    pending = list(names)
    from concurrent.futures import ThreadPoolExecutor

    extra = args.libfuzzer.split()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(fuzz_one, n, workdir, pure, args.runs, args.seconds, extra) for n in pending]
        for future in futures:
            result = future.result()
            results.append(result)
            print(result.line(), flush=True)
            for crash in result.crashes:
                print(f"  crash input: {crash} (log: {result.log})", flush=True)
    replay_rc = replay_child(names, workdir, [])
    crashed = [r for r in results if r.crashes or r.returncode != 0]
    print(
        f"fuzz: {sum(r.executions for r in results)} executions, "
        f"{sum(len(r.crashes) for r in results)} crashes in {len(crashed)} target(s); "
        f"replay through the installed build: {'ok' if replay_rc == 0 else 'FAILED'}"
    )
    return 1 if crashed or replay_rc else 0


if __name__ == "__main__":
    sys.exit(main())
