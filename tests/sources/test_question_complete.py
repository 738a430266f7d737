"""Every question field the contract documents is produced (issue 13 §2): requests that carry
everything a client and its relays can send go through both engines, and each field of the
question table in docs/bridge.md (per family column) and of the ``Question4`` / ``Question6``
models must appear in some question of that family. A field documented but never filled in
fails here; the new decoders (RFC 4361 ids, option 81, 77 / 15, 93 / 61, 16) are checked by value."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.contract import parse_question
from dhcpbridge.contract.models import Question4, Question6
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.sources.question import question
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int
from dhcpbridge.wire.v6 import options as o6
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6

DOC = Path(__file__).resolve().parents[2] / "docs" / "bridge.md"
NOW = 1_800_000_000.0
CONFIG: dict[str, Any] = {
    "subnet4": [{"subnet": "10.68.0.0/16", "pools": ["10.68.1.0-10.68.1.255"]}],
    "subnet6": [{"subnet": "fd69::/64", "pools": ["fd69::100:0/120"]}],
    "class": [{"name": "uefi", "match": {"client-arch": [7, 16]}}],
}
RELAY4 = Meta4(ip4_int("10.68.0.2"), 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "eth1")
UNICAST4 = Meta4(ip4_int("10.68.1.7"), 68, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "eth1")
META6 = Meta6("fd68::2", 547, ipaddress.IPv6Address("fd68::1").packed, 3, "srv1")
DUID = bytes.fromhex("0003000102680000000a")
CLIENT_ID = b"\xff" + (77).to_bytes(4, "big") + DUID  # RFC 4361
FQDN81 = bytes([0x05, 0, 0]) + b"\x04host\x07example\x00"  # S + E flags, wire-form name
USER77 = bytes([4]) + b"iPXE" + bytes([3]) + b"lab"
ARCH = (7).to_bytes(2, "big") + (16).to_bytes(2, "big")
RAI = bytes([1, 6]) + b"port-7" + bytes([2, 2, 0xA, 0xB]) + bytes([6, 5]) + b"sub-1"


def v4_questions() -> list[dict[str, Any]]:
    discover = Message4(
        xid=1,
        chaddr=bytes.fromhex("02680000000a"),
        giaddr=ip4_int("10.68.0.2"),
        hops=1,
        options={
            53: b"\x01",
            61: CLIENT_ID,
            12: b"host",
            81: FQDN81,
            60: b"PXEClient:Arch:00007",
            77: USER77,
            93: ARCH,
            55: bytes([1, 3, 6, 67]),
            50: ip4_int("10.68.1.9").to_bytes(4, "big"),
            82: RAI,
        },
    )
    renew = Message4(
        xid=2,
        chaddr=bytes.fromhex("02680000000a"),
        ciaddr=ip4_int("10.68.1.7"),
        options={53: b"\x03", 61: CLIENT_ID},
    )
    cfg = loader.from_dict(CONFIG)
    engine = build_engine4(cfg, MemoryStore(), HostInfo.build({}), Stats(), (), build_sources(cfg))
    return [
        question(run_inline(engine.process(encode(discover), RELAY4, NOW)).tx),
        question(run_inline(engine.process(encode(renew), UNICAST4, NOW)).tx),
    ]


def v6_questions() -> list[dict[str, Any]]:
    solicit = Message6(
        o6.MessageType6.SOLICIT,
        0xABCDEF,
        [
            o6.ClientId(Duid.ll(1, bytes.fromhex("026900000002"))),
            o6.IANA(1, 0, 0, [o6.IAAddr(ipaddress.IPv6Address("fd69::100:5"), 0, 0)]),
            o6.IAPD(2, 0, 0, [o6.IAPrefix(0, 0, 56, ipaddress.IPv6Address("::"))]),
            o6.RawOption(6, bytes([0, 23, 0, 59])),
            o6.RawOption(16, bytes([0, 0, 0x01, 0x37, 0, 10]) + b"HTTPClient"),
            o6.RawOption(15, bytes([0, 4]) + b"iPXE"),
            o6.RawOption(61, (16).to_bytes(2, "big")),
            o6.RawOption(39, b"\x00\x04host\x07example\x00"),
        ],
    )
    closest = [o6.InterfaceId(b"eth0/1/2"), o6.RemoteId(4491, b"\x0a\x0b"), o6.RawOption(38, b"sub-1")]
    relayed = RelayMessage6(
        12,
        0,
        ipaddress.IPv6Address("fd69::1"),
        ipaddress.IPv6Address("fe80::69:ff:fe00:2"),
        [*closest, RelayMsg(solicit)],
    )
    cfg = loader.from_dict(CONFIG)
    engine = build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), build_sources(cfg))
    return [question(run_inline(engine.process(encode6(relayed), META6, NOW)).tx)]


def documented() -> dict[int, set[str]]:
    """The question table of docs/bridge.md: field -> the families whose column is ticked."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## The question", 1)[1].split("## The answer", 1)[0]
    out: dict[int, set[str]] = {4: set(), 6: set()}
    for match in re.finditer(r"^\| `(\w+)` \| (✓?) *\| (✓?) *\|", table, re.MULTILINE):
        name, v4, v6 = match.groups()
        if v4:
            out[4].add(name)
        if v6:
            out[6].add(name)
    return out


