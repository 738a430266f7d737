"""require_e2e skips when the environment lacks something, and fails under DHCPBRIDGE_REQUIRE_E2E=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dhcpbridge.testing.e2e import REQUIRE_ENV, e2e_unavailable

SRC = Path(__file__).resolve().parents[2] / "src"


def run_pytest(tmp_path: Path, required: bool) -> str:
    test = tmp_path / "test_gate.py"
    test.write_text(
        "from dhcpbridge.testing.e2e import require_e2e\n\n"
        "def test_needs_a_missing_tool():\n"
        "    require_e2e('dhcpbridge-no-such-tool')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != REQUIRE_ENV}
    env["PYTHONPATH"] = str(SRC)
    if required:
        env[REQUIRE_ENV] = "1"
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return out.stdout + out.stderr


def test_missing_tool_is_a_skip_by_default(tmp_path: Path) -> None:
    out = run_pytest(tmp_path, required=False)
    assert "1 skipped" in out and "dhcpbridge-no-such-tool" in out


def test_missing_tool_is_a_failure_when_required(tmp_path: Path) -> None:
    out = run_pytest(tmp_path, required=True)
    assert "1 failed" in out and f"{REQUIRE_ENV}=1 but" in out


def test_reason_names_the_missing_tool() -> None:
    reason = e2e_unavailable("dhcpbridge-no-such-tool")
    assert reason is not None
    if os.geteuid() == 0:
        assert "dhcpbridge-no-such-tool" in reason
    else:
        pytest.skip("not root: the reason is about root")
