"""Property tests for the DHCPv4 codec: generated messages round-trip; ``parse`` raises nothing but
``FormError`` on random bytes and on mutated real packets; whatever parses re-encodes to the same
message; ``encode`` with a maximum size never exceeds it and never alters what it sends."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.message import FIELDS, MAGIC, Message4, encode, parse

VECTORS = Path(__file__).parent / "vectors4"


def _payload(path: Path) -> bytes:
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return bytes.fromhex("".join(lines))


REAL = [_payload(p) for p in sorted(VECTORS.glob("*.hex"))]
FAST = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

u8 = st.integers(0, 255)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
codes = st.integers(1, 254).filter(lambda c: c != 52)  # 52 is the codec's own business
option_values = st.one_of(st.binary(max_size=12), st.binary(max_size=600))


@st.composite
def messages(draw: st.DrawFn) -> Message4:
    hlen = draw(st.integers(0, 16))
    return Message4(
        op=draw(st.sampled_from([1, 2])),
        htype=draw(u8),
        hlen=hlen,
        hops=draw(u8),
        xid=draw(u32),
        secs=draw(u16),
        flags=draw(u16),
        ciaddr=draw(u32),
        yiaddr=draw(u32),
        siaddr=draw(u32),
        giaddr=draw(u32),
        chaddr=draw(st.binary(min_size=16, max_size=16)),
        sname=draw(st.binary(min_size=64, max_size=64)),
        file=draw(st.binary(min_size=128, max_size=128)),
        options=draw(st.dictionaries(codes, option_values, max_size=12)),
    )


def _same(a: Message4, b: Message4) -> bool:
    """Equal messages; an overloaded sname/file parses as b"" and re-encodes as zeros: same content."""
    if a.sname.strip(b"\0") != b.sname.strip(b"\0") or a.file.strip(b"\0") != b.file.strip(b"\0"):
        return False
    return all(getattr(a, s) == getattr(b, s) for s in FIELDS if s not in ("sname", "file"))


@FAST
@given(messages())
def test_generated_messages_round_trip(msg: Message4) -> None:
    data = encode(msg)
    assert len(data) >= 300
    back = parse(data)
    assert _same(back, msg)  # including option order; an all-zero sname/file parses as b""
    assert list(back.options) == list(msg.options)
    assert encode(back) == data


@FAST
@given(messages(), st.integers(0, 1500))
def test_max_size_is_respected_and_values_are_never_altered(msg: Message4, max_size: int) -> None:
    data = encode(msg, max_size)
    if max_size:
        assert len(data) <= max(max_size, 576) - 28
    back = parse(data)
    sent = list(back.options)
    assert all(back.options[c] == msg.options[c] for c in sent)
    order = [c for c in msg.options if c in back.options]
    assert sent == order  # what is sent keeps its order
    if not max_size:
        assert sent == list(msg.options)


@settings(max_examples=1500, deadline=None)
@given(st.binary(max_size=700))
def test_random_bytes_raise_only_form_error(data: bytes) -> None:
    try:
        parse(data)
    except FormError:
        pass


@st.composite
def dhcp_shaped(draw: st.DrawFn) -> bytes:
    """A valid 236-byte header and cookie followed by random option bytes: reaches the option scanner."""
    header = struct.pack(
        "!BBBBIHHIIII16s64s128s",
        draw(st.sampled_from([1, 2])),
        1,
        draw(st.integers(0, 16)),
        0,
        draw(u32),
        0,
        0,
        0,
        0,
        0,
        0,
        draw(st.binary(min_size=16, max_size=16)),
        draw(st.binary(min_size=64, max_size=64)),
        draw(st.binary(min_size=128, max_size=128)),
    )
    tail = draw(
        st.lists(
            st.one_of(st.binary(max_size=8), st.sampled_from([b"\x34\x01\x03", b"\x34\x01\x01", b"\xff"]))
        )
    )
    return header + MAGIC + b"".join(tail)


@settings(max_examples=1000, deadline=None)
@given(dhcp_shaped())
def test_option_soup_raises_only_form_error_and_what_parses_round_trips(data: bytes) -> None:
    try:
        msg = parse(data)
    except FormError:
        return
    assert _same(parse(encode(msg)), msg)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(REAL)))
    how = draw(st.sampled_from(["truncate", "cookie", "length", "flips", "overload"]))
    if how == "truncate":
        return bytes(data[: draw(st.integers(0, len(data) - 1))])
    if how == "cookie":
        data[236:240] = draw(st.binary(min_size=4, max_size=4).filter(lambda c: c != MAGIC))
        return bytes(data)
    if how == "length":  # an option's length byte pointing past the end of the message
        pos = 240
        stops: list[int] = []
        while pos + 1 < len(data) and data[pos] not in (0, 255):
            stops.append(pos + 1)
            pos += 2 + data[pos + 1]
        if stops:
            at = draw(st.sampled_from(stops))
            data[at] = draw(st.integers(len(data) - at, 255)) if len(data) - at <= 255 else 255
        return bytes(data)
    if how == "overload":  # claim file/sname hold options (they usually hold zeros or garbage)
        data[240:240] = bytes((52, 1, draw(st.integers(0, 255))))
        return bytes(data)
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


@settings(max_examples=1500, deadline=None)
@given(mutated())
def test_mutated_real_packets_raise_only_form_error(data: bytes) -> None:
    try:
        msg = parse(data)
    except FormError as exc:
        assert exc.reason and str(exc)
        return
    assert _same(parse(encode(msg)), msg)


def test_every_real_vector_truncation_is_a_form_error_or_a_prefix_message() -> None:
    """Exhaustive over cut points: a cut inside the fixed part is 'short'; a cut inside an option is
    'truncated-option'/'option-overrun'; a cut right after a whole option parses."""
    for data in REAL:
        for cut in range(len(data)):
            try:
                msg = parse(data[:cut])
            except FormError as exc:
                assert exc.reason in ("short", "truncated-option", "option-overrun")
                if cut < 240:
                    assert exc.reason == "short"
                continue
            assert set(msg.options) <= set(parse(data).options)
