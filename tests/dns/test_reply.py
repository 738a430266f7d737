"""Option 81 back in the reply (RFC 4702 §3.2) when [dns] is on, through a real engine built from
a config; and the S/O/N flags the server answers with."""

from __future__ import annotations

from typing import Any

from dhcpbridge.assemble import build_engine4, load_handlers
from dhcpbridge.config import loader
from dhcpbridge.dns.reply import reply_flags
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, parse


def offer(doc: dict[str, Any], fqdn_option: bytes) -> Message4:
    cfg = loader.from_dict(
        {"subnet4": [{"subnet": "10.68.0.0/16", "pools": ["10.68.1.0-10.68.1.255"]}], **doc}
    )
    engine = build_engine4(cfg, MemoryStore(), HostInfo.build({}), Stats(), load_handlers(cfg, 4))
    discover = Message4(
        xid=1,
        chaddr=bytes.fromhex("026700000005"),
        giaddr=ip4_int("10.68.0.2"),
        options={53: b"\x01", 81: fqdn_option},
    )
    meta = Meta4(ip4_int("10.68.0.2"), 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "eth1")
    out = run_inline(engine.process(encode(discover), meta, 1_800_000_000.0))
    assert out.data is not None
    return parse(out.data)


DNS = {"dns": {"zone": [{"name": "example.test", "server": "127.0.0.1"}]}}


def test_offer_carries_option81_with_the_server_flags_when_dns_is_on() -> None:
    assert offer(DNS, b"\x05\0\0\x04host\x00").options[81] == b"\x05\xff\xff\x04host\x00"  # S + E kept
    assert offer(DNS, b"\x00\0\0host").options[81] == b"\x00\xff\xff" + b"host"  # client updates A itself
    assert 81 not in offer({}, b"\x01\0\0host").options  # no [dns]: no option 81


def test_override_sets_o_and_n_wins() -> None:
    dns = {"dns": {**DNS["dns"], "override-client-update": True}}
    assert offer(dns, b"\x00\0\0host").options[81][0] == 0x03  # S + O
    assert reply_flags(0x08 | 0x01, 0x08, True) == 0x08  # N: no updates, S = 0
    assert reply_flags(0x04, 0x04, False) == 0x04  # v6 N
    assert reply_flags(0x01, 0x04, False) == 0x01
