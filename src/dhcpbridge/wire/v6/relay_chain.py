"""The relay chain of a relayed DHCPv6 client as bytes, to keep with its lease: the RELAY-FORW
layers that carried the client's last message, outermost first, with the client's message left
out (the innermost layer has no Relay Message option). That is the DHCP-relay-message of RFC 5007
§4.1.2.4's OPTION_LQ_RELAY_DATA as it stands, and what a server needs to reach the client again
through the same relays: RFC 8415 §18.3.11 / §19.3, a Reconfigure to a client that is not on a
link of the server goes in one RELAY-REPL per relay, each with the hop count, link-address,
peer-address and Interface-ID of the RELAY-FORW it answers (``wrap``). Sans-IO."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from ipaddress import IPv6Address

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import (
    MAX_RELAY_DEPTH,
    Message6,
    RelayMessage6,
    encode6,
    parse6,
    wrap_relay_reply,
)
from dhcpbridge.wire.v6.options import encode_options, parse_options

__all__ = ["chain_bytes", "parse_chain", "wrap"]

_HDR = struct.Struct("!BB16s16s")
_OPT = struct.Struct("!HH")
RELAY_FORW, RELAY_MSG = 12, 9


def chain_bytes(chain: Sequence[RelayMessage6]) -> bytes:
    """The RELAY-FORW layers of ``chain`` (outermost first, as ``unwrap_relay`` gives them)
    nested as they came, each with its own options, the innermost without the client message."""
    out = b""
    for forw in reversed(chain):
        body = _HDR.pack(RELAY_FORW, forw.hop_count, forw.link_address.packed, forw.peer_address.packed)
        body += encode_options([o for o in forw.options if o.code != RELAY_MSG])
        if out:
            body += _OPT.pack(RELAY_MSG, len(out)) + out
        out = body
    return out


def parse_chain(data: bytes) -> list[RelayMessage6]:
    """The layers of ``chain_bytes`` back, outermost first, without their Relay Message options;
    ``FormError`` when it is not such a chain."""
    out: list[RelayMessage6] = []
    while data:
        if len(data) < _HDR.size or data[0] != RELAY_FORW:
            raise FormError("not a RELAY-FORW layer", "bad-relay")
        if len(out) >= MAX_RELAY_DEPTH:
            raise FormError(f"more than {MAX_RELAY_DEPTH} nested relay messages", "relay-depth")
        _, hops, link, peer = _HDR.unpack_from(data)
        options = parse_options(data, _HDR.size, len(data))
        inner = [o for o in options if o.code == RELAY_MSG]
        if len(inner) > 1:
            raise FormError("relay message with more than one Relay Message option", "bad-relay")
        out.append(
            RelayMessage6(
                RELAY_FORW,
                hops,
                IPv6Address(link),
                IPv6Address(peer),
                [o for o in options if o.code != RELAY_MSG],
            )
        )
        data = inner[0].to_wire() if inner else b""
    return out


def wrap(message: bytes, chain: bytes) -> bytes:
    """``message`` (a server's message, e.g. a signed RECONFIGURE) in one RELAY-REPL per layer of
    ``chain``: the bytes of ``message`` are carried unchanged (a signature stays valid)."""
    inner = parse6(message)
    if not isinstance(inner, Message6):
        raise FormError("only a client/server message goes into RELAY-REPLs", "bad-relay")
    return encode6(wrap_relay_reply(inner, parse_chain(chain)))
