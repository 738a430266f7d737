"""DHCPv4 option registry (wire/options4.py): by name, alias and code; {type,value} / {hex} tables;
protocol options refused; option 82 sub-options (RFC 3046, 3527, 5107, 8357); client FQDN (RFC 4702)."""

from __future__ import annotations

from typing import Any

import pytest

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4 import options as options4
from dhcpbridge.wire.v4.options import (
    ALIASES,
    BY_CODE,
    BY_NAME,
    ClientFqdn,
    MessageType,
    RelaySub,
    decode_for_display,
    encode_config_option,
    encode_suboptions,
    lookup,
    option_name,
    parse_suboptions,
)

SAMPLES: dict[str, Any] = {
    "ip4": "10.67.0.1",
    "ip4-list": ["10.67.0.1", "10.67.0.2"],
    "u8": 8,
    "u16": 1500,
    "u32": 86400,
    "i32": -3600,
    "u8-list": [1, 2],
    "u16-list": [68, 576],
    "bool": True,
    "string": "lab.example",
    "hex": "01:02:03",
    "domain-list": ["lab.example", "example"],
    "routes": ["10.0.0.0/8 via 10.67.0.1"],
}


def test_registry_is_consistent() -> None:
    assert len(BY_CODE) == len(BY_NAME)  # no duplicate codes or names
    for d in BY_CODE.values():
        assert 1 <= d.code <= 254
        assert d.kind in values.KINDS
        assert BY_NAME[d.name] is d
    for alias, target in ALIASES.items():
        assert target in BY_NAME and alias not in BY_NAME


@pytest.mark.parametrize("definition", [d for d in BY_CODE.values() if not d.protocol], ids=lambda d: d.name)
def test_every_configurable_option_by_name_and_by_code(definition: options4.OptionDef) -> None:
    value = SAMPLES[definition.kind]
    code, data = encode_config_option(definition.name, value)
    assert code == definition.code
    assert data == values.encode(definition.kind, value)
    assert encode_config_option(definition.code, value) == (code, data)
    assert encode_config_option(str(definition.code), value) == (code, data)
    assert decode_for_display(code, data) == values.decode(definition.kind, data)
    assert option_name(code) == definition.name


@pytest.mark.parametrize("definition", [d for d in BY_CODE.values() if d.protocol], ids=lambda d: d.name)
def test_protocol_options_cannot_be_configured(definition: options4.OptionDef) -> None:
    for key in (definition.name, definition.code, str(definition.code)):
        with pytest.raises(ValueError, match="set by the server itself"):
            encode_config_option(key, SAMPLES[definition.kind])
    with pytest.raises(ValueError, match="set by the server itself"):
        encode_config_option(definition.code, {"hex": "00"})


def test_protocol_set_covers_what_the_engine_writes() -> None:
    for code in (50, 51, 52, 53, 54, 55, 57, 58, 59, 61, 81, 82, 118):
        assert BY_CODE[code].protocol, code


def test_lookup_spellings() -> None:
    routers = BY_NAME["routers"]
    for key in ("routers", "Routers", " routers ", "router", "ROUTER", 3, "3"):
        assert lookup(key) is routers
    assert lookup("domain_name_servers") is BY_NAME["domain-name-servers"]
    assert lookup("dns-servers") is BY_NAME["domain-name-servers"]
    assert lookup("bootfile-name") is BY_NAME["boot-file-name"]
    assert lookup("search-domains") is BY_NAME["domain-search"]
    assert lookup("classless-routes") is BY_NAME["classless-static-route"]
    assert lookup("no-such-option") is None
    assert lookup(224) is None


def test_alias_encodes_like_its_target() -> None:
    assert encode_config_option("router", "10.0.0.1") == encode_config_option("routers", ["10.0.0.1"])
    assert encode_config_option("dns-servers", "1.1.1.1, 9.9.9.9") == (6, b"\x01\x01\x01\x01\x09\x09\x09\x09")


def test_unlisted_code_needs_type_or_hex() -> None:
    assert encode_config_option(224, {"type": "string", "value": "site"}) == (224, b"site")
    assert encode_config_option("224", {"hex": "01:02"}) == (224, b"\x01\x02")
    assert encode_config_option(224, {"type": "ip4-list", "value": ["10.0.0.1"]}) == (
        224,
        b"\x0a\x00\x00\x01",
    )
    with pytest.raises(ValueError, match="not in the registry"):
        encode_config_option(224, "site")
    with pytest.raises(ValueError, match=r"\{type"):
        encode_config_option(224, {"value": "x"})


