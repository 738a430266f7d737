"""DHCPv4 message codec (wire/v4.py): header layout, RFC 3396 long options, RFC 2131 §4.1 overload,
maximum message size (RFC 2132 §9.10), BOOTP padding, and the FormError contract."""

from __future__ import annotations

import struct

import pytest

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.message import (
    BOOTP_MIN,
    BOOTREPLY,
    BOOTREQUEST,
    FLAG_BROADCAST,
    HEADER_LEN,
    MAGIC,
    Message4,
    encode,
    encode_options,
    ip4_int,
    ip4_str,
    parse,
)

MAC = bytes.fromhex("026700000002")
SNAME_AT, FILE_AT = 44, 108


def raw_message(
    options: bytes,
    *,
    sname: bytes = b"",
    file: bytes = b"",
    op: int = BOOTREQUEST,
    hlen: int = 6,
    cookie: bytes = MAGIC,
) -> bytes:
    """Bytes of a message built by hand (not by the codec under test)."""
    header = struct.pack(
        "!BBBBIHHIIII16s64s128s", op, 1, hlen, 0, 0x01020304, 7, 0x8000, 0, 0, 0, 0, MAC, sname, file
    )
    return header + cookie + options


def test_header_offsets_and_values() -> None:
    data = raw_message(b"\x35\x01\x01\xff")
    assert HEADER_LEN == 236 and len(data) == HEADER_LEN + 4 + 4
    msg = parse(data)
    assert (msg.op, msg.htype, msg.hlen, msg.hops) == (1, 1, 6, 0)
    assert msg.xid == 0x01020304 and msg.secs == 7 and msg.flags == FLAG_BROADCAST
    assert msg.mac == MAC and msg.chaddr == MAC.ljust(16, b"\0")
    assert msg.msg_type == 1
    assert msg.options == {53: b"\x01"}


def test_encode_layout_by_hand() -> None:
    msg = Message4(
        op=BOOTREPLY,
        xid=0xDEADBEEF,
        flags=FLAG_BROADCAST,
        ciaddr=ip4_int("10.0.0.1"),
        yiaddr=ip4_int("10.0.0.2"),
        siaddr=ip4_int("10.0.0.3"),
        giaddr=ip4_int("10.0.0.4"),
        chaddr=MAC,
        sname=b"srv",
        file=b"pxelinux.0",
        options={53: b"\x02", 54: bytes((10, 0, 0, 3))},
    )
    data = encode(msg)
    assert data[0] == 2 and data[4:8] == bytes.fromhex("deadbeef")
    assert data[10:12] == b"\x80\x00"
    assert data[12:28] == bytes((10, 0, 0, 1, 10, 0, 0, 2, 10, 0, 0, 3, 10, 0, 0, 4))
    assert data[28:34] == MAC and data[34:44] == bytes(10)
    assert data[SNAME_AT : SNAME_AT + 4] == b"srv\0"
    assert data[FILE_AT : FILE_AT + 11] == b"pxelinux.0\0"
    assert data[236:240] == MAGIC
    assert data[240:250] == b"\x35\x01\x02\x36\x04\x0a\x00\x00\x03\xff"


def test_padding_to_bootp_minimum() -> None:
    """RFC 1542 §2.1 / lab README: replies are padded with zeros to at least 300 bytes."""
    small = encode(Message4(op=BOOTREPLY, chaddr=MAC, options={53: b"\x05"}))
    assert len(small) == BOOTP_MIN
    assert small[240:244] == b"\x35\x01\x05\xff" and small[244:] == bytes(BOOTP_MIN - 244)
    big = encode(Message4(op=BOOTREPLY, chaddr=MAC, options={53: b"\x05", 43: bytes(100)}))
    assert len(big) == 240 + 3 + 102 + 1  # no padding once past 300
    assert big[-1] == 0xFF


def test_ip4_helpers() -> None:
    assert ip4_int("10.67.0.1") == 0x0A430001
    assert ip4_str(0x0A430001) == "10.67.0.1"
    for bad in ("10.67.0", "10.67.0.256", "a.b.c.d", "10.67.0.-1", "1.2.3.4.5"):
        with pytest.raises(ValueError):
            ip4_int(bad)


def test_msg_type_absent_or_malformed_is_zero() -> None:
    assert Message4().msg_type == 0
    assert Message4(options={53: b""}).msg_type == 0
    assert Message4(options={53: b"\x01\x02"}).msg_type == 0


def test_pad_options_are_skipped_and_end_stops() -> None:
    data = raw_message(b"\x00\x00\x35\x01\x03\x00\x0c\x02hi\xff\x0c\x02no")
    msg = parse(data)
    assert msg.options == {53: b"\x03", 12: b"hi"}


