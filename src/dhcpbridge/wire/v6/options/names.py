"""Domain names in DHCPv6 options: RFC 1035 wire form without compression (RFC 8415 §10)."""

from __future__ import annotations

from collections.abc import Iterable

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError

__all__ = ["decode_name", "decode_names", "encode_names"]


def decode_name(data: bytes, pos: int, end: int, *, allow_partial: bool) -> tuple[str, int, bool]:
    """One uncompressed name starting at ``pos``; returns (name, next_pos, fully_qualified)."""
    labels: list[str] = []
    total = 0
    while True:
        if pos >= end:
            if allow_partial and labels:
                return ".".join(labels), pos, False
            raise FormError("domain name runs past the end of the option", "bad-domain")
        length = data[pos]
        if length == 0:
            return ".".join(labels), pos + 1, True
        if length > 63:
            raise FormError(f"label length {length} (compression is not allowed in DHCPv6)", "bad-domain")
        if pos + 1 + length > end:
            raise FormError("label runs past the end of the option", "bad-domain")
        total += length + 1
        if total > 255:
            raise FormError("domain name longer than 255 bytes", "bad-domain")
        labels.append(data[pos + 1 : pos + 1 + length].decode("ascii", "backslashreplace"))
        pos += 1 + length


def decode_names(data: bytes) -> list[str]:
    """A list of fully qualified names (RFC 8415 §10, no compression), e.g. the domain search list."""
    names: list[str] = []
    pos, end = 0, len(data)
    while pos < end:
        name, pos, _ = decode_name(data, pos, end, allow_partial=False)
        names.append(name)
    return names


def encode_names(names: Iterable[str]) -> bytes:
    """Fully qualified names in RFC 1035 wire form; ``ValueError`` on bad names."""
    return b"".join(values.encode_domain(n) for n in names)