def test_named_option_with_type_or_hex_override() -> None:
    assert encode_config_option("subnet-mask", {"hex": "ffffff00"}) == (1, b"\xff\xff\xff\x00")
    assert encode_config_option("vendor-encapsulated-options", {"type": "string", "value": "ab"}) == (
        43,
        b"ab",
    )


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("no-such-option", "x", "unknown option name"),
        (0, {"hex": "00"}, "out of range"),
        ("255", {"hex": "00"}, "out of range"),
        (300, {"hex": "00"}, "out of range"),
        ("routers", "10.0.0.256", "invalid ip4-list"),
        ("interface-mtu", 70000, "does not fit"),
        ("ip-forwarding", "perhaps", "not a boolean"),
        ("subnet-mask", {"type": "nope", "value": 1}, "unknown value kind"),
        ("classless-static-route", ["10.0.0.0/8"], "must look like"),
    ],
)
def test_bad_options_say_why(key: str | int, value: Any, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        encode_config_option(key, value)


def test_decode_for_display() -> None:
    assert decode_for_display(53, b"\x05") == "DHCPACK"
    assert decode_for_display(53, b"\x63") == "99"
    assert decode_for_display(3, b"\x0a\x00\x00\x01") == ["10.0.0.1"]
    assert decode_for_display(3, b"\x0a\x00") == "0a:00"  # malformed: shown as hex
    assert decode_for_display(224, b"\x01\x02") == "01:02"
    assert decode_for_display(82, b"\x01\x02ab\x0b\x04\x0a\x00\x00\x01\x63\x01z") == {
        "circuit_id": "61:62",
        "server_id_override": "0a:00:00:01",
        "99": "7a",
    }
    assert decode_for_display(82, b"\x01\x05ab") == "01:05:61:62"
    assert decode_for_display(81, b"\x01\xff\xffhost") == {"flags": 1, "name": "host"}
    assert decode_for_display(81, b"\x01") == "01"
    assert option_name(224) == "option-224"


def test_message_types() -> None:
    assert [int(m) for m in MessageType][:8] == list(range(1, 9))
    assert options4.MESSAGE_NAMES[3] == "DHCPREQUEST" and options4.MESSAGE_NAMES[8] == "DHCPINFORM"


# --- option 82 ------------------------------------------------------------------------------------------
def test_relay_sub_option_codes() -> None:
    assert RelaySub.CIRCUIT_ID == 1 and RelaySub.REMOTE_ID == 2  # RFC 3046 §2.0
    assert RelaySub.LINK_SELECTION == 5  # RFC 3527 §3
    assert RelaySub.SUBSCRIBER_ID == 6  # RFC 3993
    assert RelaySub.SERVER_ID_OVERRIDE == 11  # RFC 5107 §4
    assert RelaySub.RELAY_SOURCE_PORT == 19  # RFC 8357 §5.1


def test_suboptions_parse_and_encode() -> None:
    wire = b"\x01\x06port-7\x02\x06\x02\x00\x00\x00\x00\x07\x05\x04\x0a\x45\x00\x00\x13\x00"
    subs = parse_suboptions(wire)
    assert subs == {1: b"port-7", 2: bytes.fromhex("020000000007"), 5: b"\x0a\x45\x00\x00", 19: b""}
    assert list(subs) == [1, 2, 5, 19]
    assert encode_suboptions(subs) == wire
    assert encode_suboptions({19: b""}) == b"\x13\x00"  # RFC 8357: the source port sub-option is empty


def test_suboptions_repeated_codes_concatenate_and_long_ones_split() -> None:
    assert parse_suboptions(b"\x01\x02ab\x02\x01x\x01\x01c") == {1: b"abc", 2: b"x"}
    long = bytes(range(256)) + b"!"
    wire = encode_suboptions({9: long})
    assert wire[:2] == b"\x09\xff" and wire[257:259] == b"\x09\x02"
    assert parse_suboptions(wire) == {9: long}


@pytest.mark.parametrize("wire", [b"\x01", b"\x01\x03ab", b"\x01\x01a\x02"])
def test_suboptions_malformed(wire: bytes) -> None:
    with pytest.raises(FormError) as info:
        parse_suboptions(wire)
    assert info.value.reason == "bad-suboption"


# --- option 81 ------------------------------------------------------------------------------------------
def test_fqdn_flags() -> None:
    assert (ClientFqdn.FLAG_S, ClientFqdn.FLAG_O, ClientFqdn.FLAG_E, ClientFqdn.FLAG_N) == (1, 2, 4, 8)


def test_fqdn_canonical_wire_form() -> None:
    wire = b"\x05\x00\x00\x04host\x03lab\x07example\x00"
    fq = ClientFqdn.from_wire(wire)
    assert fq == ClientFqdn(0x05, "host.lab.example")
    # RFC 4702 §2.2: a server sets both RCODEs to 255
    assert fq.to_wire() == b"\x05\xff\xff\x04host\x03lab\x07example\x00"
    assert ClientFqdn.from_wire(fq.to_wire()) == fq


def test_fqdn_ascii_form_and_empty_name() -> None:
    assert ClientFqdn.from_wire(b"\x01\x00\x00host.lab.example") == ClientFqdn(1, "host.lab.example")
    assert ClientFqdn(0, "host").to_wire() == b"\x00\xff\xffhost"
    assert ClientFqdn.from_wire(b"\x04\x00\x00") == ClientFqdn(4, "")
    assert ClientFqdn(4, "").to_wire() == b"\x04\xff\xff"


def test_fqdn_too_short_or_bad_name() -> None:
    for wire in (b"", b"\x05\x00", b"\x05\x00\x00\xc0\x03"):
        with pytest.raises(FormError) as info:
            ClientFqdn.from_wire(wire)
        assert info.value.reason in ("bad-fqdn", "bad-domain")


def test_fqdn_partial_name() -> None:
    """A client that knows only its host label sends it without the root label (dhclient does)."""
    assert ClientFqdn.from_wire(b"\x05\x00\x00\x04host") == ClientFqdn(5, "host")
