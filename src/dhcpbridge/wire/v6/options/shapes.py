"""Shared bases for the DHCPv6 options that are one field: a DUID, an unsigned integer, nothing,
opaque bytes, a list of IPv6 addresses or a list of option codes (RFC 8415 §21)."""

from __future__ import annotations

import struct
from ipaddress import IPv6Address
from typing import Any, ClassVar, Self

from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.options.base import Option6
from dhcpbridge.wire.v6.options.codes import OptionCode6, option_name

__all__ = ["AddressListOption", "BytesOption", "CodeListOption", "DuidOption", "EmptyOption", "UIntOption"]


def _bad_length(cls: type[Option6], what: str) -> FormError:
    return FormError(f"{OptionCode6(cls.CODE).name} body {what}", "bad-length")


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

    def to_json(self) -> Any:
        return self.duid.to_json()


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
            raise _bad_length(cls, f"must be {cls._st.size} bytes, got {len(data)}")
        return cls(cls._st.unpack(data)[0])

    def to_wire(self) -> bytes:
        return self._st.pack(self.value)

    def to_json(self) -> Any:
        return self.value


class EmptyOption(Option6):
    """A flag whose presence is the message: an empty body."""

    __slots__ = ()

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if data:
            raise _bad_length(cls, f"must be empty, got {len(data)} bytes")
        return cls()

    def to_wire(self) -> bytes:
        return b""

    def to_json(self) -> Any:
        return True


class BytesOption(Option6):
    """An opaque body kept as bytes."""

    __slots__ = ("value",)
    _FIELDS = ("value",)

    value: bytes

    def __init__(self, value: bytes) -> None:
        self.value = value

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(bytes(data))

    def to_wire(self) -> bytes:
        return self.value

    def to_json(self) -> Any:
        return self.value.hex(":")


class AddressListOption(Option6):
    """A list of IPv6 addresses, 16 bytes each."""

    __slots__ = ("addresses",)
    _FIELDS = ("addresses",)

    addresses: list[IPv6Address]

    def __init__(self, addresses: list[IPv6Address] | None = None) -> None:
        self.addresses = [] if addresses is None else addresses

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if len(data) % 16:
            raise _bad_length(cls, f"length {len(data)} is not a multiple of 16")
        return cls([IPv6Address(data[i : i + 16]) for i in range(0, len(data), 16)])

    def to_wire(self) -> bytes:
        return b"".join([a.packed for a in self.addresses])

    def to_json(self) -> Any:
        return [str(a) for a in self.addresses]


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
            raise _bad_length(cls, f"length {len(data)} is odd")
        return cls(list(struct.unpack(f"!{len(data) // 2}H", data)))

    def to_wire(self) -> bytes:
        return struct.pack(f"!{len(self.codes)}H", *self.codes)

    def to_json(self) -> Any:
        return [option_name(c) for c in self.codes]
