"""DHCPv6 message framing (RFC 8415 §8-9), relay nesting limits, and the relay wrap/unwrap helpers."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import (
    MAX_RELAY_DEPTH,
    Message6,
    RelayMessage6,
    RelayMsg,
    encode6,
    message6_to_json,
    parse6,
    reply_skeleton,
    unwrap_relay,
    wrap_relay_reply,
)
from dhcpbridge.wire.v6.options import (
    IANA,
    ClientId,
    DnsServers,
    EchoRequest,
    ElapsedTime,
    IAAddr,
    InterfaceId,
    MessageType6,
    Option6,
    OptionCode6,
    OptionRequest,
    RapidCommit,
    RawOption,
    RelaySourcePort,
    RemoteId,
    ServerId,
    SubscriberId,
)

CLIENT = Duid(bytes.fromhex("000100013299d0e2000c01020304"))
SERVER = Duid.en(2495, b"srv")
LINK = IPv6Address("fd68::2")
PEER = IPv6Address("fe80::67:ff:fe00:2")
ZERO = IPv6Address("::")


def solicit() -> Message6:
    return Message6(
        MessageType6.SOLICIT,
        0xABCDEF,
        [ClientId(CLIENT), IANA(1, 3600, 5400), OptionRequest([23, 24]), ElapsedTime(0), RapidCommit()],
    )


def forw(
    inner: Message6 | RelayMessage6, *extra: Option6, hop: int = 0, link: IPv6Address = LINK
) -> RelayMessage6:
    return RelayMessage6(MessageType6.RELAY_FORW, hop, link, PEER, [*extra, RelayMsg(inner)])


def test_client_message_layout() -> None:
    wire = encode6(Message6(MessageType6.REPLY, 0x010203, [ElapsedTime(1)]))
    assert wire == bytes.fromhex("07010203" + "000800020001")
    assert encode6(Message6(MessageType6.SOLICIT, 0)) == b"\x01\x00\x00\x00"


def test_relay_message_layout() -> None:
    inner = Message6(MessageType6.SOLICIT, 1)
    wire = encode6(
        RelayMessage6(MessageType6.RELAY_FORW, 3, LINK, PEER, [InterfaceId(b"e0"), RelayMsg(inner)])
    )
    assert wire == bytes.fromhex(
        "0c" + "03" + LINK.packed.hex() + PEER.packed.hex() + "00120002" + "6530" + "00090004" + "01000001"
    )


def test_parse_properties() -> None:
    msg = parse6(encode6(solicit()))
    assert isinstance(msg, Message6)
    assert msg.msg_type == MessageType6.SOLICIT and msg.type_name == "SOLICIT"
    assert msg.transaction_id == 0xABCDEF
    assert msg.client_id == CLIENT and msg.server_id is None
    assert [(ia.iaid, ia.t1, ia.t2) for ia in msg.ia_na] == [(1, 3600, 5400)]
    assert msg.ia_pd == [] and msg.ia_ta == []
    assert msg.oro == [23, 24] and msg.elapsed_time == 0 and msg.rapid_commit
    assert all(isinstance(o, RawOption) for o in msg.options)  # nothing decoded until asked
    assert Message6(99, 0).type_name == "TYPE-99"
    bare = Message6(MessageType6.SOLICIT, 0)
    assert bare.oro == [] and bare.elapsed_time is None and not bare.rapid_commit


@pytest.mark.parametrize(
    ("hex_data", "reason"),
    [
        ("", "truncated"),
        ("010203", "truncated"),
        ("01000000" + "0001", "truncated"),
        ("01000000" + "00010004" + "0000", "bad-length"),
        ("0c00" + "00" * 31, "truncated"),
        ("0c00" + "00" * 32, "no-relay-msg"),
        ("0d00" + "00" * 32 + "00120000", "no-relay-msg"),
        ("0c00" + "00" * 32 + "00090004" + "01000000" + "00090004" + "01000000", "bad-relay"),
        ("0c00" + "00" * 32 + "00090002" + "0100", "truncated"),
        ("0c00" + "00" * 32 + "00090005" + "01000000", "bad-length"),
    ],
)
def test_parse_errors(hex_data: str, reason: str) -> None:
    with pytest.raises(FormError) as exc:
        parse6(bytes.fromhex(hex_data))
    assert exc.value.reason == reason


def nest(depth: int) -> bytes:
    msg: Message6 | RelayMessage6 = Message6(MessageType6.SOLICIT, 7)
    for hop in range(depth):
        msg = forw(msg, hop=hop % 256)
    return encode6(msg)


def test_relay_depth_limit() -> None:
    ok = parse6(nest(MAX_RELAY_DEPTH))
    inner, chain = unwrap_relay(ok)
    assert len(chain) == MAX_RELAY_DEPTH and inner.transaction_id == 7
    with pytest.raises(FormError) as exc:
        parse6(nest(MAX_RELAY_DEPTH + 1))
    assert exc.value.reason == "relay-depth"
    with pytest.raises(FormError) as exc:
        parse6(nest(3), max_depth=2)
    assert exc.value.reason == "relay-depth"
    assert parse6(nest(2), max_depth=2) is not None
    # A pathological chain (1500 layers, ~57 KB, built without the encoder) is refused early.
    wire = b"\x01\x00\x00\x07"
    for _ in range(1500):
        wire = b"\x0c\x00" + LINK.packed + PEER.packed + b"\x00\x09" + len(wire).to_bytes(2, "big") + wire
    with pytest.raises(FormError) as exc:
        parse6(wire)
    assert exc.value.reason == "relay-depth"


def test_encode_rejects_bad_headers() -> None:
    with pytest.raises(ValueError, match="transaction_id"):
        encode6(Message6(1, 1 << 24))
    with pytest.raises(ValueError, match="msg_type"):
        encode6(Message6(256, 0))
    with pytest.raises(ValueError, match="msg_type=12"):
        encode6(Message6(MessageType6.RELAY_FORW, 0))
    with pytest.raises(ValueError, match="must be 12 or 13"):
        encode6(RelayMessage6(1, 0, LINK, PEER, []))
    with pytest.raises(ValueError, match="hop_count"):
        encode6(RelayMessage6(12, 256, LINK, PEER, []))
    with pytest.raises(TypeError):
        encode6("not a message")  # type: ignore[arg-type]


def test_relay_msg_option_and_message_property() -> None:
    relay = forw(solicit())
    assert relay.message == solicit()
    assert relay.type_name == "RELAY_FORW" and relay.interface_id is None
    # A hand-built relay whose option 9 is still raw decodes on demand.
    raw_relay = RelayMessage6(12, 0, LINK, PEER, [RawOption(9, encode6(solicit()))])
    assert raw_relay.message is not None and encode6(raw_relay.message) == encode6(solicit())
    assert RelayMsg.from_wire(encode6(solicit())).to_wire() == encode6(solicit())
    assert RelayMessage6(12, 0, LINK, PEER, []).message is None


def test_unwrap_plain_message() -> None:
    msg = solicit()
    assert unwrap_relay(msg) == (msg, [])
    assert wrap_relay_reply(msg, []) is msg


def test_unwrap_without_relay_msg_is_a_form_error() -> None:
    with pytest.raises(FormError) as exc:
        unwrap_relay(RelayMessage6(12, 0, LINK, PEER, []))
    assert exc.value.reason == "no-relay-msg"


def test_wrap_two_hops_copies_addresses_interface_id_and_source_port() -> None:
    # Client -> LDRA (RFC 6221: link-address ::, Interface-ID) -> relay with RFC 8357 source port.
    ldra = forw(solicit(), InterfaceId(b"port7"), RemoteId(9, b"r"), hop=0, link=ZERO)
    outer = forw(ldra, RelaySourcePort(0), SubscriberId(b"s1"), InterfaceId(b"vlan10"), hop=1)
    received = parse6(encode6(outer))
    inner, chain = unwrap_relay(received)
    assert [r.hop_count for r in chain] == [1, 0]
    assert [r.link_address for r in chain] == [LINK, ZERO]
    assert inner.transaction_id == 0xABCDEF

    reply = reply_skeleton(inner, MessageType6.ADVERTISE, ServerId(SERVER))
    wrapped = wrap_relay_reply(reply, chain)
    assert isinstance(wrapped, RelayMessage6)
    assert wrapped.msg_type == MessageType6.RELAY_REPL
    assert (wrapped.hop_count, wrapped.link_address, wrapped.peer_address) == (1, LINK, PEER)
    # Source port and Interface-ID echoed in their RELAY-FORW order; Subscriber-ID not (no ERO).
    assert wrapped.codes() == [OptionCode6.RELAY_SOURCE_PORT, OptionCode6.INTERFACE_ID, OptionCode6.RELAY_MSG]
    assert wrapped.get(RelaySourcePort) == RelaySourcePort(0)
    assert wrapped.interface_id == b"vlan10"
    second = wrapped.message
    assert isinstance(second, RelayMessage6)
    assert (second.msg_type, second.hop_count, second.link_address) == (13, 0, ZERO)
    assert second.codes() == [OptionCode6.INTERFACE_ID, OptionCode6.RELAY_MSG]
    assert second.interface_id == b"port7"
    # On the wire and back: the reply sits innermost, intact.
    back_inner, back_chain = unwrap_relay(parse6(encode6(wrapped)))
    assert [r.msg_type for r in back_chain] == [13, 13]
    assert encode6(back_inner) == encode6(reply)


def test_wrap_echoes_ero_requested_options() -> None:
    relay = forw(solicit(), RemoteId(9, b"r"), SubscriberId(b"s"), EchoRequest([37, 9, 43, 99]))
    _, chain = unwrap_relay(parse6(encode6(relay)))
    wrapped = wrap_relay_reply(Message6(MessageType6.REPLY, 0xABCDEF), chain)
    assert isinstance(wrapped, RelayMessage6)
    assert wrapped.codes() == [OptionCode6.REMOTE_ID, OptionCode6.RELAY_MSG]
    assert wrapped.get(RemoteId) == RemoteId(9, b"r")


def test_wrap_ignores_malformed_ero() -> None:
    relay = forw(solicit(), RawOption(43, b"\x00"), InterfaceId(b"i"))
    wrapped = wrap_relay_reply(Message6(7, 1), [relay])
    assert isinstance(wrapped, RelayMessage6) and wrapped.codes() == [18, 9]


def test_reply_skeleton_echoes_client_id_bytes() -> None:
    req = parse6(encode6(solicit()))
    assert isinstance(req, Message6)
    server = RawOption.of(ServerId(SERVER))
    reply = reply_skeleton(req, MessageType6.ADVERTISE, server)
    reply.options += [
        IANA(1, 1000, 2000, [IAAddr(IPv6Address("fd67::100:1"), 3000, 4000)]),
        DnsServers([LINK]),
    ]
    out = parse6(encode6(reply))
    assert isinstance(out, Message6)
    assert (out.msg_type, out.transaction_id) == (MessageType6.ADVERTISE, 0xABCDEF)
    assert out.client_id == CLIENT and out.server_id == SERVER
    assert out.codes() == [1, 2, 3, 23]
    assert [str(a.address) for a in out.ia_na[0].addresses] == ["fd67::100:1"]
    assert reply_skeleton(Message6(11, 5), 7, server).codes() == [2]  # no client-id to echo


def test_message_json() -> None:
    j = message6_to_json(forw(solicit(), InterfaceId(b"\x01")))
    assert j["type"] == "RELAY_FORW" and j["link_address"] == str(LINK) and j["hop_count"] == 0
    assert j["options"][0] == {"code": 18, "name": "interface-id", "value": "01"}
    inner = j["options"][1]["value"]
    assert inner["type"] == "SOLICIT" and inner["transaction_id"] == "0xabcdef"
    assert [o["name"] for o in inner["options"]] == [
        "clientid",
        "ia-na",
        "oro",
        "elapsed-time",
        "rapid-commit",
    ]
    assert inner["options"][2]["value"] == ["dns-servers", "domain-list"]
