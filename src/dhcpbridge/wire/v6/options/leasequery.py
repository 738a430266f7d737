"""DHCPv6 Leasequery options (RFC 5007 §4.1.2): the query a requester sends (OPTION_LQ_QUERY) and
what a LEASEQUERY-REPLY carries back: one client's data on one link (OPTION_CLIENT_DATA, with the
seconds since its last transaction, OPTION_CLT_TIME), the relay data of its last message
(OPTION_LQ_RELAY_DATA) and, when the client is on several links, those links
(OPTION_LQ_CLIENT_LINK). Cold options: they are read only when a requester asks."""

from __future__ import annotations

from enum import IntEnum
from ipaddress import IPv6Address
from typing import Any, Self

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import Parser
from dhcpbridge.wire.v6.options.base import Option6, encode_options, fields_json, parse_options
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.ia import Carrier
from dhcpbridge.wire.v6.options.shapes import AddressListOption, U32Option

__all__ = ["ClientData", "CltTime", "LqClientLink", "LqQuery", "LqRelayData", "QueryType6"]


class QueryType6(IntEnum):
    """The query-type of OPTION_LQ_QUERY (RFC 5007 §4.1.2.1; 3-5 are RFC 5460's bulk queries)."""

    BY_ADDRESS = 1
    BY_CLIENTID = 2


class LqQuery(Carrier):
    """OPTION_LQ_QUERY (44): query-type, link-address (``::`` when unspecified) and the
    query-options: an IAADDR (by address) or a CLIENTID (by client id), and optionally an ORO
    naming the options wanted for each client (RFC 5007 §4.1.2.1)."""

    CODE = OptionCode6.LQ_QUERY
    _FIELDS = ("query_type", "link_address", "options")
    query_type: int
    link_address: IPv6Address

    def __init__(
        self,
        query_type: int,
        link_address: IPv6Address | None = None,
        options: list[Option6] | None = None,
    ) -> None:
        self.query_type = query_type
        self.link_address = IPv6Address(0) if link_address is None else link_address
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        p = Parser(data, "LQ_QUERY")
        query_type, link = p.get_u8(), p.get_bytes(16)
        return cls(query_type, IPv6Address(link), parse_options(data, p.pos))

    def to_wire(self) -> bytes:
        return bytes((self.query_type,)) + self.link_address.packed + encode_options(self.options)


class ClientData(Carrier):
    """OPTION_CLIENT_DATA (45): one client on one link: its CLIENTID, every IAADDR and IAPREFIX
    with a non-zero valid lifetime, CLT_TIME, and the options the query's ORO asked for
    (RFC 5007 §4.1.2.2)."""

    CODE = OptionCode6.CLIENT_DATA
    _FIELDS = ("options",)

    def __init__(self, options: list[Option6] | None = None) -> None:
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(parse_options(data))

    def to_wire(self) -> bytes:
        return encode_options(self.options)


class CltTime(U32Option):
    """OPTION_CLT_TIME (46): seconds since the server last heard from the client (RFC 5007 §4.1.2.3)."""

    CODE = OptionCode6.CLT_TIME


class LqRelayData(Option6):
    """OPTION_LQ_RELAY_DATA (47): the peer-address and the whole RELAY-FORW chain the client's
    last message came in (RFC 5007 §4.1.2.4), kept as bytes."""

    CODE = OptionCode6.LQ_RELAY_DATA
    _FIELDS = ("peer_address", "relay_message")
    peer_address: IPv6Address
    relay_message: bytes

    def __init__(self, peer_address: IPv6Address, relay_message: bytes = b"") -> None:
        self.peer_address = peer_address
        self.relay_message = relay_message

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if len(data) < 16:
            raise FormError(f"LQ_RELAY_DATA body must be at least 16 bytes, got {len(data)}", "truncated")
        return cls(IPv6Address(data[:16]), bytes(data[16:]))

    def to_wire(self) -> bytes:
        return self.peer_address.packed + self.relay_message

    def to_json(self) -> Any:
        return fields_json(self, self._FIELDS)


class LqClientLink(AddressListOption):
    """OPTION_LQ_CLIENT_LINK (48): the links (an address on each) on which the client has
    bindings, when a query by client id with link-address ``::`` finds it on several
    (RFC 5007 §4.1.2.5)."""

    CODE = OptionCode6.LQ_CLIENT_LINK
