"""``dhcpbridge reconfigure``: the verb reaches a running server only through its control socket
(the engine and loopback tests are tests/engine/test_reconfigure.py and
tests/server/test_reconfigure_udp.py)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from dhcpbridge.cli import main


def test_reconfigure_needs_a_control_socket(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text('[leases]\nstore = "memory://"\n')
    result = CliRunner().invoke(main, ["reconfigure", "--config", str(path), "10.67.0.100"])
    assert result.exit_code == 1 and "control-socket" in result.output


def test_reconfigure_without_a_running_server(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(f'[server]\ncontrol-socket = "{tmp_path / "c.sock"}"\n[leases]\nstore = "memory://"\n')
    result = CliRunner().invoke(main, ["reconfigure", "--config", str(path), "10.67.0.100"])
    assert result.exit_code == 1 and "no server on" in result.output
