"""DNS options: recursive servers, the domain search list and the client FQDN (RFC 3646, RFC 4704)."""

from __future__ import annotations

from typing import Any, ClassVar, Self

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import U8, Parser
from dhcpbridge.wire.v6.options.base import Option6
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.shapes import AddressListOption
from dhcpbridge.wire.values import decode_name, decode_names, encode_names

__all__ = ["ClientFqdn", "DnsServers", "DomainList"]


class DnsServers(AddressListOption):
    """OPTION_DNS_SERVERS (23): recursive DNS server addresses (RFC 3646 §3)."""

    __slots__ = ()
    CODE = OptionCode6.DNS_SERVERS


class DomainList(Option6):
    """OPTION_DOMAIN_LIST (24): domain search list, uncompressed names (RFC 3646 §4, RFC 8415 §10)."""

    __slots__ = ("names",)
    CODE = OptionCode6.DOMAIN_LIST
    _FIELDS = ("names",)
    names: list[str]

    def __init__(self, names: list[str] | None = None) -> None:
        self.names = [] if names is None else names

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(decode_names(data))

    def to_wire(self) -> bytes:
        return encode_names(self.names)

    def to_json(self) -> Any:
        return list(self.names)


class ClientFqdn(Option6):
    """OPTION_CLIENT_FQDN (39): flags S/O/N and a domain name (RFC 4704 §4).

    ``name`` ending in ``"."`` is fully qualified (wire form ends with the root label); without
    the dot it is a partial name (RFC 4704 §4.2: no terminating zero octet); ``""`` is empty.
    """

    __slots__ = ("flags", "name")
    CODE = OptionCode6.CLIENT_FQDN
    FLAG_S: ClassVar[int] = 0x01
    FLAG_O: ClassVar[int] = 0x02
    FLAG_N: ClassVar[int] = 0x04
    _FIELDS = ("flags", "name")
    flags: int
    name: str

    def __init__(self, flags: int, name: str = "") -> None:
        self.flags = flags
        self.name = name

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        flags = Parser(data, "CLIENT_FQDN").get_u8()
        end = len(data)
        if end == 1:
            return cls(flags, "")
        name, pos, full = decode_name(data, 1, end, allow_partial=True)
        if pos != end:
            raise FormError("CLIENT_FQDN has bytes after the domain name", "bad-length")
        return cls(flags, name + "." if full else name)

    def to_wire(self) -> bytes:
        flags = U8.pack(self.flags)
        if not self.name:
            return flags
        if self.name.endswith("."):
            return flags + values.encode_domain(self.name)
        return flags + values.encode_domain(self.name)[:-1]

    @property
    def s(self) -> bool:
        """S bit: the server should perform the AAAA update."""
        return bool(self.flags & self.FLAG_S)

    @property
    def o(self) -> bool:
        """O bit: the server overrode the client's S preference."""
        return bool(self.flags & self.FLAG_O)

    @property
    def n(self) -> bool:
        """N bit: the server should perform no DNS updates."""
        return bool(self.flags & self.FLAG_N)

    def to_json(self) -> Any:
        return {"flags": self.flags, "name": self.name}