def test_missing_end_is_tolerated() -> None:
    assert parse(raw_message(b"\x35\x01\x01")).options == {53: b"\x01"}


# --- RFC 3396: long options --------------------------------------------------------------------
def test_long_option_is_split_in_255_byte_pieces() -> None:
    value = bytes(range(256)) * 2 + b"tail"  # 516 bytes
    data = encode_options({119: value})
    assert data[:2] == b"\x77\xff" and data[257:259] == b"\x77\xff" and data[514:516] == b"\x77\x06"
    assert len(data) == 3 * 2 + 516
    msg = parse(encode(Message4(chaddr=MAC, options={53: b"\x01", 119: value})))
    assert msg.options[119] == value


def test_split_option_of_exactly_255_bytes_is_one_piece() -> None:
    assert encode_options({43: bytes(255)})[:2] == b"\x2b\xff"
    assert len(encode_options({43: bytes(255)})) == 257
    assert len(encode_options({43: bytes(256)})) == 2 + 255 + 2 + 1


def test_split_instances_are_concatenated_in_order_even_when_not_adjacent() -> None:
    """RFC 3396 §7: every instance of a code is concatenated, in the order they appear."""
    opts = b"\x0c\x03abc\x35\x01\x01\x0c\x02de\x0c\x00\x0c\x01f\xff"
    msg = parse(raw_message(opts))
    assert msg.options[12] == b"abcdef"
    assert list(msg.options) == [12, 53]


def test_empty_option_round_trips() -> None:
    msg = Message4(chaddr=MAC, options={53: b"\x01", 80: b""})  # rapid commit is zero-length
    assert parse(encode(msg)).options == {53: b"\x01", 80: b""}


# --- option overload (option 52) -------------------------------------------------------------
def _field(content: bytes, size: int) -> bytes:
    return content.ljust(size, b"\0")


@pytest.mark.parametrize(
    ("overload", "expect"),
    [
        (1, {53: b"\x05", 3: b"\x0a\x00\x00\x01", 15: b"file.example"}),
        (2, {53: b"\x05", 3: b"\x0a\x00\x00\x01", 66: b"tftp"}),
        (3, {53: b"\x05", 3: b"\x0a\x00\x00\x01", 15: b"file.example", 66: b"tftp"}),
    ],
)
def test_overload_reads_file_and_or_sname(overload: int, expect: dict[int, bytes]) -> None:
    file = _field(b"\x0f\x0cfile.example\xff", 128)
    sname = _field(b"\x42\x04tftp\xff", 64)
    data = raw_message(bytes((53, 1, 5, 52, 1, overload, 3, 4, 10, 0, 0, 1, 255)), sname=sname, file=file)
    msg = parse(data)
    assert msg.options == expect
    assert 52 not in msg.options
    # an overloaded field holds options, not a name: it is reported empty
    assert msg.file == (b"" if overload & 1 else file)
    assert msg.sname == (b"" if overload & 2 else sname)


def test_overload_concatenates_options_then_file_then_sname() -> None:
    """RFC 3396 §5: the aggregate buffer is the options field, then file, then sname."""
    file = _field(b"\x77\x02BB\xff", 128)
    sname = _field(b"\x77\x02CC\xff", 64)
    msg = parse(raw_message(b"\x34\x01\x03\x77\x02AA\xff", sname=sname, file=file))
    assert msg.options[119] == b"AABBCC"


def test_overload_inside_file_or_sname_is_ignored() -> None:
    """Option 52 inside file/sname cannot chain further overloads (no loops), whatever its value."""
    file = _field(b"\x34\x01\x03\x0c\x04host\x34\x05junk!\xff", 128)
    sname = _field(b"\x34\x01\x01\x0f\x03dom\xff", 64)
    msg = parse(raw_message(b"\x35\x01\x01\x34\x01\x01\xff", sname=sname, file=file))
    assert msg.options == {53: b"\x01", 12: b"host"}  # sname was not named by the real option 52
    assert msg.sname == sname
    msg = parse(raw_message(b"\x35\x01\x01\x34\x01\x03\xff", sname=sname, file=file))
    assert msg.options == {53: b"\x01", 12: b"host", 15: b"dom"}


def test_option_in_file_field_cannot_run_into_sname() -> None:
    """Options may not overlap from one field into the next (RFC 3396 §5)."""
    file = b"\x0c\x20" + bytes(30) + bytes(94) + b"\x0c\x10"  # last option overruns the file field
    with pytest.raises(FormError) as info:
        parse(raw_message(b"\x34\x01\x01\xff", file=file, sname=bytes(64)))
    assert info.value.reason == "option-overrun"


