"""Options relay agents add or ask for: interface-id, remote-id, subscriber-id, client link-layer
address, relay source port and the echo request (RFC 8415 §21.18, RFC 4649, RFC 4580, RFC 6939,
RFC 8357, RFC 4994). The Relay Message option (9) lives with the messages in ``wire.v6.message``."""

from __future__ import annotations

from dhcpbridge.wire.parser import U16, U32
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.shapes import BytesOption, CodeListOption, FieldsOption, U16Option

__all__ = ["ClientLinkLayerAddr", "EchoRequest", "InterfaceId", "RelaySourcePort", "RemoteId", "SubscriberId"]


class InterfaceId(BytesOption):
    """OPTION_INTERFACE_ID (18): opaque relay interface identifier, echoed in Relay-reply (RFC 8415 §21.18)."""

    CODE = OptionCode6.INTERFACE_ID


class SubscriberId(BytesOption):
    """OPTION_SUBSCRIBER_ID (38): opaque subscriber identifier added by a relay (RFC 4580 §2)."""

    CODE = OptionCode6.SUBSCRIBER_ID


class RemoteId(FieldsOption):
    """OPTION_REMOTE_ID (37): enterprise number and relay-supplied remote-id (RFC 4649 §3)."""

    CODE = OptionCode6.REMOTE_ID
    _FIELDS = ("enterprise", "remote_id")
    _head = U32
    enterprise: int
    remote_id: bytes


class ClientLinkLayerAddr(FieldsOption):
    """OPTION_CLIENT_LINKLAYER_ADDR (79): hardware type and client MAC, added by a relay (RFC 6939 §4)."""

    CODE = OptionCode6.CLIENT_LINKLAYER_ADDR
    _FIELDS = ("hwtype", "address")
    _head = U16
    hwtype: int
    address: bytes


class RelaySourcePort(U16Option):
    """OPTION_RELAY_SOURCE_PORT (135): downstream relay's source port, 0 if standard (RFC 8357 §5)."""

    CODE = OptionCode6.RELAY_SOURCE_PORT

    def __init__(self, value: int = 0) -> None:
        self.value = value


class EchoRequest(CodeListOption):
    """OPTION_ERO (43): option codes a relay asks the server to echo in Relay-reply (RFC 4994 §3)."""

    CODE = OptionCode6.ERO
