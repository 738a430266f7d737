"""``server.admission.starts_exchange``: which datagrams start an exchange (DHCPDISCOVER,
SOLICIT, relayed or not), read from the raw bytes before any parsing."""

from __future__ import annotations

import ipaddress

from dhcpbridge.server.admission import starts_exchange
from dhcpbridge.wire.v4.message import Message4, encode
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.relay_chain import RELAY_FORW

LINK = ipaddress.IPv6Address("fd68::1").packed
PEER = ipaddress.IPv6Address("fe80::2").packed


def v4(message_type: int, before: dict[int, bytes] | None = None) -> bytes:
    options = {**(before or {}), 53: bytes([message_type])}
    return encode(Message4(xid=7, hlen=6, chaddr=b"\x02\x00\x00\x00\x00\x01", options=options))


def v6(message_type: int) -> bytes:
    return bytes([message_type, 0, 0, 1]) + b"\x00\x01\x00\x04\x00\x03\x00\x01"  # + a client id


def relayed(inner: bytes, hops: int = 1) -> bytes:
    for hop in range(hops):
        option = int(OptionCode6.RELAY_MSG).to_bytes(2, "big") + len(inner).to_bytes(2, "big") + inner
        interface_id = b"\x00\x12\x00\x03eth"
        inner = bytes([RELAY_FORW, hop]) + LINK + PEER + interface_id + option
    return inner


def test_a_discover_starts_an_exchange_and_the_other_v4_types_do_not() -> None:
    assert starts_exchange("v4", v4(1))
    assert starts_exchange("v4", v4(1, {12: b"host", 61: b"\x01abcdef"}))  # 53 after other options
    for kind in (3, 4, 7, 8):  # REQUEST, DECLINE, RELEASE, INFORM
        assert not starts_exchange("v4", v4(kind))


def test_a_solicit_starts_an_exchange_also_behind_relays() -> None:
    assert starts_exchange("v6", v6(1))
    assert starts_exchange("v6", relayed(v6(1)))
    assert starts_exchange("v6", relayed(v6(1), hops=3))
    for kind in (3, 5, 6, 11):  # REQUEST, RENEW, REBIND, INFORMATION-REQUEST
        assert not starts_exchange("v6", v6(kind))
        assert not starts_exchange("v6", relayed(v6(kind), hops=2))


def test_malformed_datagrams_do_not_count_as_new_and_do_not_raise() -> None:
    discover = v4(1)
    for data in (b"", b"\x01", discover[:240], discover[:242], discover[:236] + b"xxxx" + discover[240:]):
        assert not starts_exchange("v4", data)
    assert not starts_exchange("v4", discover[:240] + b"\x00" * 20)  # pads only, no option 53
    truncated = relayed(v6(1))[:40]
    assert not starts_exchange("v6", truncated)
    assert not starts_exchange("v6", relayed(b""))
    assert not starts_exchange("v6", bytes([RELAY_FORW]) * 60)  # a relay header without options