def produced(questions: list[dict[str, Any]]) -> set[str]:
    return {key for q in questions for key in q}


def test_the_doc_table_is_read() -> None:
    docs = documented()
    assert {"request_state", "iaid", "client_id"} <= docs[4] - docs[6]
    assert {"ia_na", "interface_id", "vendor_class_enterprise"} <= docs[6] - docs[4]
    assert len(docs[4]) > 20 and len(docs[6]) > 20


@pytest.mark.parametrize("family", [4, 6])
def test_every_documented_field_is_produced(family: int) -> None:
    questions = v4_questions() if family == 4 else v6_questions()
    for q in questions:
        assert parse_question(q).protocol == family  # and each question keeps the contract
    model = Question4 if family == 4 else Question6
    wanted = documented()[family] | set(model.model_fields)
    assert wanted - produced(questions) == set()


def test_v4_fields_by_value() -> None:
    discover, renew = v4_questions()
    assert (discover["duid"], discover["iaid"]) == (DUID.hex(), 77)
    assert discover["fqdn"] == "host.example."
    assert discover["user_class"] == ["iPXE", "lab"]
    assert discover["client_arch"] == [7, 16]
    assert discover["subscriber_id"] == {"hex": b"sub-1".hex(), "text": "sub-1"}
    assert "request_state" not in discover
    assert renew["request_state"] == "renewing"


def test_v6_fields_by_value() -> None:
    (solicit,) = v6_questions()
    assert solicit["vendor_class"] == "HTTPClient" and solicit["vendor_class_enterprise"] == 311
    assert solicit["user_class"] == ["iPXE"]
    assert solicit["client_arch"] == [16]
    assert solicit["server_ip"] == "fd68::1"  # the relay's unicast reached this address
    assert solicit["classes"] == ["uefi"]


def test_v6_server_ip_of_a_multicast_request_is_our_address_on_that_interface() -> None:
    cfg = loader.from_dict(CONFIG)
    ours = int(ipaddress.IPv6Address("fd69::1"))
    host = HostInfo6({"srv1": (ours,)})
    engine = build_engine6(cfg, MemoryStore(), host, Stats(), build_sources(cfg))
    solicit = Message6(1, 9, [o6.ClientId(Duid.ll(1, bytes.fromhex("026900000003"))), o6.IANA(1)])
    direct = Meta6("fe80::3", 546, ipaddress.IPv6Address("ff02::1:2").packed, 3, "srv1")
    # io=True: the sources are awaited, as when a bridge question is sent
    tx = run_inline(engine.process(encode6(solicit), direct, NOW, io=True)).tx
    assert question(tx)["server_ip"] == "fd69::1"
