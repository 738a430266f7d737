"""DHCPv6 numbers: message types, option codes, status codes, NTP sub-option codes, option names."""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "NTP_SUBOPTION_MC_ADDR",
    "NTP_SUBOPTION_SRV_ADDR",
    "NTP_SUBOPTION_SRV_FQDN",
    "MessageType6",
    "OptionCode6",
    "StatusCode6",
    "option_name",
]


class MessageType6(IntEnum):
    """DHCPv6 message types (RFC 8415 §7.3; LEASEQUERY* RFC 5007/5460, DHCPV4_* RFC 7341)."""

    SOLICIT = 1
    ADVERTISE = 2
    REQUEST = 3
    CONFIRM = 4
    RENEW = 5
    REBIND = 6
    REPLY = 7
    RELEASE = 8
    DECLINE = 9
    RECONFIGURE = 10
    INFORMATION_REQUEST = 11
    RELAY_FORW = 12
    RELAY_REPL = 13
    LEASEQUERY = 14
    LEASEQUERY_REPLY = 15
    LEASEQUERY_DONE = 16
    LEASEQUERY_DATA = 17
    DHCPV4_QUERY = 20
    DHCPV4_RESPONSE = 21


class OptionCode6(IntEnum):
    """DHCPv6 option codes (IANA registry; RFC 8415 §21 and the RFCs named per option)."""

    CLIENTID = 1
    SERVERID = 2
    IA_NA = 3
    IA_TA = 4
    IAADDR = 5
    ORO = 6
    PREFERENCE = 7
    ELAPSED_TIME = 8
    RELAY_MSG = 9
    AUTH = 11
    UNICAST = 12
    STATUS_CODE = 13
    RAPID_COMMIT = 14
    USER_CLASS = 15
    VENDOR_CLASS = 16
    VENDOR_OPTS = 17
    INTERFACE_ID = 18
    RECONF_MSG = 19
    RECONF_ACCEPT = 20
    SIP_SERVER_D = 21
    SIP_SERVER_A = 22
    DNS_SERVERS = 23
    DOMAIN_LIST = 24
    IA_PD = 25
    IAPREFIX = 26
    NIS_SERVERS = 27
    NISP_SERVERS = 28
    NIS_DOMAIN_NAME = 29
    NISP_DOMAIN_NAME = 30
    SNTP_SERVERS = 31
    INFORMATION_REFRESH_TIME = 32
    REMOTE_ID = 37
    SUBSCRIBER_ID = 38
    CLIENT_FQDN = 39
    NEW_POSIX_TIMEZONE = 41
    NEW_TZDB_TIMEZONE = 42
    ERO = 43
    LQ_QUERY = 44
    CLIENT_DATA = 45
    CLT_TIME = 46
    LQ_RELAY_DATA = 47
    LQ_CLIENT_LINK = 48
    NTP_SERVER = 56
    BOOTFILE_URL = 59
    BOOTFILE_PARAM = 60
    AFTR_NAME = 64
    CLIENT_LINKLAYER_ADDR = 79
    SOL_MAX_RT = 82
    INF_MAX_RT = 83
    RELAY_SOURCE_PORT = 135


class StatusCode6(IntEnum):
    """Status codes carried in OPTION_STATUS_CODE (RFC 8415 §21.13; 7-10: RFC 5007 §4.1.3)."""

    SUCCESS = 0
    UNSPEC_FAIL = 1
    NO_ADDRS_AVAIL = 2
    NO_BINDING = 3
    NOT_ON_LINK = 4
    USE_MULTICAST = 5
    NO_PREFIX_AVAIL = 6
    UNKNOWN_QUERY_TYPE = 7
    MALFORMED_QUERY = 8
    NOT_CONFIGURED = 9
    NOT_ALLOWED = 10


#: RFC 5908 §4.1-4.3 NTP time source sub-option codes.
NTP_SUBOPTION_SRV_ADDR = 1
NTP_SUBOPTION_MC_ADDR = 2
NTP_SUBOPTION_SRV_FQDN = 3


def option_name(code: int) -> str:
    """``dns-servers``-style name of an option code, ``option-NNN`` for unknown ones."""
    try:
        return OptionCode6(code).name.lower().replace("_", "-")
    except ValueError:
        return f"option-{code}"
