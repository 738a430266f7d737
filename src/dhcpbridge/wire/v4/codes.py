"""DHCPv4 numbers: message types (option 53), the option codes the server reads or writes, and
the relay agent sub-options of option 82."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["MESSAGE_NAMES", "MessageType", "Opt", "RelaySub"]


class MessageType(IntEnum):
    """Option 53 values (RFC 2132 §9.6, RFC 4388, RFC 6926)."""

    DISCOVER = 1
    OFFER = 2
    REQUEST = 3
    DECLINE = 4
    ACK = 5
    NAK = 6
    RELEASE = 7
    INFORM = 8
    FORCERENEW = 9
    LEASEQUERY = 10
    LEASEUNASSIGNED = 11
    LEASEUNKNOWN = 12
    LEASEACTIVE = 13


MESSAGE_NAMES: dict[int, str] = {int(m): "DHCP" + m.name for m in MessageType}


class Opt(IntEnum):
    """Option codes the server itself reads or writes."""

    PAD = 0
    SUBNET_MASK = 1
    ROUTERS = 3
    DOMAIN_NAME_SERVERS = 6
    HOST_NAME = 12
    DOMAIN_NAME = 15
    BROADCAST_ADDRESS = 28
    VENDOR_ENCAPSULATED = 43
    REQUESTED_ADDRESS = 50
    LEASE_TIME = 51
    OVERLOAD = 52
    MESSAGE_TYPE = 53
    SERVER_ID = 54
    PARAMETER_REQUEST_LIST = 55
    MESSAGE = 56
    MAX_MESSAGE_SIZE = 57
    RENEWAL_TIME = 58
    REBINDING_TIME = 59
    VENDOR_CLASS = 60
    CLIENT_ID = 61
    TFTP_SERVER_NAME = 66
    BOOT_FILE_NAME = 67
    USER_CLASS = 77
    CLIENT_FQDN = 81
    RELAY_AGENT_INFO = 82
    SUBNET_SELECTION = 118
    DOMAIN_SEARCH = 119
    CLASSLESS_ROUTES = 121
    END = 255


class RelaySub(IntEnum):
    """Option 82 sub-options (RFC 3046, 3527, 4243, 5107, 8357)."""

    CIRCUIT_ID = 1
    REMOTE_ID = 2
    LINK_SELECTION = 5
    SUBSCRIBER_ID = 6
    SERVER_ID_OVERRIDE = 11
    RELAY_SOURCE_PORT = 19
