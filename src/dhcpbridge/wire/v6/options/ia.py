"""Identity associations and their leases: IA_NA, IA_TA, IA_PD, IAADDR, IAPREFIX (RFC 8415 §21.4-21.6,
§21.21-21.22).

IA_NA and IAADDR are on the hot path of every request: their decoders check bounds by hand;
IA_TA and IAPREFIX read through :class:`dhcpbridge.wire.parser.Parser`.
"""

from __future__ import annotations

import ipaddress
import struct
from ipaddress import IPv6Address
from typing import Any, ClassVar, Self

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import U32, Parser
from dhcpbridge.wire.v6.options.base import Option6, encode_options, fields_json, parse_options
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.container import OptionContainer
from dhcpbridge.wire.v6.options.display import options_to_json

__all__ = ["IANA", "IAPD", "IATA", "Carrier", "IAAddr", "IAPrefix"]

_IA = struct.Struct("!III")
_IAADDR = struct.Struct("!16sII")
_IAPREFIX = struct.Struct("!IIB16s")


def _head(st: struct.Struct, data: bytes, what: str) -> tuple[Any, ...]:
    """The fixed fields before the options; ``FormError`` (``truncated``) if the body is shorter."""
    if len(data) < st.size:
        raise FormError(f"{what} body must be at least {st.size} bytes, got {len(data)}", "truncated")
    return st.unpack_from(data)


class Carrier(Option6, OptionContainer):
    """An option that carries options, its last field (the IAs, IAADDR, IAPREFIX): the JSON view
    is the other fields, then the carried options decoded (left out when there are none and
    ``_SHOW_NO_OPTIONS`` is false)."""

    __slots__ = ()
    _SHOW_NO_OPTIONS: ClassVar[bool] = True
    options: list[Option6]

    def _head_json(self) -> dict[str, Any]:
        return fields_json(self, self._FIELDS[:-1])

    def to_json(self) -> Any:
        out = self._head_json()
        if self.options or self._SHOW_NO_OPTIONS:
            out["options"] = options_to_json(self.options)
        return out


class IaWithTimers(Carrier):
    """IA_NA and IA_PD: IAID, T1, T2 and the IA's options."""

    __slots__ = ("iaid", "options", "t1", "t2")
    _FIELDS = ("iaid", "t1", "t2", "options")
    iaid: int
    t1: int
    t2: int

    def __init__(self, iaid: int, t1: int = 0, t2: int = 0, options: list[Option6] | None = None) -> None:
        self.iaid = iaid
        self.t1 = t1
        self.t2 = t2
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        iaid, t1, t2 = _head(_IA, data, OptionCode6(cls.CODE).name)
        return cls(iaid, t1, t2, parse_options(data, 12))

    def to_wire(self) -> bytes:
        return _IA.pack(self.iaid, self.t1, self.t2) + encode_options(self.options)


class IANA(IaWithTimers):
    """OPTION_IA_NA (3): IAID, T1, T2 and IA_NA-options such as IAADDR (RFC 8415 §21.4)."""

    __slots__ = ()
    CODE = OptionCode6.IA_NA

    @property
    def addresses(self) -> list[IAAddr]:
        """The IAADDR options inside this IA."""
        return self.get_all(IAAddr)


class IATA(Carrier):
    """OPTION_IA_TA (4): IAID and IA_TA-options, no T1/T2 (RFC 8415 §21.5)."""

    CODE = OptionCode6.IA_TA
    _FIELDS = ("iaid", "options")
    iaid: int

    def __init__(self, iaid: int, options: list[Option6] | None = None) -> None:
        self.iaid = iaid
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(Parser(data, "IA_TA").get_u32(), parse_options(data, 4))

    def to_wire(self) -> bytes:
        return U32.pack(self.iaid) + encode_options(self.options)

    @property
    def addresses(self) -> list[IAAddr]:
        """The IAADDR options inside this IA."""
        return self.get_all(IAAddr)


class IAAddr(Carrier):
    """OPTION_IAADDR (5): address, preferred and valid lifetimes, IAaddr-options (RFC 8415 §21.6)."""

    __slots__ = ("address", "options", "preferred", "valid")
    CODE = OptionCode6.IAADDR
    _SHOW_NO_OPTIONS = False
    _FIELDS = ("address", "preferred", "valid", "options")
    address: IPv6Address
    preferred: int
    valid: int

    def __init__(
        self, address: IPv6Address, preferred: int = 0, valid: int = 0, options: list[Option6] | None = None
    ) -> None:
        self.address = address
        self.preferred = preferred
        self.valid = valid
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        addr, preferred, valid = _head(_IAADDR, data, "IAADDR")
        return cls(IPv6Address(addr), preferred, valid, parse_options(data, 24))

    def to_wire(self) -> bytes:
        head = _IAADDR.pack(self.address.packed, self.preferred, self.valid)
        return head + encode_options(self.options) if self.options else head


class IAPD(IaWithTimers):
    """OPTION_IA_PD (25): IAID, T1, T2 and IA_PD-options such as IAPREFIX (RFC 8415 §21.21)."""

    __slots__ = ()
    CODE = OptionCode6.IA_PD

    @property
    def prefixes(self) -> list[IAPrefix]:
        """The IAPREFIX options inside this IA."""
        return self.get_all(IAPrefix)


class IAPrefix(Carrier):
    """OPTION_IAPREFIX (26): lifetimes, prefix length, prefix, IAprefix-options (RFC 8415 §21.22).

    ``prefix`` is kept exactly as sent (a client hint may carry host bits or ``::``);
    :attr:`network` gives the ``IPv6Network`` view.
    """

    __slots__ = ("options", "preferred", "prefix", "prefix_length", "valid")
    CODE = OptionCode6.IAPREFIX
    _SHOW_NO_OPTIONS = False
    _FIELDS = ("preferred", "valid", "prefix_length", "prefix", "options")
    preferred: int
    valid: int
    prefix_length: int
    prefix: IPv6Address

    def __init__(
        self,
        preferred: int,
        valid: int,
        prefix_length: int,
        prefix: IPv6Address,
        options: list[Option6] | None = None,
    ) -> None:
        self.preferred = preferred
        self.valid = valid
        self.prefix_length = prefix_length
        self.prefix = prefix
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        p = Parser(data, "IAPREFIX")
        preferred, valid, plen, prefix = p.get_u32(), p.get_u32(), p.get_u8(), p.get_bytes(16)
        if plen > 128:
            raise FormError(f"IAPREFIX prefix length {plen} > 128", "bad-prefix")
        return cls(preferred, valid, plen, IPv6Address(prefix), parse_options(data, p.pos))

    @classmethod
    def of(
        cls, network: ipaddress.IPv6Network, preferred: int, valid: int, options: list[Option6] | None = None
    ) -> IAPrefix:
        """Build from an ``IPv6Network`` (what the engine usually has)."""
        return cls(preferred, valid, network.prefixlen, network.network_address, options or [])

    @property
    def network(self) -> ipaddress.IPv6Network:
        """The prefix as a network (host bits dropped)."""
        return ipaddress.IPv6Network((self.prefix, self.prefix_length), strict=False)

    def to_wire(self) -> bytes:
        head = _IAPREFIX.pack(self.preferred, self.valid, self.prefix_length, self.prefix.packed)
        return head + encode_options(self.options) if self.options else head

    def _head_json(self) -> dict[str, Any]:
        return {
            "prefix": f"{self.prefix}/{self.prefix_length}",
            "preferred": self.preferred,
            "valid": self.valid,
        }
