"""``pip install .`` gets the compiled hot path: the wheel built from this tree (pip, with build
isolation, so through ``hatch_build.py`` exactly as a user's build) carries a mypyc extension for
every module of ``dhcpbridge._native.MODULES`` and a platform tag; installed into a fresh venv
(its dependencies from the configured index) those modules import as extensions. Without a C
compiler (``CC=false``) the same build gives the pure-Python wheel, which works too. Slow: mypyc
compiles the whole hot path (minutes)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from dhcpbridge import _native

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]


def _wheel(out: Path, **env: str) -> Path:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("dhcpbridge-*.whl")
    return wheel


def _installed(tmp: Path, wheel: Path) -> Path:
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return python


def _compiled_in(python: Path) -> list[str]:
    code = "from dhcpbridge import _native, wire; print(wire.__file__); print('\\n'.join(_native.compiled()))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd="/")
    assert result.returncode == 0, result.stderr
    first, *compiled = result.stdout.split()
    assert "/venv/lib/" in first  # the installed copy, not this tree
    return compiled


def test_the_wheel_carries_the_compiled_hot_path(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "dist")
    assert not wheel.name.endswith("-none-any.whl") and "linux" in wheel.name, wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    for module in _native.MODULES:
        stem = f"dhcpbridge/{module[:-3]}."
        assert any(n.startswith(stem) and n.endswith(".so") for n in names), module
    assert any("__mypyc" in n and "/" not in n for n in names)  # mypyc's shared library, top level
    python = _installed(tmp_path, wheel)
    assert sorted(_compiled_in(python)) == sorted(_native.MODULES)
    version = subprocess.run([str(python), "-m", "dhcpbridge", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and "0.1.0" in version.stdout


def test_without_a_compiler_the_wheel_is_pure_python_and_works(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "dist", CC="false")
    assert wheel.name.endswith("-py3-none-any.whl"), wheel.name
    assert not [n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".so")]
    python = _installed(tmp_path, wheel)
    assert _compiled_in(python) == []
