"""Shared bases for the DHCPv6 options that are one field: a DUID, an unsigned integer, nothing,
opaque bytes, a list of IPv6 addresses or a list of option codes (RFC 8415 §21); and
:class:`FieldsOption`, the field-spec base of the options that are not on the hot path (a
number, or not, then the rest of the body).

Equality, ``repr`` and the JSON view come from :class:`Option6` and each class's ``_FIELDS``.
The integer, flag and option-code codecs stay concrete: ELAPSED_TIME and ORO are on the hot
path."""

from __future__ import annotations

import struct
from ipaddress import IPv6Address
from typing import Any, ClassVar, Self

from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import U16, U32, fixed_items
from dhcpbridge.wire.v6.options.base import Option6
from dhcpbridge.wire.v6.options.codes import OptionCode6, option_name

__all__ = [
    "AddressListOption",
    "BytesOption",
    "CodeListOption",
    "DuidOption",
    "EmptyOption",
    "FieldsOption",
    "U16Option",
    "U32Option",
    "UIntOption",
]


def _what(cls: type[Option6]) -> str:
    return f"{OptionCode6(cls.CODE).name} body"


class UIntOption(Option6):
    """One unsigned integer of ``_st``'s width (hand-checked: ELAPSED_TIME is on the hot path)."""

    __slots__ = ("value",)
    _FIELDS = ("value",)
    _st: ClassVar[struct.Struct]
    value: int

    def __init__(self, value: int) -> None:
        self.value = value

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if len(data) != cls._st.size:
            raise FormError(f"{_what(cls)} must be {cls._st.size} bytes, got {len(data)}", "bad-length")
        return cls(cls._st.unpack(data)[0])

    def to_wire(self) -> bytes:
        return self._st.pack(self.value)


class U16Option(UIntOption):
    """A 16-bit unsigned integer."""

    __slots__ = ()
    _st = U16


class U32Option(UIntOption):
    """A 32-bit unsigned integer (the timers, in seconds)."""

    __slots__ = ()
    _st = U32


class EmptyOption(Option6):
    """A flag whose presence is the message: an empty body."""

    __slots__ = ()

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if data:
            raise FormError(f"{_what(cls)} must be empty, got {len(data)} bytes", "bad-length")
        return cls()

    def to_wire(self) -> bytes:
        return b""


class FieldsOption(Option6):
    """An option declared by its ``_FIELDS``: with a ``_head`` (a one-number struct), that number
    is the first of two fields; the last field is the rest of the body, which ``_read`` decodes
    and ``_write`` encodes (opaque bytes unless a subclass says otherwise). Left out, the last
    field is what an empty body reads as (``[]``, ``b""``, ``""``). For the options the server
    only relays, logs or configures: the hot ones keep concrete codecs."""

    __slots__ = ()
    _head: ClassVar[struct.Struct | None] = None

    def __init__(self, first: Any = None, last: Any = None) -> None:
        names = self._FIELDS
        if len(names) == 2:
            setattr(self, names[0], first)
        else:
            last = first
        setattr(self, names[-1], self._read(b"") if last is None else last)

    @classmethod
    def _read(cls, data: bytes) -> Any:
        return bytes(data)

    def _write(self, value: Any) -> bytes:
        return bytes(value)

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        head = cls._head
        if head is None:
            return cls(cls._read(data))
        if len(data) < head.size:
            raise FormError(f"{_what(cls)} must be at least {head.size} bytes, got {len(data)}", "truncated")
        return cls(head.unpack_from(data)[0], cls._read(data[head.size :]))

    def to_wire(self) -> bytes:
        names = self._FIELDS
        last = self._write(getattr(self, names[-1]))
        head = self._head
        return last if head is None else head.pack(getattr(self, names[0])) + last


class DuidOption(FieldsOption):
    """Client or Server Identifier: one DUID (RFC 8415 §21.2-21.3; the hot path reads the raw
    body, ``Message6.client_id``)."""

    _FIELDS = ("duid",)
    duid: Duid

    @classmethod
    def _read(cls, data: bytes) -> Any:
        return Duid(data)

    def _write(self, value: Any) -> bytes:
        return bytes(value.raw)


class BytesOption(FieldsOption):
    """An opaque body kept as bytes."""

    _FIELDS = ("value",)
    value: bytes


class AddressListOption(FieldsOption):
    """A list of IPv6 addresses, 16 bytes each."""

    _FIELDS = ("addresses",)
    addresses: list[IPv6Address]

    @classmethod
    def _read(cls, data: bytes) -> Any:
        return [IPv6Address(a) for a in fixed_items(data, 16, _what(cls))]

    def _write(self, value: Any) -> bytes:
        return b"".join([a.packed for a in value])


class CodeListOption(Option6):
    """A list of 2-byte option codes (hand-checked: ORO is on the hot path)."""

    __slots__ = ("codes",)
    _FIELDS = ("codes",)
    codes: list[int]

    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = [] if codes is None else codes

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if len(data) % 2:
            raise FormError(f"{_what(cls)} length {len(data)} is odd", "bad-length")
        return cls(list(struct.unpack(f"!{len(data) // 2}H", data)))

    def to_wire(self) -> bytes:
        return struct.pack(f"!{len(self.codes)}H", *self.codes)

    def to_json(self) -> Any:
        return [option_name(c) for c in self.codes]
