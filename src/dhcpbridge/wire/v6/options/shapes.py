"""Shared bases for the DHCPv6 options that are one field: a DUID, an unsigned integer, nothing,
opaque bytes, a list of IPv6 addresses or a list of option codes (RFC 8415 §21); and the two
field-spec bases of the options that are not on the hot path: :class:`OneField` and
:class:`NumberThen` (a number, then the rest of the body).

Equality, ``repr`` and the JSON view come from :class:`Option6` and each class's ``_FIELDS``.
The DUID, integer, flag and option-code codecs stay concrete: the identifiers, ELAPSED_TIME and
ORO are on the hot path."""

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
    "NumberThen",
    "OneField",
    "U16Option",
    "U32Option",
    "UIntOption",
]


def _what(cls: type[Option6]) -> str:
    return f"{OptionCode6(cls.CODE).name} body"


class DuidOption(Option6):
    """Client or Server Identifier: one DUID (RFC 8415 §21.2-21.3)."""

    __slots__ = ("duid",)
    _FIELDS = ("duid",)
    duid: Duid

    def __init__(self, duid: Duid) -> None:
        self.duid = duid

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(Duid(data))

    def to_wire(self) -> bytes:
        return self.duid.raw


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


class OneField(Option6):
    """An option that is one field, ``_FIELDS[0]``, which ``_read`` makes of the body and
    ``_write`` turns back into it (opaque bytes unless a subclass says otherwise). Left out, the
    field is what an empty body reads as (``[]``, ``b""``, ``""``). For the options the server
    only relays, logs or configures; the hot ones keep concrete codecs."""

    __slots__ = ()

    def __init__(self, value: Any = None) -> None:
        setattr(self, self._FIELDS[0], self._read(b"") if value is None else value)

    @classmethod
    def _read(cls, data: bytes) -> Any:
        return bytes(data)

    def _write(self, value: Any) -> bytes:
        return bytes(value)

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(cls._read(data))

    def to_wire(self) -> bytes:
        return self._write(getattr(self, self._FIELDS[0]))


class NumberThen(OneField):
    """A number of ``_head``'s width (field ``_FIELDS[0]``), then the rest of the body as the
    field ``_FIELDS[1]``, read and written as :class:`OneField` does."""

    __slots__ = ()
    _head: ClassVar[struct.Struct]

    def __init__(self, number: int, tail: Any = None) -> None:
        first, second = self._FIELDS
        setattr(self, first, number)
        setattr(self, second, self._read(b"") if tail is None else tail)

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        size = cls._head.size
        if len(data) < size:
            raise FormError(f"{_what(cls)} must be at least {size} bytes, got {len(data)}", "truncated")
        return cls(cls._head.unpack_from(data)[0], cls._read(data[size:]))

    def to_wire(self) -> bytes:
        first, second = self._FIELDS
        return self._head.pack(getattr(self, first)) + self._write(getattr(self, second))


class BytesOption(OneField):
    """An opaque body kept as bytes."""

    __slots__ = ("value",)
    _FIELDS = ("value",)
    value: bytes


class AddressListOption(OneField):
    """A list of IPv6 addresses, 16 bytes each."""

    __slots__ = ("addresses",)
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
