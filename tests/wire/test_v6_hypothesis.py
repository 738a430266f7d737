"""Property tests: generated DHCPv6 messages and relay chains round-trip; bad bytes only raise FormError."""

from __future__ import annotations

import json
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import (
    Message6,
    RelayMessage6,
    RelayMsg,
    encode6,
    message6_to_json,
    parse6,
    unwrap_relay,
    wrap_relay_reply,
)
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    IATA,
    NTP_SUBOPTION_MC_ADDR,
    NTP_SUBOPTION_SRV_ADDR,
    NTP_SUBOPTION_SRV_FQDN,
    OPTION_CLASSES,
    ClientFqdn,
    ClientId,
    ClientLinkLayerAddr,
    DnsServers,
    DomainList,
    EchoRequest,
    ElapsedTime,
    IAAddr,
    IAPrefix,
    InfMaxRt,
    InformationRefreshTime,
    InterfaceId,
    MessageType6,
    NtpServer,
    Option6,
    OptionContainer,
    OptionRequest,
    Preference,
    RapidCommit,
    RawOption,
    ReconfAccept,
    RelaySourcePort,
    RemoteId,
    ServerId,
    SntpServers,
    SolMaxRt,
    StatusCode,
    SubscriberId,
    Unicast,
    UserClass,
    VendorClass,
    VendorOpts,
    decode_option6_for_display,
)

VECTORS = Path(__file__).parent / "vectors6"


def _load(path: Path) -> bytes:
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    return bytes.fromhex("".join(lines))


VECTOR_BYTES = [_load(p) for p in sorted(VECTORS.glob("*.hex"))]
# Types whose decoded text is lossy on garbage (invalid UTF-8, non-ASCII or dotted labels are shown
# escaped), so re-encoding the typed value need not give the same bytes; raw options always do.
LOSSY_TEXT = (StatusCode, DomainList, ClientFqdn, NtpServer)

# --- strategies ------------------------------------------------------------------------------------

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
addr = st.integers(0, (1 << 128) - 1).map(IPv6Address)
blob = st.binary(max_size=24)
label = st.from_regex(r"[a-z0-9][a-z0-9-]{0,14}", fullmatch=True)
name = st.lists(label, min_size=1, max_size=4).map(".".join)
text = st.text(st.characters(codec="utf-8"), max_size=20)
duid = st.binary(min_size=3, max_size=130).map(Duid)


def raw_option(exclude: frozenset[int] = frozenset()) -> st.SearchStrategy[Option6]:
    return st.builds(RawOption, u16.filter(lambda c: c not in exclude), blob)


leaf: st.SearchStrategy[Option6] = st.one_of(
    st.builds(ClientId, duid),
    st.builds(ServerId, duid),
    st.builds(OptionRequest, st.lists(u16, max_size=6)),
    st.builds(Preference, u8),
    st.builds(ElapsedTime, u16),
    st.builds(Unicast, addr),
    st.builds(StatusCode, u16, text),
    st.builds(RapidCommit),
    st.builds(ReconfAccept),
    st.builds(UserClass, st.lists(blob, max_size=3)),
    st.builds(VendorClass, u32, st.lists(blob, max_size=3)),
    st.builds(VendorOpts, u32, st.lists(st.tuples(u16, blob), max_size=3)),
    st.builds(InterfaceId, blob),
    st.builds(DnsServers, st.lists(addr, max_size=3)),
    st.builds(DomainList, st.lists(name, max_size=3)),
    st.builds(SntpServers, st.lists(addr, max_size=3)),
    st.builds(InformationRefreshTime, u32),
    st.builds(RemoteId, u32, blob),
    st.builds(SubscriberId, blob),
    st.builds(ClientFqdn, u8, st.one_of(st.just(""), name, name.map(lambda n: n + "."))),
    st.builds(EchoRequest, st.lists(u16, max_size=4)),
    st.builds(
        NtpServer,
        st.lists(
            st.one_of(
                st.tuples(st.sampled_from([NTP_SUBOPTION_SRV_ADDR, NTP_SUBOPTION_MC_ADDR]), addr),
                st.tuples(st.just(NTP_SUBOPTION_SRV_FQDN), name),
                st.tuples(st.integers(4, 0xFFFF), blob),
            ),
            max_size=3,
        ),
    ),
    st.builds(ClientLinkLayerAddr, u16, blob),
    st.builds(SolMaxRt, u32),
    st.builds(InfMaxRt, u32),
    st.builds(RelaySourcePort, u16),
    raw_option(),
)
sub = st.one_of(st.builds(StatusCode, u16, text), raw_option())
iaaddr = st.builds(IAAddr, addr, u32, u32, st.lists(sub, max_size=2))
iaprefix = st.builds(IAPrefix, u32, u32, st.integers(0, 128), addr, st.lists(sub, max_size=2))
ia_opts = st.lists(st.one_of(iaaddr, sub), max_size=3)
option: st.SearchStrategy[Option6] = st.one_of(
    leaf,
    iaaddr,
    iaprefix,
    st.builds(IANA, u32, u32, u32, ia_opts),
    st.builds(IATA, u32, ia_opts),
    st.builds(IAPD, u32, u32, u32, st.lists(st.one_of(iaprefix, sub), max_size=3)),
)
client_type = st.integers(0, 255).filter(lambda t: t not in (12, 13))
client_message = st.builds(Message6, client_type, st.integers(0, 0xFFFFFF), st.lists(option, max_size=8))
relay_extra = st.lists(
    st.one_of(
        st.builds(InterfaceId, blob),
        st.builds(RelaySourcePort, u16),
        st.builds(RemoteId, u32, blob),
        st.builds(SubscriberId, blob),
        raw_option(frozenset({9})),
    ),
    max_size=3,
)
relay_layer = st.tuples(st.sampled_from([12, 13]), u8, addr, addr, relay_extra, st.integers(0, 3))


