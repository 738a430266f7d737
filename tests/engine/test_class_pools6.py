"""Issue 13 §3 for DHCPv6: IA_NA pools kept for a class (vendor class, option 16) come first for
its clients and are closed to others; ``valid-lifetime`` / ``preferred-lifetime`` per class."""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, RawOption

NOW = 1_800_000_000.0
CONFIG: dict[str, Any] = {
    "leases": {"store": "memory://"},
    "subnet6": [
        {
            "subnet": "fd69::/64",
            "interface": "srv0",
            "pools": [{"range": "fd69::10-fd69::1f", "classes": ["lab"]}, "fd69::100-fd69::1ff"],
        }
    ],
    "class": [
        {"name": "lab", "match": {"vendor-class": "lab"}, "valid-lifetime": 900, "preferred-lifetime": 600}
    ],
}


def vendor_class(text: bytes) -> RawOption:
    return RawOption(16, struct.pack("!IH", 9, len(text)) + text)  # enterprise 9, one item


def solicit(mac: str, *extra: Any) -> tuple[int, int, int]:
    cfg = from_dict(CONFIG)
    srv = int(ipaddress.IPv6Address("fd69::1"))
    engine = build_engine6(cfg, MemoryStore(), HostInfo6({"srv0": (srv,)}), Stats(), build_sources(cfg))
    opts = [ClientId(Duid(Duid.ll(1, bytes.fromhex(mac)).raw)), IANA(1), ElapsedTime(0), *extra]
    meta = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
    out = run_inline(engine.process(encode6(Message6(1, 5, opts)), meta, NOW))
    assert out.data is not None, out.drop_reason
    reply = parse6(out.data)
    assert isinstance(reply, Message6)
    ia = reply.raw(3)  # IAID, T1, T2, then IAADDR (code, len, address, preferred, valid)
    assert ia is not None
    addr = int.from_bytes(ia[16:32], "big")
    preferred, valid = struct.unpack("!II", ia[32:40])
    return addr & 0xFFFF, preferred, valid


def test_class_pool_first_for_its_clients_and_closed_to_others() -> None:
    addr, preferred, valid = solicit("026900000001", vendor_class(b"lab-box"))
    assert 0x10 <= addr <= 0x1F
    assert (preferred, valid) == (600, 900)
    addr, preferred, valid = solicit("026900000002")
    assert 0x100 <= addr <= 0x1FF
    assert (preferred, valid) == (3600, 7200)
