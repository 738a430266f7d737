"""Typed option values (wire/values.py): every kind both ways, hex spellings, RFC 1035 names with
compression pointers (RFC 3397) and loops, RFC 3442 classless routes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError

ROUND_TRIPS: list[tuple[str, Any, bytes, Any]] = [
    # kind, config value, wire bytes, decoded value
    ("ip4", "10.67.0.1", b"\x0a\x43\x00\x01", "10.67.0.1"),
    ("ip4-list", ["10.0.0.1", "10.0.0.2"], b"\x0a\x00\x00\x01\x0a\x00\x00\x02", ["10.0.0.1", "10.0.0.2"]),
    ("ip4-list", "10.0.0.1, 10.0.0.2", b"\x0a\x00\x00\x01\x0a\x00\x00\x02", ["10.0.0.1", "10.0.0.2"]),
    ("ip4-list", "10.0.0.1", b"\x0a\x00\x00\x01", ["10.0.0.1"]),
    ("ip6", "fd67::1", bytes.fromhex("fd670000000000000000000000000001"), "fd67::1"),
    (
        "ip6-list",
        ["::1", "fd67::2"],
        bytes(15) + b"\x01" + bytes.fromhex("fd67" + "00" * 13 + "02"),
        ["::1", "fd67::2"],
    ),
    ("u8", 7, b"\x07", 7),
    ("u8", "0x10", b"\x10", 16),
    ("u16", 1500, b"\x05\xdc", 1500),
    ("u32", 4294967295, b"\xff\xff\xff\xff", 4294967295),
    ("u32", "3600", b"\x00\x00\x0e\x10", 3600),
    ("i32", -3600, b"\xff\xff\xf1\xf0", -3600),
    ("u8-list", [1, 2, 3], b"\x01\x02\x03", [1, 2, 3]),
    ("u8-list", "1,2", b"\x01\x02", [1, 2]),
    ("u16-list", [68, 296, 576], b"\x00\x44\x01\x28\x02\x40", [68, 296, 576]),
    ("bool", True, b"\x01", True),
    ("bool", "off", b"\x00", False),
    ("bool", "yes", b"\x01", True),
    ("string", "lab.example", b"lab.example", "lab.example"),
    ("string", "caf\u00e9", "caf\u00e9".encode(), "caf\u00e9"),
    ("hex", "01:02:ff", b"\x01\x02\xff", "01:02:ff"),
    ("hex", "0x0102ff", b"\x01\x02\xff", "01:02:ff"),
    ("hex", "01-02 ff", b"\x01\x02\xff", "01:02:ff"),
    (
        "domain-list",
        ["a.example", "b.example."],
        b"\x01a\x07example\x00\x01b\x07example\x00",
        ["a.example", "b.example"],
    ),
    ("domain-list", "lab.example", b"\x03lab\x07example\x00", ["lab.example"]),
    ("routes", ["10.0.0.0/8 via 10.67.0.1"], b"\x08\x0a\x0a\x43\x00\x01", ["10.0.0.0/8 via 10.67.0.1"]),
    (
        "routes",
        [{"prefix": "0.0.0.0/0", "router": "10.67.0.1"}, "192.168.7.0/24 via 10.67.0.2"],
        b"\x00\x0a\x43\x00\x01" + b"\x18\xc0\xa8\x07\x0a\x43\x00\x02",
        ["0.0.0.0/0 via 10.67.0.1", "192.168.7.0/24 via 10.67.0.2"],
    ),
]


@pytest.mark.parametrize(("kind", "value", "wire", "decoded"), ROUND_TRIPS)
def test_kind_round_trip(kind: str, value: Any, wire: bytes, decoded: Any) -> None:
    assert values.encode(kind, value) == wire
    assert values.decode(kind, wire) == decoded
    assert values.encode(kind, decoded) == wire


def test_every_kind_is_covered() -> None:
    assert {k for k, *_ in ROUND_TRIPS} == set(values.KINDS)


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("ip4", "10.67.0.256", "invalid ip4"),
        ("ip4", "fd67::1", "invalid ip4"),
        ("ip4-list", [], "at least one"),
        ("u8", 256, "does not fit"),
        ("u8", True, "invalid u8"),
        ("u16", -1, "does not fit"),
        ("u32", 1 << 32, "does not fit"),
        ("u32", "12abc", "invalid u32"),
        ("i32", 1 << 31, "does not fit"),
        ("bool", "maybe", "not a boolean"),
        ("string", 5, "expected a string"),
        ("hex", "zz", "not hex"),
        ("hex", 12, "expected a hex string"),
        ("domain-list", "a..example", "1-63 bytes"),
        ("domain-list", "x" * 64 + ".example", "1-63 bytes"),
        ("domain-list", ".".join(["abcdefgh"] * 30), "longer than 255"),
        ("routes", ["10.0.0.1/8 via 10.67.0.1"], "host bits"),
        ("routes", ["10.0.0.0/8"], "must look like"),
        ("routes", ["10.0.0.0/33 via 10.67.0.1"], "invalid routes"),
        ("no-such-kind", 1, "unknown value kind"),
    ],
)
def test_encode_errors_are_value_errors_with_reason(kind: str, value: Any, words: str) -> None:
    with pytest.raises(ValueError) as info:
        values.encode(kind, value)
    assert not isinstance(info.value, FormError)
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("kind", "wire"),
    [
        ("ip4", b"\x01\x02\x03"),
        ("ip4-list", b"\x01\x02\x03\x04\x05"),
        ("ip6", bytes(15)),
        ("u8", b""),
        ("u16", b"\x01"),
        ("u32", b"\x01\x02\x03\x04\x05"),
        ("i32", b"\x01"),
        ("u16-list", b"\x01\x02\x03"),
        ("bool", b"\x01\x01"),
        ("routes", b"\x21\x0a\x00\x00\x00\x00\x0a\x43\x00\x01"),  # /33
        ("routes", b"\x18\x0a\x00\x00\x0a\x43"),  # router cut short
        ("domain-list", b"\x03ab"),
    ],
)
def test_decode_errors_are_form_errors(kind: str, wire: bytes) -> None:
    with pytest.raises(FormError):
        values.decode(kind, wire)


def test_parse_hex_spellings() -> None:
    for text in ("0x0a0b", "0a:0b", "0a-0b", "0a 0b", "0a0b", " 0A.0B "):
        assert values.parse_hex(text) == b"\x0a\x0b"
    with pytest.raises(ValueError):
        values.parse_hex("0a:0")


# --- RFC 3442 -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("prefix", "descriptor"),
    [  # the table of RFC 3442 §1
        ("0.0.0.0/0", "00"),
        ("10.0.0.0/8", "080a"),
        ("10.0.0.0/24", "180a0000"),
        ("10.17.0.0/16", "100a11"),
        ("10.27.129.0/24", "180a1b81"),
        ("10.229.0.128/25", "190ae50080"),
        ("10.198.122.47/32", "200ac67a2f"),
    ],
)
def test_rfc3442_destination_descriptors(prefix: str, descriptor: str) -> None:
    wire = values.encode("routes", [f"{prefix} via 10.0.0.1"])
    assert wire == bytes.fromhex(descriptor) + b"\x0a\x00\x00\x01"
    assert values.decode("routes", wire) == [f"{prefix} via 10.0.0.1"]


# --- RFC 1035 names, RFC 3397 compression -------------------------------------------------------------
def test_encode_domain_forms() -> None:
    assert values.encode_domain("lab.example") == b"\x03lab\x07example\x00"
    assert values.encode_domain("lab.example.") == b"\x03lab\x07example\x00"
    assert values.encode_domain("") == b"\x00"
    assert values.encode_domain("b\u00fccher.example") == b"\x0dxn--bcher-kva\x07example\x00"


def test_rfc3397_compression_example() -> None:
    """RFC 3397 §3 example: eng.apple.com. and marketing.apple.com. with a pointer to offset 4."""
    wire = b"\x03eng\x05apple\x03com\x00" + b"\x09marketing\xc0\x04"
    assert values.decode_domains(wire) == ["eng.apple.com", "marketing.apple.com"]


def test_pointer_then_more_names() -> None:
    wire = b"\x03lab\x07example\x00" + b"\x02x1\xc0\x00" + b"\x02x2\xc0\x04"
    assert values.decode_domains(wire) == ["lab.example", "x1.lab.example", "x2.example"]


@pytest.mark.parametrize(
    "wire",
    [
        b"\xc0\x00",  # points at itself
        b"\x03foo\xc0\x00",  # foo -> itself again and again
        b"\x03foo\xc0\x06\xc0\x00",  # two pointers that point at each other
        b"\x03foo\xc0\x40",  # out of range
        b"\x03foo\xc0",  # truncated pointer
        b"\x03foo\x80",  # reserved label type 10
        b"\x03foo\x40",  # reserved label type 01
    ],
)
def test_compression_loops_and_bad_pointers_are_form_errors(wire: bytes) -> None:
    with pytest.raises(FormError) as info:
        values.decode_domains(wire)
    assert info.value.reason == "bad-domain"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(
            st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20), min_size=1, max_size=4
        ).map(".".join),
        min_size=1,
        max_size=5,
    )
)
def test_domain_list_round_trip(names: list[str]) -> None:
    assert values.decode("domain-list", values.encode("domain-list", names)) == names


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=80))
def test_decode_domains_random_bytes_only_form_error(data: bytes) -> None:
    try:
        names = values.decode_domains(data)
    except FormError:
        return
    assert all(isinstance(n, str) for n in names)


def test_empty_string_is_rejected() -> None:
    with pytest.raises(ValueError):
        values.encode("string", "")