@pytest.mark.parametrize("body", [b"\x34\x00", b"\x34\x01\x00", b"\x34\x01\x04", b"\x34\x02\x01\x01"])
def test_bad_overload_value_is_a_form_error(body: bytes) -> None:
    with pytest.raises(FormError) as info:
        parse(raw_message(body + b"\xff"))
    assert info.value.reason == "bad-overload"


# --- maximum message size (option 57) and encode-side overload ---------------------------------
def _reply(options: dict[int, bytes], **kw: object) -> Message4:
    return Message4(op=BOOTREPLY, xid=9, chaddr=MAC, options={53: b"\x02", 54: bytes(4), **options}, **kw)  # type: ignore[arg-type]


def test_no_overload_without_max_size() -> None:
    msg = _reply({43: bytes(250), 125: bytes(250), 124: bytes(200)})
    data = encode(msg)
    assert len(data) > 576
    assert parse(data).options == msg.options


def test_max_size_overloads_into_file_then_sname() -> None:
    opts = {1: bytes(4), 3: bytes(4), 43: bytes(250), 121: bytes(100), 42: bytes(40)}
    msg = _reply(opts)
    data = encode(msg, 576)
    assert len(data) <= 576 - 28  # IP and UDP headers are part of the client's limit
    back = parse(data)
    assert back.options == msg.options  # everything arrived, via file and sname
    overload = data[240:243]
    assert overload == b"\x34\x01\x03"  # the overload option comes first
    assert data[FILE_AT] == 121 and data[SNAME_AT] == 42
    assert data[FILE_AT:236].rstrip(b"\0").endswith(b"\xff")
    assert data[SNAME_AT:FILE_AT].rstrip(b"\0").endswith(b"\xff")


def test_max_size_file_only_when_sname_is_in_use() -> None:
    msg = _reply({43: bytes(250), 121: bytes(100)}, sname=b"tftp.example")
    data = encode(msg, 576)
    assert data[240:243] == b"\x34\x01\x01"
    back = parse(data)
    assert back.options == msg.options
    assert back.sname.rstrip(b"\0") == b"tftp.example"


def test_max_size_keeps_a_named_boot_file() -> None:
    """A boot file in ``file`` is never overwritten by options; sname is used instead."""
    msg = _reply({43: bytes(290), 42: bytes(20)}, file=b"pxelinux.0")
    data = encode(msg, 576)
    back = parse(data)
    assert back.file.rstrip(b"\0") == b"pxelinux.0"
    assert data[240:243] == b"\x34\x01\x02"
    assert back.options == msg.options


def test_max_size_below_576_counts_as_576() -> None:
    """RFC 2132 §9.10: 576 is the minimum legal value."""
    msg = _reply({43: bytes(250), 125: bytes(40)})
    assert encode(msg, 300) == encode(msg, 576)


def test_large_max_size_needs_no_overload() -> None:
    msg = _reply({43: bytes(250), 125: bytes(250)})
    data = encode(msg, 1500)
    assert b"\x34\x01" not in data[240:243]
    assert parse(data).options == msg.options


def test_overload_drops_only_what_cannot_fit() -> None:
    """An option too big for any field is left out, but the small ones after it (client-id echo,
    relay agent information) still fit and must be sent."""
    opts = {1: bytes(4), 3: bytes(4), 119: bytes(34), 43: bytes(200), 121: bytes(130)}
    opts[61] = b"\x01" + MAC
    opts[82] = b"\x01\x04port"
    data = encode(_reply(opts), 576)
    assert len(data) <= 548
    back = parse(data)
    assert back.options[61] == opts[61]
    assert back.options[82] == opts[82]


# --- FormError contract ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "short"),
        (raw_message(b"")[:239], "short"),
        (raw_message(b"")[:235], "short"),
        # without the cookie, a vend field that is neither absent nor whole is a truncated message
        (raw_message(b"\x00", cookie=b""), "short"),
        (raw_message(b"", cookie=b"c\x82S"), "short"),
        (raw_message(b"\xff", cookie=b"\x63\x82\x53\x64"), "no-cookie"),
        # no cookie and not a whole RFC 951 message (300 bytes): neither DHCP nor BOOTP
        (raw_message(bytes(59), cookie=bytes(4)), "no-cookie"),
        (raw_message(bytes(60), cookie=bytes(4), op=3), "bad-op"),
        (raw_message(bytes(60), cookie=bytes(4), hlen=17), "bad-hlen"),
        (raw_message(b"\xff", op=3), "bad-op"),
        (raw_message(b"\xff", hlen=17), "bad-hlen"),
        (raw_message(b"\x35"), "truncated-option"),
        (raw_message(b"\x35\x05\x01"), "option-overrun"),
    ],
)
def test_malformed_messages(data: bytes, reason: str) -> None:
    with pytest.raises(FormError) as info:
        parse(data)
    assert info.value.reason == reason
    assert str(info.value)


