"""A lease's address between its integer (``Lease.address``) and its text form, as the stores
write it (SQLite rows, the Redis hash, PostgreSQL's ``inet``): one implementation for all."""

from __future__ import annotations

import socket
from typing import Final

from dhcpbridge.engine.model import LeaseKind

__all__ = ["addr_int", "addr_text"]

# Final: compiled, C statics; ``socket.inet_ntop`` and ``socket.AF_INET6`` would be two module
# attribute lookups on every lease the SQLite store writes
_V4: Final = LeaseKind.V4
_AF_INET6: Final = socket.AF_INET6
_inet_ntop: Final = socket.inet_ntop
_inet_ntoa: Final = socket.inet_ntoa


def addr_text(kind: LeaseKind, addr: int) -> str:
    """``addr`` as text: dotted quad for IPv4, RFC 5952 for IPv6 (``str(IPv6Address(addr))``)."""
    if kind == _V4:
        return _inet_ntoa(addr.to_bytes(4, "big"))
    if addr >> 32 in (0, 0xFFFF):  # ::/96 and ::ffff:0:0/96: libc writes them dotted; keep ipaddress's text
        import ipaddress

        return str(ipaddress.IPv6Address(addr))
    # the same RFC 5952 text as str(ipaddress.IPv6Address(addr)), ten times faster (0.3 vs 3 µs)
    return _inet_ntop(_AF_INET6, addr.to_bytes(16, "big"))


def addr_int(kind: LeaseKind, text: str) -> int:
    """The address ``text`` (as ``addr_text`` writes it) as an integer."""
    if kind == LeaseKind.V4:
        return int.from_bytes(socket.inet_aton(text), "big")
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
