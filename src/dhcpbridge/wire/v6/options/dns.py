"""DNS options: recursive servers, the domain search list and the client FQDN (RFC 3646, RFC 4704)."""

from __future__ import annotations

from typing import Any, ClassVar

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import U8
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.shapes import AddressListOption, FieldsOption
from dhcpbridge.wire.values import decode_name, decode_names, encode_names

__all__ = ["ClientFqdn", "DnsServers", "DomainList"]


class DnsServers(AddressListOption):
    """OPTION_DNS_SERVERS (23): recursive DNS server addresses (RFC 3646 §3)."""

    CODE = OptionCode6.DNS_SERVERS


class DomainList(FieldsOption):
    """OPTION_DOMAIN_LIST (24): domain search list, uncompressed names (RFC 3646 §4, RFC 8415 §10)."""

    CODE = OptionCode6.DOMAIN_LIST
    _FIELDS = ("names",)
    names: list[str]

    @classmethod
    def _read(cls, data: bytes) -> Any:
        return decode_names(data)

    def _write(self, value: Any) -> bytes:
        return encode_names(value)


class ClientFqdn(FieldsOption):
    """OPTION_CLIENT_FQDN (39): flags S/O/N and a domain name (RFC 4704 §4).

    ``name`` ending in ``"."`` is fully qualified (wire form ends with the root label); without
    the dot it is a partial name (RFC 4704 §4.2: no terminating zero octet); ``""`` is empty.
    """

    CODE = OptionCode6.CLIENT_FQDN
    FLAG_S: ClassVar[int] = 0x01
    FLAG_O: ClassVar[int] = 0x02
    FLAG_N: ClassVar[int] = 0x04
    _FIELDS = ("flags", "name")
    _head = U8
    flags: int
    name: str

    @classmethod
    def _read(cls, data: bytes) -> Any:
        if not data:
            return ""
        name, pos, full = decode_name(data, 0, len(data), allow_partial=True)
        if pos != len(data):
            raise FormError("CLIENT_FQDN has bytes after the domain name", "bad-length")
        return name + "." if full else name

    def _write(self, value: Any) -> bytes:
        if not value:
            return b""
        wire = values.encode_domain(value)
        return wire if value.endswith(".") else wire[:-1]

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
