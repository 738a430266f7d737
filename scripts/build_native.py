"""Compile the hot-path modules listed in ``dhcpbridge._native`` with mypyc, in place (next to
their sources, git-ignored). ``--clean`` removes the extensions (back to pure Python). A failed
build removes what it made and exits 0 with a warning: the project runs as pure Python then.
``compile_into`` is also what the wheel's build hook (``hatch_build.py``) runs."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def _native() -> object:
    spec = importlib.util.spec_from_file_location("_native", SRC / "dhcpbridge" / "_native.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def clean() -> None:
    for path in list(SRC.rglob("*.so")):
        path.unlink()


#: mypyc type-checks what it compiles: a build environment without the project's typed
#: dependencies (``pip install .``, isolated) treats the missing ones as ``Any`` instead of failing
MYPY_INI = "[mypy]\nignore_missing_imports = True\n"


def compile_into(work: Path) -> list[Path]:
    """Copy the package into ``work/src``, compile ``MODULES`` there with mypyc and return the
    extensions it made (paths relative to ``work/src``); raises ``RuntimeError`` on failure."""
    native = _native()
    modules = [f"dhcpbridge/{m}" for m in native.MODULES]  # type: ignore[attr-defined]
    command = [sys.executable, "-m", "mypyc"]  # in a pip build environment: the one it installed
    # mypyc writes its C files and objects under ./build: keep them out of the tree
    src = work / "src"
    shutil.copytree(
        SRC / "dhcpbridge", src / "dhcpbridge", ignore=shutil.ignore_patterns("__pycache__", "*.so")
    )
    (src / "mypy.ini").write_text(MYPY_INI)
    result = subprocess.run(
        [*command, "--config-file", "mypy.ini", *modules], cwd=src, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"mypyc failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return [p.relative_to(src) for p in src.rglob("*.so") if "build" not in p.relative_to(src).parts]


def main() -> int:
    clean()
    if "--clean" in sys.argv:
        return 0
    with tempfile.TemporaryDirectory(prefix="dhcpbridge-mypyc-") as tmp:
        try:
            built = compile_into(Path(tmp))
        except (RuntimeError, OSError) as exc:
            print(exc, file=sys.stderr)
            print("build_native: mypyc failed; dhcpbridge runs as pure Python", file=sys.stderr)
            return 0
        for ext in built:
            shutil.copy2(Path(tmp) / "src" / ext, SRC / ext)
    print(f"build_native: {len(built)} extension(s) compiled with mypyc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
