"""A second server on a DHCP port that one already uses fails at start with a clear error; before,
both sockets had SO_REUSEADDR and the kernel split the traffic between them silently. Two real
``dhcpbridge serve`` processes on a loopback port; the second must exit non-zero."""

from __future__ import annotations

import sys
from pathlib import Path

from .processes import Serve, free_port

CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false
{workers}

[leases]
store = "{store}"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
"""
DHCPBRIDGE = [sys.executable, "-m", "dhcpbridge"]


def config(tmp_path: Path, name: str, port: int, workers: int = 1, store: str = "memory://") -> Path:
    path = tmp_path / f"{name}.toml"
    line = f"workers = {workers}" if workers != 1 else ""  # (the first test runs on older versions too)
    path.write_text(CONFIG.format(port=port, workers=line, store=store))
    return path


def test_second_server_on_the_port_exits_with_the_reason(tmp_path: Path) -> None:
    port = free_port()
    first = Serve(config(tmp_path, "first", port), DHCPBRIDGE)
    try:
        first.wait_for("serving")
        second = Serve(config(tmp_path, "second", port), DHCPBRIDGE)
        try:
            assert second.exit_code() == 1
        finally:
            second.stop()
        assert "cannot start" in second.text()
        assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in second.text()
        assert "another DHCP server" in second.text()
        assert first.proc.poll() is None  # the first one keeps serving
    finally:
        assert first.stop() == 0


def test_a_server_beside_a_supervisor_of_workers_exits_with_the_reason(tmp_path: Path) -> None:
    port = free_port()
    group = Serve(config(tmp_path, "group", port, workers=2, store="shared-memory://"))
    try:
        group.wait_for("serving", count=2)
        for name, workers in (("single", 1), ("other-group", 2)):
            other = Serve(config(tmp_path, name, port, workers=workers, store="shared-memory://"))
            try:
                assert other.exit_code() == 1
            finally:
                other.stop()
            assert "Address already in use" in other.text()
        assert group.proc.poll() is None
    finally:
        assert group.stop() == 0
