"""The DHCPv4 options with inner structure: relay agent information sub-options (option 82, RFC 3046)
and the client FQDN (option 81, RFC 4702)."""

from __future__ import annotations

from typing import ClassVar, Final

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError

__all__ = ["FQDN_E", "FQDN_N", "FQDN_O", "FQDN_S", "ClientFqdn", "encode_suboptions", "parse_suboptions"]


def parse_suboptions(data: bytes) -> dict[int, bytes]:
    """Option 82 (and other encapsulated) TLV sub-options; repeated codes are concatenated."""
    out: dict[int, bytes] = {}
    pos = 0
    end = len(data)
    while pos < end:
        if pos + 2 > end:
            raise FormError("sub-option header truncated", "bad-suboption")
        code = data[pos]
        length = data[pos + 1]
        stop = pos + 2 + length
        if stop > end:
            raise FormError(f"sub-option {code} runs past the end of its option", "bad-suboption")
        body = bytes(data[pos + 2 : stop])
        out[code] = out[code] + body if code in out else body
        pos = stop
    return out


def encode_suboptions(subs: dict[int, bytes]) -> bytes:
    """TLV sub-options in order; a body longer than 255 bytes is split into several (RFC 3396 style)."""
    out = bytearray()
    for code, body in subs.items():
        for i in range(0, max(len(body), 1), 255):
            chunk = body[i : i + 255]
            out.append(code)
            out.append(len(chunk))
            out += chunk
    return bytes(out)


def _fqdn_labels(body: bytes) -> str:
    """RFC 4702 §2.3.1 canonical wire form: labels, ending in a zero label (fully qualified) or
    not (a partial name such as a bare host label, as dhclient sends); no compression."""
    if not body:
        return ""
    try:
        name, pos, _ = values.decode_name(body, 0, len(body), allow_partial=True)
    except FormError as exc:
        raise FormError(f"client FQDN: {exc}", "bad-fqdn") from None
    if pos != len(body):
        raise FormError("data after the root label of the client FQDN", "bad-fqdn")
    return name


FQDN_S: Final = 0x01  # the server does the A record update
FQDN_O: Final = 0x02  # the server overrode the client's S
FQDN_E: Final = 0x04  # the name is in RFC 1035 wire form
FQDN_N: Final = 0x08  # no update at all


class ClientFqdn:
    """Option 81 (RFC 4702 §2): flags, two deprecated rcodes and a name (wire form if E is set)."""

    __slots__ = ("flags", "name")
    FLAG_S: ClassVar[int] = FQDN_S
    FLAG_O: ClassVar[int] = FQDN_O
    FLAG_E: ClassVar[int] = FQDN_E
    FLAG_N: ClassVar[int] = FQDN_N

    def __init__(self, flags: int, name: str) -> None:
        self.flags = flags
        self.name = name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClientFqdn):
            return NotImplemented
        return self.flags == other.flags and self.name == other.name

    def __hash__(self) -> int:
        return hash((self.flags, self.name))

    def __repr__(self) -> str:
        return f"ClientFqdn(flags={self.flags:#04x}, name={self.name!r})"

    @classmethod
    def from_wire(cls, data: bytes) -> ClientFqdn:
        if len(data) < 3:
            raise FormError("client FQDN option shorter than 3 bytes", "bad-fqdn")
        flags = data[0]
        body = bytes(data[3:])
        name = _fqdn_labels(body) if flags & FQDN_E else body.decode("ascii", "backslashreplace")
        return cls(flags, name)

    def to_wire(self) -> bytes:
        if self.flags & FQDN_E:
            body = b"" if not self.name else values.encode_domain(self.name)
        else:
            body = self.name.encode("ascii")
        return bytes((self.flags, 255, 255)) + body