def test_bootp_without_cookie_is_rejected_but_reply_op_is_parsed() -> None:
    msg = parse(raw_message(b"\x35\x01\x02\xff", op=BOOTREPLY))
    assert msg.op == BOOTREPLY and msg.msg_type == 2


@pytest.mark.parametrize(
    "vend",
    [
        pytest.param(bytes(64), id="all-zeros"),
        pytest.param(b"\x00\x00\x00\x00" + b"\x35\x01\x01\xff" + bytes(56), id="zero-cookie-then-tlvs"),
        pytest.param(b"CMU\x00" + bytes(range(60)), id="vendor-data"),
        pytest.param(b"c\x82Sd" + b"\x35\x05\x01" + bytes(57), id="near-cookie-and-overrun"),
        pytest.param(bytes(64) + b"\xff" * 40, id="longer-than-300"),
        pytest.param(b"", id="header-only"),  # klibc ipconfig -c bootp: 236 bytes, no vend field
    ],
)
def test_rfc951_bootrequest_without_cookie_is_bootp_with_no_options(vend: bytes) -> None:
    """RFC 951 lets a client fill its 64-byte vend field as it likes (or, as klibc's ipconfig
    does, leave it out); only RFC 1048's cookie makes it options. Such a request is a BOOTP
    message (type 0) with no options at all."""
    data = raw_message(vend[4:], cookie=vend[:4], file=b"boot/vmunix")
    msg = parse(data)
    assert msg.cookie is False and msg.options == {} and msg.msg_type == 0
    assert (msg.op, msg.xid, msg.mac, msg.flags) == (BOOTREQUEST, 0x01020304, MAC, FLAG_BROADCAST)
    assert msg.file == b"boot/vmunix".ljust(128, b"\0")
    assert "cookie=False" in repr(msg)


def test_message_without_cookie_encodes_rfc951_vend_zeros_and_round_trips() -> None:
    """The reply to such a client: 300 bytes, vend all zeros, no cookie, no option written even
    if some were set; it parses back as the same message."""
    msg = Message4(
        op=BOOTREQUEST, xid=9, chaddr=MAC.ljust(16, b"\0"), yiaddr=ip4_int("10.0.0.7"), cookie=False
    )
    data = encode(msg)
    assert len(data) == BOOTP_MIN and data[HEADER_LEN:] == bytes(64)
    assert parse(data) == msg
    msg.options = {1: b"\xff\xff\xff\x00"}
    assert encode(msg, 1500) == data
    reply = Message4(
        op=BOOTREPLY, xid=9, chaddr=MAC.ljust(16, b"\0"), yiaddr=ip4_int("10.0.0.7"), cookie=False
    )
    assert parse(encode(reply)) == reply  # what a probe or test reads back from the server
    assert parse(data) != Message4(
        op=BOOTREQUEST, xid=9, chaddr=MAC.ljust(16, b"\0"), yiaddr=ip4_int("10.0.0.7")
    )


def test_parse_accepts_bytearray_and_memoryview() -> None:
    data = raw_message(b"\x35\x01\x01\xff")
    assert parse(bytearray(data)) == parse(data) == parse(memoryview(data))  # type: ignore[arg-type]


def test_message_equality_and_repr() -> None:
    a = Message4(xid=1, chaddr=MAC, options={53: b"\x01"})
    b = Message4(xid=1, chaddr=MAC, options={53: b"\x01"})
    assert a == b and a != Message4(xid=2, chaddr=MAC, options={53: b"\x01"})
    assert "02:67:00:00:00:02" in repr(a) and "type=1" in repr(a)
    with pytest.raises(TypeError):
        hash(a)


def test_hlen_cuts_mac() -> None:
    msg = parse(raw_message(b"\xff", hlen=0))
    assert msg.mac == b""
    msg = parse(raw_message(b"\xff", hlen=16))
    assert len(msg.mac) == 16


def test_overloaded_message_round_trips_exactly() -> None:
    file = _field(b"\x0f\x0cfile.example\xff", 128)
    msg = parse(raw_message(b"\x35\x01\x05\x34\x01\x01\xff", file=file))
    assert parse(encode(msg)) == msg
