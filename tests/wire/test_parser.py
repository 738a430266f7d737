"""The bounded reader: reads move forward, reads past the end and bodies not consumed exactly raise FormError."""

from __future__ import annotations

import pytest

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import Parser, expect_length


def test_reads_big_endian_fields_in_order() -> None:
    p = Parser(bytes.fromhex("01" + "0203" + "04050607" + "aabb" + "0002cafe" + "ff"))
    assert p.get_u8() == 1
    assert p.get_u16() == 0x0203
    assert p.get_u32() == 0x04050607
    assert p.get_bytes(2) == b"\xaa\xbb"
    assert p.get_counted_bytes() == b"\xca\xfe"
    assert p.remaining() == 1
    assert p.get_rest() == b"\xff"
    assert p.remaining() == 0
    assert p.get_rest() == b""


@pytest.mark.parametrize("read", [Parser.get_u8, Parser.get_u16, Parser.get_u32])
def test_read_past_the_end_is_truncated(read: object) -> None:
    p = Parser(b"", "THING")
    with pytest.raises(FormError) as exc:
        read(p)  # type: ignore[operator]
    assert exc.value.reason == "truncated"
    assert "THING" in str(exc.value)


def test_counted_bytes_longer_than_the_rest_is_bad_length() -> None:
    with pytest.raises(FormError) as exc:
        Parser(bytes.fromhex("0003" + "6162")).get_counted_bytes()
    assert exc.value.reason == "bad-length"


def test_restrict_to_consumed_exactly() -> None:
    p = Parser(bytes.fromhex("0004" + "00010002" + "09"))
    n = p.get_u16()
    with p.restrict_to(n) as body:
        assert body.get_u16() == 1
        assert body.remaining() == 2
        assert body.get_u16() == 2
    assert p.remaining() == 1  # the end is restored
    assert p.get_u8() == 9


def test_restrict_to_under_consumed_raises() -> None:
    p = Parser(bytes.fromhex("00010002"))
    with pytest.raises(FormError) as exc, p.restrict_to(4):
        p.get_u16()
    assert exc.value.reason == "bad-length"
    assert p.end == 4


def test_restrict_to_over_consumption_is_stopped_at_the_restriction() -> None:
    p = Parser(bytes.fromhex("00010002"))
    with pytest.raises(FormError) as exc, p.restrict_to(2):
        p.get_u32()  # 4 bytes exist, only 2 are in the body
    assert exc.value.reason == "truncated"
    assert p.end == 4


def test_restrict_to_more_than_is_left_raises() -> None:
    p = Parser(b"\x00\x01")
    with pytest.raises(FormError) as exc:
        p.restrict_to(3)
    assert exc.value.reason == "bad-length"


def test_nested_restrictions() -> None:
    p = Parser(bytes.fromhex("aa" + "bbcc"))
    with p.restrict_to(3):
        assert p.get_u8() == 0xAA
        with p.restrict_to(2):
            assert p.get_u16() == 0xBBCC
    assert p.remaining() == 0


def test_expect_length() -> None:
    expect_length(b"ab", 2, "X")
    with pytest.raises(FormError) as exc:
        expect_length(b"abc", 2, "X")
    assert exc.value.reason == "bad-length"
