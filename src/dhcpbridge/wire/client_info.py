"""Decoders of what a client says about itself in raw options, both families (issue 13): the
RFC 2131 REQUEST state, RFC 4361 client ids, the client FQDN (option 81), user classes (RFC 3004
option 77 / DHCPv6 option 15), the vendor class (DHCPv6 option 16) and client architectures
(option 93 / DHCPv6 option 61). Each returns None when the option is absent or unusable: the
bridge question then leaves the field out (a source of truth gets what is there, never a guess);
client classes read the same values."""

from __future__ import annotations

import struct
from typing import Any

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.values import decode_name

_U16 = struct.Struct("!H")
BROADCAST = 0xFFFFFFFF


def text(data: bytes) -> str:
    """Bytes as the contract writes client strings: UTF-8 with ``\\xNN`` for bad bytes."""
    return data.decode("utf-8", "backslashreplace")


def request_state(q: Any) -> str | None:
    """RFC 2131 §4.3.2 state of a DHCPREQUEST: selecting (server id), init-reboot (requested
    address, no ciaddr), renewing (unicast with ciaddr) or rebinding (ciaddr, relayed or broadcast)."""
    req = q.request
    if q.msg_type != "DHCPREQUEST":
        return None
    if 54 in req.options:
        return "selecting"
    if q.requested_ip and not req.ciaddr:
        return "init-reboot"
    if req.ciaddr:
        meta = getattr(q, "meta", None)  # the Query protocol does not promise it
        broadcast = meta is not None and meta.dst_ip == BROADCAST
        return "rebinding" if req.giaddr or broadcast else "renewing"
    return None


def rfc4361(client_id: bytes) -> tuple[int, bytes] | None:
    """(IAID, DUID) of an RFC 4361 client identifier (type 255, IAID, DUID of 2+ bytes)."""
    if len(client_id) < 7 or client_id[0] != 0xFF:
        return None
    return int.from_bytes(client_id[1:5], "big"), client_id[5:]


def fqdn81(value: bytes | None) -> str | None:
    """The name of a DHCPv4 Client FQDN option (RFC 4702 §2.3: canonical wire form with the E
    flag, else ASCII)."""
    if not value or len(value) < 4:
        return None
    if value[0] & 0x04:
        try:
            name, _, full = decode_name(value, 3, len(value), allow_partial=True)
        except FormError:
            return None
        return (name + "." if full else name) if name else None  # as the v6 fqdn: "." = complete
    name = value[3:].rstrip(b"\0").decode("ascii", "backslashreplace")
    return name or None


def user_class4(value: bytes | None) -> list[str] | None:
    """Option 77 items (RFC 3004: length-prefixed); a client that sends one plain string (as
    many do) gets it as the one item."""
    if not value:
        return None
    items: list[str] = []
    pos = 0
    while pos < len(value):
        length = value[pos]
        if length == 0 or pos + 1 + length > len(value):
            return [text(value)]
        items.append(text(value[pos + 1 : pos + 1 + length]))
        pos += 1 + length
    return items


def _items16(data: bytes, pos: int) -> list[bytes] | None:
    """Items with a 16-bit length each (RFC 8415 §21.15, §21.16), None when malformed."""
    items: list[bytes] = []
    while pos < len(data):
        if pos + 2 > len(data):
            return None
        (length,) = _U16.unpack_from(data, pos)
        if pos + 2 + length > len(data):
            return None
        items.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
    return items


def user_class6(value: bytes | None) -> list[str] | None:
    """DHCPv6 User Class (15) items."""
    if not value:
        return None
    items = _items16(value, 0)
    return [text(i) for i in items] if items else None


def vendor_class6(value: bytes | None) -> str | None:
    """The first item of a DHCPv6 Vendor Class (16) after its enterprise number."""
    if value is None or len(value) < 4:
        return None
    items = _items16(value, 4)
    return text(items[0]) if items else None


def client_arch(value: bytes | None) -> list[int] | None:
    """Client System Architecture types (RFC 4578 option 93, RFC 5970 option 61)."""
    if not value or len(value) % 2:
        return None
    return [c for (c,) in _U16.iter_unpack(value)]
