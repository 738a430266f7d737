"""Compile the hot-path modules listed in ``dhcpbridge._native`` with mypyc, in place (next to
their sources, git-ignored). ``--clean`` removes the extensions (back to pure Python). A failed
build removes what it made and exits 0 with a warning: the project runs as pure Python then."""

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


def main() -> int:
    clean()
    if "--clean" in sys.argv:
        return 0
    native = _native()
    modules = [f"dhcpbridge/{m}" for m in native.MODULES]  # type: ignore[attr-defined]
    mypyc = Path(sys.executable).with_name("mypyc")
    with tempfile.TemporaryDirectory(prefix="dhcpbridge-mypyc-") as tmp:
        # mypyc writes its C files and objects under ./build: keep them out of the tree
        work = Path(tmp) / "src"
        shutil.copytree(SRC / "dhcpbridge", work / "dhcpbridge", ignore=shutil.ignore_patterns("__pycache__"))
        result = subprocess.run([str(mypyc), *modules], cwd=work, capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
            print("build_native: mypyc failed; dhcpbridge runs as pure Python", file=sys.stderr)
            return 0
        built = [p for p in work.rglob("*.so") if "build" not in p.relative_to(work).parts]
        for ext in built:
            target = SRC / ext.relative_to(work)
            shutil.copy2(ext, target)
    print(f"build_native: {len(built)} extension(s) compiled with mypyc")
    return 0


if __name__ == "__main__":
    sys.exit(main())
