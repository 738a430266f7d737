"""The relay chain a lease keeps (``wire.v6.relay_chain``): the RELAY-FORW layers without the
client's message, back to the same layers, and a server message wrapped in one RELAY-REPL per
layer (RFC 8415 §19.3: hop count, link- and peer-address, Interface-ID and Relay Source Port
echoed) with its bytes unchanged."""

from __future__ import annotations

from ipaddress import IPv6Address

import pytest

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6, parse6, unwrap_relay
from dhcpbridge.wire.v6.options import RawOption
from dhcpbridge.wire.v6.relay_chain import chain_bytes, parse_chain, wrap

CLIENT_DUID = bytes.fromhex("00030001027500000001")
SOLICIT = Message6(1, 0x1234, [RawOption(1, CLIENT_DUID), RawOption(8, b"\x00\x00")])


def two_relays() -> RelayMessage6:
    """A client behind two relays: the inner one adds an Interface-ID and a Remote-ID, the outer
    one a Relay Source Port."""
    inner = RelayMessage6(
        12,
        0,
        IPv6Address("2001:db8:1::1"),
        IPv6Address("fe80::75:1"),
        [RawOption(18, b"eth7"), RawOption(37, b"\x00\x00\x09\xbfsub-7"), RelayMsg(SOLICIT)],
    )
    return RelayMessage6(
        12,
        1,
        IPv6Address("2001:db8:2::1"),
        IPv6Address("2001:db8:1::1"),
        [RelayMsg(inner), RawOption(135, b"\x00\x00")],
    )


def test_the_chain_leaves_the_client_message_out_and_parses_back() -> None:
    outer = two_relays()
    _, chain = unwrap_relay(parse6(encode6(outer)))
    data = chain_bytes(chain)
    assert data[0] == 12 and CLIENT_DUID not in data  # no client message in it
    back = parse_chain(data)
    assert [(r.hop_count, r.link_address, r.peer_address) for r in back] == [
        (1, IPv6Address("2001:db8:2::1"), IPv6Address("2001:db8:1::1")),
        (0, IPv6Address("2001:db8:1::1"), IPv6Address("fe80::75:1")),
    ]
    assert [o.code for o in back[0].options] == [135]
    assert back[1].raw(18) == b"eth7" and back[1].raw(37) == b"\x00\x00\x09\xbfsub-7"
    assert parse_chain(b"") == []


def test_a_message_goes_back_in_one_relay_repl_per_relay_unchanged() -> None:
    _, chain = unwrap_relay(parse6(encode6(two_relays())))
    message = bytes.fromhex("0a000000") + bytes.fromhex("000100040a0b0c0d")  # any server message
    data = wrap(message, chain_bytes(chain))
    outer = parse6(data)
    assert isinstance(outer, RelayMessage6) and outer.msg_type == 13 and outer.hop_count == 1
    assert outer.peer_address == IPv6Address("2001:db8:1::1") and outer.has(135)
    inner = outer.message
    assert isinstance(inner, RelayMessage6) and inner.msg_type == 13 and inner.hop_count == 0
    assert inner.peer_address == IPv6Address("fe80::75:1") and inner.link_address == IPv6Address(
        "2001:db8:1::1"
    )
    assert inner.raw(18) == b"eth7" and not inner.has(37)  # Interface-ID echoed, Remote-ID not
    assert encode6(inner.message) == message  # type: ignore[arg-type]
    assert data.endswith(message)


@pytest.mark.parametrize("bad", [b"\x0d" + bytes(33), b"\x0c" + bytes(10)])
def test_not_a_chain(bad: bytes) -> None:
    with pytest.raises(FormError):
        parse_chain(bad)