def build_chain(
    inner: Message6, layers: list[tuple[int, int, IPv6Address, IPv6Address, list[Option6], int]]
) -> Any:
    msg: Message6 | RelayMessage6 = inner
    for mtype, hop, link, peer, extra, pos in layers:
        opts = list(extra)
        opts.insert(min(pos, len(opts)), RelayMsg(msg))
        msg = RelayMessage6(mtype, hop, link, peer, opts)
    return msg


# --- helpers ---------------------------------------------------------------------------------------


def assert_same(orig: Option6, parsed: Option6) -> None:
    """``parsed`` (raw, from the wire) decodes back to exactly what ``orig`` described."""
    assert parsed.code == orig.code
    if isinstance(orig, RawOption):
        assert parsed.to_wire() == orig.data
        return
    decoded = type(orig).from_wire(parsed.to_wire())
    if isinstance(orig, RelayMsg):
        assert isinstance(decoded, RelayMsg)
        assert_same_message(orig.message, decoded.message)
    elif isinstance(orig, OptionContainer):
        assert isinstance(decoded, OptionContainer)
        assert isinstance(orig, Option6)
        for name in orig._FIELDS:
            if name != "options":
                assert getattr(decoded, name) == getattr(orig, name), name
        assert len(decoded.options) == len(orig.options)
        for a, b in zip(orig.options, decoded.options, strict=True):
            assert_same(a, b)
    else:
        assert decoded == orig


def assert_same_message(orig: Message6 | RelayMessage6, parsed: Message6 | RelayMessage6) -> None:
    assert type(parsed) is type(orig)
    if isinstance(orig, RelayMessage6):
        assert isinstance(parsed, RelayMessage6)
        assert (parsed.msg_type, parsed.hop_count, parsed.link_address, parsed.peer_address) == (
            orig.msg_type,
            orig.hop_count,
            orig.link_address,
            orig.peer_address,
        )
    else:
        assert isinstance(parsed, Message6)
        assert (parsed.msg_type, parsed.transaction_id) == (orig.msg_type, orig.transaction_id)
    assert len(parsed.options) == len(orig.options)
    for a, b in zip(orig.options, parsed.options, strict=True):
        assert_same(a, b)


def check_bytes(data: bytes) -> None:
    """The fuzz oracle: parse6 either raises FormError or returns a message that re-encodes to ``data``,
    whose every known option decodes or raises FormError, and whose display never raises."""
    try:
        msg = parse6(data)
    except FormError as exc:
        assert exc.reason and isinstance(exc.reason, str)
        return
    assert encode6(msg) == data
    json.dumps(message6_to_json(msg))
    inner, chain = unwrap_relay(msg)
    for m in [*chain, inner]:
        for opt in m.options:
            cls = OPTION_CLASSES.get(opt.code)
            if cls is not None:
                try:
                    typed = cls.from_wire(opt.to_wire())
                except FormError:
                    continue
                assert typed.to_wire() == opt.to_wire() or isinstance(typed, LOSSY_TEXT)
                json.dumps(typed.to_json())
            json.dumps(decode_option6_for_display(opt.code, opt.to_wire()))
    for getter in (
        "client_id",
        "server_id",
        "ia_na",
        "ia_ta",
        "ia_pd",
        "oro",
        "elapsed_time",
        "rapid_commit",
    ):
        try:
            getattr(inner, getter)
        except FormError:
            pass


