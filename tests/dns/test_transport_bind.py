"""The TCP transport against a real BIND 9 on 127.0.0.1: messages to one server share a kept
connection (it opened one per message, a connect and close per update), and a kept connection the
server closed meanwhile (BIND restarted) is replaced without a failed update."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dns.rcode
import pytest

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns import messages
from dhcpbridge.dns.protocol import Transport
from dhcpbridge.dns.updater import load_zones
from dhcpbridge.testing.bind import BindServer, free_port
from dhcpbridge.testing.e2e import require_e2e

pytestmark = pytest.mark.e2e
PORT = free_port()
ZONE = "example.test"


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[BindServer]:
    require_e2e("named")
    with BindServer(tmp_path / "bind", [ZONE], port=PORT) as server:
        yield server


async def test_one_connection_carries_many_messages_and_a_closed_one_is_replaced(
    bind: BindServer, tmp_path: Path
) -> None:
    cfg = DnsConfig.model_validate(
        {"zone": [{"name": ZONE, "server": "127.0.0.1", "port": PORT, "key-file": str(bind.key_path)}]}
    )
    zone = load_zones(cfg, tmp_path).zones[0]
    transport = Transport("tcp", 2.0)
    try:
        for i in range(5):
            msg = messages.replace_unchecked(
                zone, f"h{i}.{ZONE}.", f"10.0.0.{i + 1}", b"\x00\x01\x01" + bytes(32)
            )
            assert await transport(msg, zone) == dns.rcode.NOERROR
        assert transport.connections == 1
        assert bind.query(f"h4.{ZONE}", "A") == ["10.0.0.5"]
        bind.stop()
        bind.start()  # the kept connection is gone
        msg = messages.replace_unchecked(zone, f"h9.{ZONE}.", "10.0.0.9", b"\x00\x01\x01" + bytes(32))
        assert await transport(msg, zone) == dns.rcode.NOERROR
        assert transport.connections == 2
        assert bind.query(f"h9.{ZONE}", "A") == ["10.0.0.9"]
    finally:
        await transport.close()
