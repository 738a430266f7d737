"""DUID parsing, building and text forms (RFC 8415 §11, RFC 6355)."""

from __future__ import annotations

import uuid

import pytest

from dhcpbridge.wire.duid import (
    DUID_EPOCH_UNIX,
    Duid,
    DuidType,
    duid_time,
    format_duid,
    parse_duid_text,
    server_duid_en,
    server_duid_from_mac,
)
from dhcpbridge.wire.errors import FormError

# dhclient's DUID-LLT from the lab capture kea6-dhclient6-napd.pcapng (tshark: hw 1, MAC 02:67:00:00:00:02,
# "DUID Time: Nov 25, 2026 14:55:12 UTC").
DHCLIENT_LLT = bytes.fromhex("000100013299b350026700000002")


def test_llt_fields_match_tshark() -> None:
    d = Duid.from_wire(DHCLIENT_LLT)
    assert d.type == DuidType.LLT
    assert d.hwtype == 1
    assert d.link_layer_address == bytes.fromhex("026700000002")
    # 2026-11-25 14:55:12 UTC as a Unix timestamp, minus the DUID epoch (2000-01-01).
    assert d.time == 1795618512 - DUID_EPOCH_UNIX
    assert d.enterprise is None and d.identifier is None and d.uuid is None
    assert d.describe() == f"LLT hw=1 time={d.time} ll=02:67:00:00:00:02"
    assert str(d) == "00:01:00:01:32:99:b3:50:02:67:00:00:00:02"


def test_en_fields() -> None:
    d = Duid.en(2495, b"loopback")
    assert d.raw == bytes.fromhex("00020000 09bf") + b"loopback"
    assert d.type == DuidType.EN
    assert d.enterprise == 2495
    assert d.identifier == b"loopback"
    assert d.hwtype is None and d.link_layer_address is None
    assert d.describe() == "EN enterprise=2495 id=6c6f6f706261636b"


def test_ll_from_mac_text_and_bytes() -> None:
    d = server_duid_from_mac("02:67:00:00:00:01")
    assert d.raw == bytes.fromhex("00030001026700000001")
    assert d == Duid.ll(1, bytes.fromhex("026700000001"))
    assert d.hwtype == 1
    assert d.link_layer_address == bytes.fromhex("026700000001")
    assert d.describe() == "LL hw=1 ll=02:67:00:00:00:01"


def test_uuid() -> None:
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    d = Duid.from_uuid(u)
    assert d.raw == b"\x00\x04" + u.bytes
    assert d.type == DuidType.UUID
    assert d.uuid == u
    assert d.describe() == f"UUID {u}"


def test_unknown_type_is_kept_opaque() -> None:
    d = Duid(bytes.fromhex("ffff0102"))
    assert d.type == 0xFFFF
    assert d.hwtype is None and d.uuid is None and d.enterprise is None
    assert d.describe() == "type=65535 data=0102"
    assert d.to_json() == {"duid": "ff:ff:01:02", "type": 65535}


def test_malformed_known_type_is_opaque_not_an_error() -> None:
    # A 3-byte "LLT" has no room for its fields; DUIDs are opaque, so it parses but exposes no fields.
    d = Duid(b"\x00\x01\x00")
    assert d.type == DuidType.LLT
    assert d.hwtype is None and d.time is None and d.link_layer_address is None
    assert Duid(b"\x00\x04" + b"\x00" * 15).uuid is None


@pytest.mark.parametrize("size", [0, 1, 2, 131, 300])
def test_length_bounds(size: int) -> None:
    data = (b"\x00\x02" + b"\x01" * (size - 2)) if size >= 2 else b"\x00" * size
    with pytest.raises(FormError) as exc:
        Duid.from_wire(data)
    assert exc.value.reason == "bad-duid"


def test_length_bounds_accepted() -> None:
    assert len(Duid(b"\x00\x02\x01")) == 3
    assert len(Duid(b"\x00\x02" + b"\x01" * 128)) == 130


def test_equality_and_hash_use_raw_bytes() -> None:
    a = Duid(DHCLIENT_LLT)
    b = Duid(bytearray(DHCLIENT_LLT))
    assert a == b and hash(a) == hash(b)
    assert a != Duid.en(1, b"x")
    assert {a: 1}[b] == 1
    assert a.to_wire() == DHCLIENT_LLT
    assert repr(a) == "Duid('00:01:00:01:32:99:b3:50:02:67:00:00:00:02')"


def test_duid_time() -> None:
    assert duid_time(DUID_EPOCH_UNIX) == 0
    assert duid_time(DUID_EPOCH_UNIX + 86400.7) == 86400
    assert duid_time(DUID_EPOCH_UNIX - 1) == 0xFFFFFFFF  # modulo 2**32, never negative
    d = Duid.llt(1, duid_time(1795618512), "02:67:00:00:00:02")
    assert d.raw == DHCLIENT_LLT


@pytest.mark.parametrize(
    ("text", "raw_hex"),
    [
        ("duid:000100013299b350026700000002", "000100013299b350026700000002"),
        ("DUID:00:01:00:01:32:99:b3:50:02:67:00:00:00:02", "000100013299b350026700000002"),
        ("00:01:00:01:32:99:b3:50:02:67:00:00:00:02", "000100013299b350026700000002"),
        ("00-03-00-01-02-67-00-00-00-01", "00030001026700000001"),
        ("0x00030001026700000001", "00030001026700000001"),
        ("ll:02:67:00:00:00:01", "00030001026700000001"),
        ("en:2495:6c6f6f706261636b", "00020000" + "09bf" + "6c6f6f706261636b"),
        ("llt:848933712:02:67:00:00:00:02", "000100013299b350026700000002"),
        ("uuid:12345678-1234-5678-1234-567812345678", "0004" + "12345678123456781234567812345678"),
    ],
)
def test_parse_text(text: str, raw_hex: str) -> None:
    assert parse_duid_text(text).raw == bytes.fromhex(raw_hex)


@pytest.mark.parametrize(
    "text", ["", "duid:", "zz:zz", "0001", "ll:", "en:x:01", "en:1:", "uuid:nope", "1" * 400]
)
def test_parse_text_errors(text: str) -> None:
    with pytest.raises(ValueError, match="invalid DUID"):
        parse_duid_text(text)


def test_format_round_trips() -> None:
    d = Duid(DHCLIENT_LLT)
    for style in ("colon", "prefixed", "hex"):
        assert parse_duid_text(format_duid(d, style)) == d
    assert format_duid(d, "prefixed") == "duid:000100013299b350026700000002"
    assert parse_duid_text(str(d)) == d
    with pytest.raises(ValueError, match="unknown DUID text style"):
        format_duid(d, "base64")


def test_server_duid_en_accepts_hex_text_and_bytes() -> None:
    assert server_duid_en(2495, "6c:6f") == server_duid_en(2495, b"lo")
    with pytest.raises(ValueError, match="must not be empty"):
        server_duid_en(2495, b"")


def test_to_json() -> None:
    assert Duid(DHCLIENT_LLT).to_json() == {
        "duid": "00:01:00:01:32:99:b3:50:02:67:00:00:00:02",
        "type": 1,
        "hwtype": 1,
        "link_layer_address": "02:67:00:00:00:02",
        "time": 848933712,
    }
    assert Duid.en(9, b"\x01").to_json() == {
        "duid": "00:02:00:00:00:09:01",
        "type": 2,
        "enterprise": 9,
        "identifier": "01",
    }