# --- round trips -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client_message)
def test_client_message_round_trip(msg: Message6) -> None:
    wire = encode6(msg)
    parsed = parse6(wire)
    assert encode6(parsed) == wire
    assert_same_message(msg, parsed)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client_message, st.lists(relay_layer, min_size=1, max_size=8))
def test_relay_chain_round_trip(inner: Message6, layers: list[Any]) -> None:
    msg = build_chain(inner, layers)
    wire = encode6(msg)
    parsed = parse6(wire)
    assert encode6(parsed) == wire
    assert_same_message(msg, parsed)
    got_inner, chain = unwrap_relay(parsed)
    assert len(chain) == len(layers)
    assert encode6(got_inner) == encode6(inner)
    assert [(r.msg_type, r.hop_count, r.link_address, r.peer_address) for r in chain] == [
        (t, h, link, peer) for t, h, link, peer, _, _ in reversed(layers)
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(client_message, st.lists(relay_layer, min_size=1, max_size=8), st.integers(0, 0xFFFFFF))
def test_wrap_mirrors_the_chain(inner: Message6, layers: list[Any], xid: int) -> None:
    _, chain = unwrap_relay(parse6(encode6(build_chain(inner, layers))))
    reply = Message6(MessageType6.REPLY, xid, [StatusCode(0, "ok")])
    wrapped = parse6(encode6(wrap_relay_reply(reply, chain)))
    back_inner, back_chain = unwrap_relay(wrapped)
    assert encode6(back_inner) == encode6(reply)
    assert len(back_chain) == len(chain)
    for forw, repl in zip(chain, back_chain, strict=True):
        assert repl.msg_type == MessageType6.RELAY_REPL
        assert (repl.hop_count, repl.link_address, repl.peer_address) == (
            forw.hop_count,
            forw.link_address,
            forw.peer_address,
        )
        echoed = [o for o in forw.options if o.code in (18, 135)]
        assert [o.to_wire() for o in repl.options if o.code != 9] == [o.to_wire() for o in echoed]


# --- fuzzing ---------------------------------------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda t, rest: bytes([t]) + rest, st.sampled_from([1, 3, 7, 12, 13]), st.binary(max_size=200)
        ),
    )
)
def test_random_bytes_only_raise_form_error(data: bytes) -> None:
    check_bytes(data)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(VECTOR_BYTES), st.data())
def test_mutated_vectors_only_raise_form_error(vector: bytes, data: st.DataObject) -> None:
    buf = bytearray(vector)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "truncate", "length", "insert", "delete"]))
        pos = data.draw(st.integers(0, max(0, len(buf) - 1)))
        if kind == "flip" and buf:
            buf[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "truncate":
            del buf[pos:]
        elif kind == "length" and len(buf) >= 2:
            value = data.draw(st.sampled_from([0, 1, 0xFFFF, len(buf), len(buf) + 1]) | u16)
            buf[pos : pos + 2] = value.to_bytes(2, "big")
        elif kind == "insert":
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del buf[pos : pos + data.draw(st.integers(1, 8))]
    check_bytes(bytes(buf))


@pytest.mark.parametrize("index", range(len(VECTOR_BYTES)))
def test_every_truncation_and_length_overflow(index: int) -> None:
    vector = VECTOR_BYTES[index]
    for cut in range(len(vector)):
        with pytest.raises(FormError):
            parse6(vector[:cut]) if cut < 4 else _must_fail_or_roundtrip(vector[:cut])
    for pos in range(len(vector) - 1):
        for value in (0xFFFF, len(vector) - pos):
            mutated = bytearray(vector)
            mutated[pos : pos + 2] = value.to_bytes(2, "big")
            check_bytes(bytes(mutated))


def _must_fail_or_roundtrip(data: bytes) -> None:
    """A strict prefix of a valid packet either fails or (cut at an option boundary) re-encodes exactly."""
    try:
        msg = parse6(data)
    except FormError:
        raise
    assert encode6(msg) == data
    raise FormError("prefix parsed cleanly at an option boundary", "ok-prefix")
