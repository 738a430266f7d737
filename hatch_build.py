"""Hatchling build hook: a wheel built from this tree (``pip install .``, ``python -m build``)
carries the mypyc-compiled hot path (``dhcpbridge._native.MODULES``, compiled by
``scripts/build_native.py``'s ``compile_into``) and is tagged for this interpreter and platform.

Where mypyc cannot run (no C compiler, no mypy) the hook says why on stderr and the wheel stays
pure Python (``py3-none-any``), which runs the same code, only slower. Editable installs are
left alone (``make native`` builds in place).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent


def _build_native() -> Any:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import build_native  # scripts/build_native.py

        return build_native
    finally:
        sys.path.remove(str(ROOT / "scripts"))


class NativeBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """See the module docstring."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        self._tmp = tempfile.TemporaryDirectory(prefix="dhcpbridge-wheel-mypyc-")
        work = Path(self._tmp.name)
        try:
            built = _build_native().compile_into(work)
        except Exception as exc:  # any failure: the pure wheel, said loudly
            print(f"dhcpbridge: no compiled extensions in this wheel ({exc})", file=sys.stderr)
            return
        for ext in built:  # src-relative: dhcpbridge/..., and mypyc's shared library at the top
            build_data["force_include"][str(work / "src" / ext)] = str(ext)
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        print(f"dhcpbridge: {len(built)} compiled extension(s) in the wheel", file=sys.stderr)

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
