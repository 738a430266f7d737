"""``dhcpbridge demo``: a real server on 127.0.0.1 walked through by the probe; exits 0 and prints the
lease table, and leaves a config that ``dhcpbridge leases`` can read afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from dhcpbridge.cli import main


def test_demo_prints_a_lease_table_and_exits_0(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dhcpbridge", "demo", "--dir", str(tmp_path), "--clients", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160"},  # rich tables: no truncated cells
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "lease table" in out and "demo finished" in out
    assert out.count("DHCPDISCOVER -> DHCPOFFER") == 3 and "no reply" not in out
    assert "10.67.0.10" in out and "printer" in out and "released" in out
    config = tmp_path / "dhcpbridge.toml"
    assert config.exists() and (tmp_path / "leases.db").exists()
    listed = CliRunner().invoke(main, ["leases", "list", "--config", str(config), "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {r["address"]: r for r in json.loads(listed.stdout)}
    assert rows["10.67.0.10"]["state"] == "bound" and rows["10.67.0.10"]["hostname"] == "printer"
    assert sorted(r["state"] for r in rows.values()) == ["bound", "bound", "released"]
