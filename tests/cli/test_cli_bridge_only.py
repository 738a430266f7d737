"""``dhcpbridge check-config`` on the README's bridge-only config: valid, and says which mode it is."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dhcpbridge.cli import main

CONFIG = """
[server]
interfaces = []
[leases]
store = "none"
[[source]]
type = "http"
url = "http://127.0.0.1:8067/v1/question"
"""


def test_check_config_accepts_the_bridge_only_config(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG)
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "bridge-only mode" in result.output and "check-subnet on" in result.output
    path.write_text(CONFIG + "check-subnet = false\n")
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "check-subnet off" in result.output


def test_a_store_url_for_none_with_a_path_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(CONFIG.replace('store = "none"', 'store = "none:///x"'))
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 1
    assert "keeps nothing" in result.output
