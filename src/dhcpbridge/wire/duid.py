"""DHCP Unique Identifiers (RFC 8415 §11): parse, build and print DUIDs, stdlib only.

A DUID is opaque on the wire (RFC 8415 §11: compare for equality only), so :class:`Duid` keeps
the exact bytes in ``.raw`` and decodes the four standard types (LLT, EN, LL, UUID) lazily for
display and for building a stable server identifier. Text forms accepted in configuration:
``duid:000300010267...``, ``00:03:00:01:02:67:...``, plain hex, ``ll:02:67:00:00:00:01`` and
``en:2495:6c6f``.
"""

from __future__ import annotations

import struct
import uuid as _uuid
from enum import IntEnum
from typing import Any

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import U16, U16U16, U32
from dhcpbridge.wire.values import parse_hex, parse_id

__all__ = [
    "DUID_EPOCH_UNIX",
    "HWTYPE_ETHERNET",
    "MAX_DUID_LEN",
    "MIN_DUID_LEN",
    "Duid",
    "DuidType",
    "duid_time",
    "format_duid",
    "parse_duid_text",
    "server_duid_en",
    "server_duid_from_mac",
]

#: RFC 8415 §11.1: the identifier after the 2-byte type is 1..128 bytes.
MIN_DUID_LEN = 3
MAX_DUID_LEN = 130
#: IANA hardware type for Ethernet (RFC 826), the one used in DUID-LL/LLT from a MAC.
HWTYPE_ETHERNET = 1
#: DUID-LLT time counts seconds since midnight (UTC), January 1, 2000 (RFC 8415 §11.2).
DUID_EPOCH_UNIX = 946_684_800

_U16U32 = struct.Struct("!HI")
_U16U16U32 = struct.Struct("!HHI")


class DuidType(IntEnum):
    """DUID type codes (RFC 8415 §11.1, RFC 6355 for UUID)."""

    LLT = 1
    EN = 2
    LL = 3
    UUID = 4


def _mac_bytes(mac: str | bytes) -> bytes:
    if isinstance(mac, (bytes, bytearray)):
        if not mac:
            raise ValueError("a link-layer address: must not be empty")
        return bytes(mac)
    return parse_id(mac, "a link-layer address")


