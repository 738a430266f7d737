"""The bridge question of both families (``sources.question``): byte for byte what the bridge
has always been sent, and valid against the contract's schema and models."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.contract import parse_question
from dhcpbridge.contract.schema import validate_question
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.sources.question import question, relay_id
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int
from dhcpbridge.wire.v6 import options as o6
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6

NOW = 1_800_000_000.0
CONFIG: dict[str, Any] = {
    "subnet4": [{"subnet": "10.68.0.0/16", "pools": ["10.68.1.0-10.68.1.255"]}],
    "subnet6": [
        {
            "subnet": "fd69::/64",
            "pools": ["fd69::100:0/120"],
            "pd-pools": [{"prefix": "fd69:1000::/48", "delegated-length": 56}],
        }
    ],
}
META4 = Meta4(ip4_int("10.68.0.2"), 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "eth1")
META6 = Meta6("fe80::69:ff:fe00:2", 546, ipaddress.IPv6Address("fd69::1").packed, 3, "srv1")
OPTION_82 = bytes([1, 6]) + b"port-7" + bytes([2, 2, 0xA, 0xB])

V4 = [
    Message4(
        xid=0x1234,
        chaddr=bytes.fromhex("026700000005"),
        giaddr=ip4_int("10.68.0.2"),
        hops=1,
        options={
            53: b"\x01",
            61: b"\x01\x02\x67\x00\x00\x00\x05",
            12: b"host-5",
            60: b"MSFT 5.0",
            55: bytes([1, 3, 6, 0, 255]),
            50: ip4_int("10.68.1.9").to_bytes(4, "big"),
            82: OPTION_82,
        },
    ),
    Message4(
        xid=0xDEADBEEF,
        ciaddr=ip4_int("10.68.1.7"),
        chaddr=bytes.fromhex("026700000006"),
        giaddr=ip4_int("10.68.0.2"),
        options={53: b"\x03", 54: ip4_int("10.68.0.1").to_bytes(4, "big")},
    ),
]


def relayed(msg: Message6, closest: list[o6.Option6]) -> RelayMessage6:
    """``msg`` through two relays: fd69::1 next to the client (with ``closest``), then fd68::2."""
    first = RelayMessage6(
        12,
        0,
        ipaddress.IPv6Address("fd69::1"),
        ipaddress.IPv6Address("fe80::69:ff:fe00:2"),
        [*closest, RelayMsg(msg)],
    )
    hop = [o6.InterfaceId(b"hop1"), RelayMsg(first)]
    return RelayMessage6(12, 1, ipaddress.IPv6Address("fd68::2"), ipaddress.IPv6Address("fe80::1"), hop)


V6: list[Message6 | RelayMessage6] = [
    relayed(
        Message6(
            o6.MessageType6.SOLICIT,
            0xABCDEF,
            [
                o6.ClientId(Duid.ll(1, bytes.fromhex("026900000002"))),
                o6.IANA(1),
                o6.IAPD(2),
                o6.RawOption(6, bytes([0, 23, 0, 24])),
                o6.RawOption(16, bytes([0, 0, 0, 9, 0, 3]) + b"abc"),
                o6.RawOption(39, b"\x00\x04host\x07example\x00"),
            ],
        ),
        [o6.InterfaceId(b"eth0/1/2"), o6.RemoteId(4491, b"\x0a\x0b"), o6.RawOption(38, b"subscriber-1")],
    ),
    Message6(o6.MessageType6.SOLICIT, 7, [o6.ClientId(Duid.en(9, b"abc")), o6.IANA(3)]),
]

# what the bridge was sent before the question moved out of the engine (kept byte for byte),
# plus the fields issue 13 added at the end (additive within contract version 1)
EXPECTED = [
    '{"version":1,"protocol":4,"msg_type":"DHCPDISCOVER","xid":"00001234","client_mac":"02:67:00:00:00:05","client_id":"01026700000005","hostname":"host-5","interface":"eth1","vendor_class":"MSFT 5.0","requested_ip":"10.68.1.9","relay_ip":"10.68.0.2","server_ip":"10.68.0.1","subnet":"10.68.0.0/16","circuit_id":{"hex":"706f72742d37","text":"port-7"},"remote_id":{"hex":"0a0b"},"requested_options":[1,3,6]}',
    '{"version":1,"protocol":4,"msg_type":"DHCPREQUEST","xid":"deadbeef","client_mac":"02:67:00:00:00:06","interface":"eth1","client_ip":"10.68.1.7","relay_ip":"10.68.0.2","server_ip":"10.68.0.1","subnet":"10.68.0.0/16","request_state":"selecting"}',
    '{"version":1,"protocol":6,"msg_type":"SOLICIT","xid":"abcdef","duid":"00030001026900000002","client_mac":"02:69:00:00:00:02","fqdn":"host.example.","hostname":"host","interface":"srv1","ia_na":[{"iaid":1}],"ia_pd":[{"iaid":2}],"client_ip":"fe80::69:ff:fe00:2","relay_ip":"fd69::1","subnet":"fd69::/64","interface_id":{"hex":"657468302f312f32","text":"eth0/1/2"},"remote_id":{"hex":"0a0b","enterprise":4491},"subscriber_id":{"hex":"737562736372696265722d31","text":"subscriber-1"},"vendor_class_enterprise":9,"requested_options":[23,24],"vendor_class":"abc","server_ip":"fd69::1"}',
    '{"version":1,"protocol":6,"msg_type":"SOLICIT","xid":"000007","duid":"000200000009616263","interface":"srv1","ia_na":[{"iaid":3}],"client_ip":"fe80::69:ff:fe00:2","server_ip":"fd69::1"}',
]


def questions() -> list[dict[str, Any]]:
    cfg = loader.from_dict(CONFIG)
    sources = build_sources(cfg)
    e4 = build_engine4(cfg, MemoryStore(), HostInfo.build({}), Stats(), (), sources)
    e6 = build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), sources)
    out = [question(run_inline(e4.process(encode(m), META4, NOW)).tx) for m in V4]
    out += [question(run_inline(e6.process(encode6(m), META6, NOW)).tx) for m in V6]
    return out


def test_questions_are_byte_for_byte_what_the_bridge_gets() -> None:
    assert [json.dumps(q, separators=(",", ":")) for q in questions()] == EXPECTED


@pytest.mark.parametrize("index", range(len(EXPECTED)))
def test_questions_of_both_families_follow_the_contract(index: int) -> None:
    doc = questions()[index]
    validate_question(doc)  # the JSON schema
    assert parse_question(doc).protocol == doc["protocol"]  # the pydantic models


def test_relay_id_text_only_when_printable_and_enterprise_when_given() -> None:
    assert relay_id(b"ab") == {"hex": "6162", "text": "ab"}
    assert relay_id(b"\x00a", 9) == {"hex": "0061", "enterprise": 9}
