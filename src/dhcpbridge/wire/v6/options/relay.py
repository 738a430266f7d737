"""Options relay agents add or ask for: interface-id, remote-id, subscriber-id, client link-layer
address, relay source port and the echo request (RFC 8415 §21.18, RFC 4649, RFC 4580, RFC 6939,
RFC 8357, RFC 4994). The Relay Message option (9) lives with the messages in ``wire.v6.message``."""

from __future__ import annotations

from typing import Any, Self

from dhcpbridge.wire.parser import U16, U32, Parser
from dhcpbridge.wire.v6.options.base import Option6
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.shapes import BytesOption, CodeListOption, UIntOption

__all__ = ["ClientLinkLayerAddr", "EchoRequest", "InterfaceId", "RelaySourcePort", "RemoteId", "SubscriberId"]


class InterfaceId(BytesOption):
    """OPTION_INTERFACE_ID (18): opaque relay interface identifier, echoed in Relay-reply (RFC 8415 §21.18)."""

    __slots__ = ()
    CODE = OptionCode6.INTERFACE_ID


class SubscriberId(BytesOption):
    """OPTION_SUBSCRIBER_ID (38): opaque subscriber identifier added by a relay (RFC 4580 §2)."""

    __slots__ = ()
    CODE = OptionCode6.SUBSCRIBER_ID


class RemoteId(Option6):
    """OPTION_REMOTE_ID (37): enterprise number and relay-supplied remote-id (RFC 4649 §3)."""

    __slots__ = ("enterprise", "remote_id")
    CODE = OptionCode6.REMOTE_ID
    _FIELDS = ("enterprise", "remote_id")
    enterprise: int
    remote_id: bytes

    def __init__(self, enterprise: int, remote_id: bytes) -> None:
        self.enterprise = enterprise
        self.remote_id = remote_id

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        p = Parser(data, "REMOTE_ID")
        return cls(p.get_u32(), p.get_rest())

    def to_wire(self) -> bytes:
        return U32.pack(self.enterprise) + self.remote_id

    def to_json(self) -> Any:
        return {"enterprise": self.enterprise, "remote_id": self.remote_id.hex(":")}


class ClientLinkLayerAddr(Option6):
    """OPTION_CLIENT_LINKLAYER_ADDR (79): hardware type and client MAC, added by a relay (RFC 6939 §4)."""

    __slots__ = ("address", "hwtype")
    CODE = OptionCode6.CLIENT_LINKLAYER_ADDR
    _FIELDS = ("hwtype", "address")
    hwtype: int
    address: bytes

    def __init__(self, hwtype: int, address: bytes) -> None:
        self.hwtype = hwtype
        self.address = address

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        p = Parser(data, "CLIENT_LINKLAYER_ADDR")
        return cls(p.get_u16(), p.get_rest())

    def to_wire(self) -> bytes:
        return U16.pack(self.hwtype) + self.address

    def to_json(self) -> Any:
        return {"hwtype": self.hwtype, "address": self.address.hex(":")}


class RelaySourcePort(UIntOption):
    """OPTION_RELAY_SOURCE_PORT (135): downstream relay's source port, 0 if standard (RFC 8357 §5)."""

    __slots__ = ()
    CODE = OptionCode6.RELAY_SOURCE_PORT
    _st = U16

    def __init__(self, value: int = 0) -> None:
        self.value = value


class EchoRequest(CodeListOption):
    """OPTION_ERO (43): option codes a relay asks the server to echo in Relay-reply (RFC 4994 §3)."""

    __slots__ = ()
    CODE = OptionCode6.ERO
