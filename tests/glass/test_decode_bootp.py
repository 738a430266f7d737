"""The looking glass names a BOOTP exchange (no option 53) by the header's op, as the stats do for
the reply: BOOTREQUEST in, BOOTREPLY out (it named both "BOOTP")."""

from __future__ import annotations

from dhcpbridge.glass.decode import message4_to_json, type_name4
from dhcpbridge.wire.v4.message import BOOTREPLY, Message4, encode, parse


def bootp(op: int) -> Message4:
    return parse(encode(Message4(op=op, xid=7, chaddr=bytes.fromhex("020000000001"), cookie=False)))


def test_bootp_request_and_reply_are_named_by_op() -> None:
    assert type_name4(bootp(1)) == "BOOTREQUEST"
    assert type_name4(bootp(BOOTREPLY)) == "BOOTREPLY"
    assert message4_to_json(bootp(BOOTREPLY))["type"] == "BOOTREPLY"


def test_dhcp_messages_keep_option_53_names() -> None:
    msg = parse(encode(Message4(xid=7, chaddr=bytes.fromhex("020000000001"), options={53: b"\x01"})))
    assert type_name4(msg) == "DHCPDISCOVER"
