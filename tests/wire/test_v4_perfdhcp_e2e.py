"""Re-capture perfdhcp -4 packets live (tests/wire/vectors4/capture_perfdhcp4.py) in a private
network namespace and check that the fresh packets decode like the committed vectors: relay fields,
options and exact re-encoding. The namespace must be gone afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.wire.v4.message import BOOTP_MIN, encode, ip4_str, parse
from dhcpbridge.wire.v4.options import ClientFqdn, parse_suboptions

pytestmark = pytest.mark.e2e
SCRIPT = Path(__file__).parent / "vectors4" / "capture_perfdhcp4.py"


def payload(path: Path) -> bytes:
    return bytes.fromhex("".join(ln for ln in path.read_text().splitlines() if ln and not ln.startswith("#")))


def test_fresh_perfdhcp4_capture(tmp_path: Path) -> None:
    require_e2e("perfdhcp", "tshark")
    before = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    after = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert "dhcpb4vec-" not in after.replace(before, "")  # the script cleaned up its namespace
    files = sorted(tmp_path.glob("*.hex"))
    assert {p.name.split("-")[1] for p in files} == {"plain", "options"}
    for path in files:
        data = payload(path)
        msg = parse(data)
        assert ip4_str(msg.giaddr) == "127.0.0.2" and msg.hops == 1 and msg.op == 1
        assert msg.msg_type in (1, 3) and msg.options[61] == b"\x01" + msg.mac
        assert encode(msg) == data.ljust(BOOTP_MIN, b"\0")
        if "-options-" in path.name:
            assert msg.options[12] == b"perf-host" and msg.options[60] == b"perfdhcp-vectors"
            assert ClientFqdn.from_wire(msg.options[81]).name == "perf-host.example"
            assert parse_suboptions(msg.options[82])[1] == b"port-7"
        if msg.msg_type == 3:
            assert msg.options[54] == bytes((127, 0, 0, 1)) and msg.options[50][:2] == bytes((10, 69))
