"""Instructions per exchange of the engine micro-benchmarks, counted by valgrind (callgrind): a
figure that does not move with other load on the machine, unlike CPU seconds.

Each case runs a micro-benchmark's ``run()`` twice under callgrind, for N and for 2N clients, in a
fresh interpreter; (I(2N) - I(N)) / N is the cost of one exchange without start-up and imports.
``--tree`` points at another checkout (its ``src`` and ``bench``), so two versions are compared on
one machine whatever else it is doing:

    .venv/bin/python bench/instructions.py                      # this checkout
    .venv/bin/python bench/instructions.py --tree /path/to/old  # another one, same interpreter

Bounded: 2 runs per case, ``--clients`` exchanges at most 2N each. Needs valgrind.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: label -> (micro-benchmark module, call of its ``run`` with N clients as ``{n}``)
CASES: dict[str, tuple[str, str]] = {
    "v4 DORA, memory": ("micro_engine4", "run('memory://', {n}, 8)"),
    "v6 SARR address, memory": ("micro_engine6", "run('memory://', {n}, 16, False, False)"),
    "v6 SARR prefix, memory": ("micro_engine6", "run('memory://', {n}, 16, True, False)"),
    "v6 SARR relayed, memory": ("micro_engine6", "run('memory://', {n}, 16, False, True)"),
    "v4 DORA, sqlite": ("micro_engine4", "run(f'sqlite:///{{_TMP}}/l.db', {n}, 16)"),
    "v6 SARR address, sqlite": ("micro_engine6", "run(f'sqlite:///{{_TMP}}/l.db', {n}, 16, False, False)"),
    "v4 DORA, glass off": ("micro_glass", "run({n}, 16, False)"),
    "v4 DORA, glass on": ("micro_glass", "run({n}, 16, True)"),
    "v6 SARR, server loop": ("micro_server", "run('v6', {n}, 32)"),
    "v4 DORA, server loop": ("micro_server", "run('v4', {n}, 32)"),
    "v6 SARR, loop, no glass": ("micro_server", "run('v6', {n}, 32, False)"),
    "v6 SARR, loop, no limiter": ("micro_server", "run('v6', {n}, 32, None, False)"),
    "v6 SARR, loop, bare": ("micro_server", "run('v6', {n}, 32, False, False)"),
}
_COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def count(tree: Path, module: str, call: str, timeout: float) -> int:
    """Instructions of one run of ``module.call`` in a new interpreter under callgrind."""
    code = (
        f"import sys, tempfile; sys.path.insert(0, {str(tree / 'bench')!r}); from {module} import run; "
        f"_T = tempfile.TemporaryDirectory(); _TMP = _T.name; {call}"
    )
    env = dict(os.environ, PYTHONPATH=str(tree / "src"), PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", code],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    found = _COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure (default: this one)")
    ap.add_argument("--clients", type=int, default=2000, help="N: runs of N and 2N exchanges")
    ap.add_argument("--only", default="", help="comma-separated substrings of case labels")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian package valgrind)")
    tree = args.tree.resolve()
    wanted = [w for w in args.only.split(",") if w]
    print(f"instructions per exchange, {tree}, N = {args.clients} (callgrind, (I(2N) - I(N)) / N)")
    for label, (module, call) in CASES.items():
        if wanted and not any(w in label for w in wanted):
            continue
        n = args.clients
        one = count(tree, module, call.format(n=n), args.timeout)
        two = count(tree, module, call.format(n=2 * n), args.timeout)
        print(f"{label:<26} {(two - one) / n:12,.0f}", flush=True)


if __name__ == "__main__":
    main()
