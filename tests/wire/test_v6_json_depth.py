"""``message6_to_json`` on hostile nesting (issue 9 point 7): a message whose options nest options
(Relay Message inside a client message, IA_NA inside IA_NA, ...) renders deep levels as hex instead
of recursing until the stack runs out; a legitimate 32-hop relay chain is still decoded whole."""

from __future__ import annotations

import json
import struct
from ipaddress import IPv6Address
from typing import Any

import pytest

from dhcpbridge.wire.v6.message import (
    MAX_RELAY_DEPTH,
    Message6,
    RelayMessage6,
    RelayMsg,
    message6_to_json,
    parse6,
)


def opt(code: int, body: bytes) -> bytes:
    return struct.pack("!HH", code, len(body)) + body


def nested_relay_msg(levels: int) -> bytes:
    """A SOLICIT whose option 9 holds a SOLICIT whose option 9 holds ... (2 KB for 250 levels)."""
    msg = b"\x01\x00\x00\x01"
    for _ in range(levels):
        msg = b"\x01\x00\x00\x01" + opt(9, msg)
    return msg


def nested_ia_na(levels: int) -> bytes:
    body = b""
    for _ in range(levels):
        body = opt(3, struct.pack("!III", 1, 0, 0) + body)
    return b"\x01\x00\x00\x01" + body


def depth(doc: Any) -> int:
    if isinstance(doc, dict):
        return 1 + max((depth(v) for v in doc.values()), default=0)
    if isinstance(doc, list):
        return 1 + max((depth(v) for v in doc), default=0)
    return 0


@pytest.mark.parametrize("data", [nested_relay_msg(250), nested_relay_msg(3000), nested_ia_na(3000)])
def test_hostile_nesting_is_cut_off_not_a_recursion_error(data: bytes) -> None:
    doc = message6_to_json(parse6(data))
    text = json.dumps(doc)
    assert '"nested-too-deep": true' in text
    assert depth(doc) <= 200  # a few levels of dict and list per nesting level, at most 40 levels


def test_a_full_relay_chain_is_decoded_whole() -> None:
    inner: Message6 | RelayMessage6 = Message6(1, 0x42, [])
    for hop in range(MAX_RELAY_DEPTH):
        inner = RelayMessage6(12, hop, IPv6Address("2001:db8::1"), IPv6Address("fe80::1"), [RelayMsg(inner)])
    doc = message6_to_json(inner)
    assert "nested-too-deep" not in json.dumps(doc)
    for _ in range(MAX_RELAY_DEPTH):
        doc = doc["options"][0]["value"]
    assert doc["transaction_id"] == "0x000042"