class Duid:
    """One DUID: the exact wire bytes plus lazy, read-only views of the standard types.

    Equality and hashing use the raw bytes only. ``str()`` is the colon-hex form Kea and ISC
    tools print (it parses back with :func:`parse_duid_text`); :meth:`describe` gives the
    decoded fields, e.g. ``"LLT hw=1 time=848937808 ll=02:67:00:00:00:02"``.
    """

    __slots__ = ("raw",)

    raw: bytes

    def __init__(self, raw: bytes | bytearray) -> None:
        n = len(raw)
        if n < MIN_DUID_LEN or n > MAX_DUID_LEN:
            raise FormError(f"DUID is {n} bytes, must be {MIN_DUID_LEN}..{MAX_DUID_LEN}", "bad-duid")
        self.raw = bytes(raw)

    # -- wire -------------------------------------------------------------------------------
    @classmethod
    def from_wire(cls, data: bytes | bytearray) -> Duid:
        """Wrap DUID bytes (RFC 8415 §11.1); only the length is checked: DUIDs are opaque."""
        return cls(data)

    def to_wire(self) -> bytes:
        return self.raw

    # -- builders ---------------------------------------------------------------------------
    @classmethod
    def llt(cls, hwtype: int, time: int, lladdr: str | bytes) -> Duid:
        """DUID-LLT (RFC 8415 §11.2): hardware type, time (seconds since 2000, see :func:`duid_time`), address."""
        return cls(_U16U16U32.pack(DuidType.LLT, hwtype, time & 0xFFFFFFFF) + _mac_bytes(lladdr))

    @classmethod
    def en(cls, enterprise: int, identifier: bytes) -> Duid:
        """DUID-EN (RFC 8415 §11.3): IANA private enterprise number and a vendor identifier."""
        if not identifier:
            raise ValueError("DUID-EN identifier must not be empty")
        return cls(_U16U32.pack(DuidType.EN, enterprise) + bytes(identifier))

    @classmethod
    def ll(cls, hwtype: int, lladdr: str | bytes) -> Duid:
        """DUID-LL (RFC 8415 §11.4): hardware type and link-layer address."""
        return cls(U16U16.pack(DuidType.LL, hwtype) + _mac_bytes(lladdr))

    @classmethod
    def from_uuid(cls, value: str | _uuid.UUID) -> Duid:
        """DUID-UUID (RFC 6355 §4): a 16-byte UUID."""
        u = value if isinstance(value, _uuid.UUID) else _uuid.UUID(str(value))
        return cls(U16.pack(DuidType.UUID) + u.bytes)

    # -- views ------------------------------------------------------------------------------
    @property
    def type(self) -> int:
        """The 2-byte DUID type code (a :class:`DuidType` value for the standard ones)."""
        return int(U16.unpack_from(self.raw)[0])

    def _ll_start(self) -> int:
        """Where the link-layer address of a DUID-LLT / DUID-LL starts; 0 for other DUIDs."""
        t = self.type
        if t == DuidType.LLT and len(self.raw) > 8:
            return 8
        if t == DuidType.LL and len(self.raw) > 4:
            return 4
        return 0

    def _is_en(self) -> bool:
        return self.type == DuidType.EN and len(self.raw) > 6

    @property
    def hwtype(self) -> int | None:
        """Hardware type of a DUID-LLT / DUID-LL, else None."""
        return int(U16.unpack_from(self.raw, 2)[0]) if self._ll_start() else None

    @property
    def time(self) -> int | None:
        """DUID-LLT time field (seconds since 2000-01-01 UTC, modulo 2**32), else None."""
        return int(U32.unpack_from(self.raw, 4)[0]) if self._ll_start() == 8 else None

    @property
    def link_layer_address(self) -> bytes | None:
        """Link-layer address of a DUID-LLT / DUID-LL, else None."""
        start = self._ll_start()
        return self.raw[start:] if start else None

    @property
    def enterprise(self) -> int | None:
        """Enterprise number of a DUID-EN, else None."""
        return int(U32.unpack_from(self.raw, 2)[0]) if self._is_en() else None

    @property
    def identifier(self) -> bytes | None:
        """Identifier of a DUID-EN, else None."""
        return self.raw[6:] if self._is_en() else None

    @property
    def uuid(self) -> _uuid.UUID | None:
        """UUID of a DUID-UUID, else None."""
        if self.type == DuidType.UUID and len(self.raw) == 18:
            return _uuid.UUID(bytes=self.raw[2:])
        return None

    def describe(self) -> str:
        """Decoded fields for people, e.g. ``LL hw=1 ll=02:67:00:00:00:01``."""
        t = self.type
        lladdr = self.link_layer_address
        if t == DuidType.LLT and lladdr is not None:
            return f"LLT hw={self.hwtype} time={self.time} ll={lladdr.hex(':')}"
        if t == DuidType.LL and lladdr is not None:
            return f"LL hw={self.hwtype} ll={lladdr.hex(':')}"
        ident = self.identifier
        if t == DuidType.EN and ident is not None:
            return f"EN enterprise={self.enterprise} id={ident.hex()}"
        u = self.uuid
        if u is not None:
            return f"UUID {u}"
        return f"type={t} data={self.raw[2:].hex()}"

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly view: the hex plus the decoded fields of a standard type."""
        out: dict[str, Any] = {"duid": str(self), "type": self.type}
        lladdr = self.link_layer_address
        if lladdr is not None:
            out["hwtype"] = self.hwtype
            out["link_layer_address"] = lladdr.hex(":")
            if self.type == DuidType.LLT:
                out["time"] = self.time
        elif self.identifier is not None:
            out["enterprise"] = self.enterprise
            out["identifier"] = self.identifier.hex()
        elif self.uuid is not None:
            out["uuid"] = str(self.uuid)
        return out

    # -- dunder -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Duid):
            return self.raw == other.raw
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.raw)

    def __len__(self) -> int:
        return len(self.raw)

    def __str__(self) -> str:
        return self.raw.hex(":")

    def __repr__(self) -> str:
        return f"Duid({self.raw.hex(':')!r})"


def duid_time(unix_seconds: float) -> int:
    """The DUID-LLT time value for a Unix timestamp (RFC 8415 §11.2); the caller supplies the clock."""
    return (int(unix_seconds) - DUID_EPOCH_UNIX) & 0xFFFFFFFF


def server_duid_from_mac(mac: str | bytes, hwtype: int = HWTYPE_ETHERNET) -> Duid:
    """A stable server DUID-LL from an interface MAC (RFC 8415 §11.4: no time, so it never changes)."""
    return Duid.ll(hwtype, mac)


def server_duid_en(enterprise: int, identifier: bytes | str) -> Duid:
    """A stable server DUID-EN (RFC 8415 §11.3); a str identifier is taken as hex."""
    ident = parse_hex(identifier) if isinstance(identifier, str) else identifier
    return Duid.en(enterprise, ident)


def parse_duid_text(text: str) -> Duid:
    """Parse a configured DUID; raises ``ValueError`` with the reason.

    Accepted: ``duid:HEX``, colon/dash hex (``00:01:00:01:...``), plain hex, ``ll:MAC`` (DUID-LL,
    Ethernet), ``llt:TIME:MAC``, ``en:ENTERPRISE:HEX``, ``uuid:UUID``.
    """
    s = text.strip()
    low = s.lower()
    try:
        if low.startswith("ll:"):
            return Duid.ll(HWTYPE_ETHERNET, s[3:])
        if low.startswith("llt:"):
            time_text, _, mac = s[4:].partition(":")
            return Duid.llt(HWTYPE_ETHERNET, int(time_text, 0), mac)
        if low.startswith("en:"):
            ent_text, _, ident = s[3:].partition(":")
            return server_duid_en(int(ent_text, 0), ident)
        if low.startswith("uuid:"):
            return Duid.from_uuid(s[5:])
        if low.startswith("duid:"):
            s = s[5:]
        return Duid(parse_hex(s))
    except (FormError, ValueError, struct.error) as exc:
        raise ValueError(f"invalid DUID {text!r}: {exc}") from None


def format_duid(duid: Duid, style: str = "colon") -> str:
    """``colon`` -> ``00:03:00:01:...``; ``prefixed`` -> ``duid:00030001...``; ``hex`` -> ``00030001...``."""
    if style == "colon":
        return duid.raw.hex(":")
    if style == "prefixed":
        return "duid:" + duid.raw.hex()
    if style == "hex":
        return duid.raw.hex()
    raise ValueError(f"unknown DUID text style {style!r} (colon, prefixed, hex)")
