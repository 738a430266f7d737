"""DHCPv6 options (RFC 8415 §21 and the RFCs named per option): one module per option family,
every public name re-exported here.

- :mod:`.codes`: message types, option and status codes, ``option_name``;
- :mod:`.base`: ``Option6``, ``RawOption``, ``Encoded``, the ``OPTION_CLASSES`` registry the
  classes fill themselves, and the option-area codec (``parse_options`` / ``encode_options``);
- :mod:`.container`: ``OptionContainer`` (``get(IANA)``-style lookup for messages and IAs);
- :mod:`.shapes`: shared bases of the one-field options;
- :mod:`.ia`, :mod:`.identity`, :mod:`.exchange`, :mod:`.status`, :mod:`.relay`, :mod:`.dns`,
  :mod:`.ntp`, :mod:`.leasequery`: the typed option classes;
- :mod:`.registry`: configured options by name;
  :mod:`.display`: JSON-friendly views.
"""

from __future__ import annotations

from dhcpbridge.wire.v6.options.base import (
    OPTION_CLASSES,
    Encoded,
    Option6,
    RawOption,
    encode_options,
    fields_equal,
    fields_json,
    fields_repr,
    json_value,
    parse_options,
)
from dhcpbridge.wire.v6.options.codes import (
    NTP_SUBOPTION_MC_ADDR,
    NTP_SUBOPTION_SRV_ADDR,
    NTP_SUBOPTION_SRV_FQDN,
    MessageType6,
    OptionCode6,
    StatusCode6,
    option_name,
)
from dhcpbridge.wire.v6.options.container import OptionContainer
from dhcpbridge.wire.v6.options.display import decode_option6_for_display, options_to_json
from dhcpbridge.wire.v6.options.dns import ClientFqdn, DnsServers, DomainList
from dhcpbridge.wire.v6.options.exchange import (
    ElapsedTime,
    InfMaxRt,
    InformationRefreshTime,
    OptionRequest,
    Preference,
    RapidCommit,
    ReconfAccept,
    SolMaxRt,
    Unicast,
)
from dhcpbridge.wire.v6.options.ia import IANA, IAPD, IATA, Carrier, IAAddr, IAPrefix
from dhcpbridge.wire.v6.options.identity import ClientId, ServerId, UserClass, VendorClass, VendorOpts
from dhcpbridge.wire.v6.options.leasequery import (
    ClientData,
    CltTime,
    LqClientLink,
    LqQuery,
    LqRelayData,
    QueryType6,
)
from dhcpbridge.wire.v6.options.ntp import NtpEntry, NtpServer, SntpServers
from dhcpbridge.wire.v6.options.registry import (
    KINDS6,
    OPTIONS6,
    encode_config_option6,
    encode_config_options6,
)
from dhcpbridge.wire.v6.options.relay import (
    ClientLinkLayerAddr,
    EchoRequest,
    InterfaceId,
    RelaySourcePort,
    RemoteId,
    SubscriberId,
)
from dhcpbridge.wire.v6.options.status import StatusCode
from dhcpbridge.wire.values import decode_names, encode_names

__all__ = [
    "IANA",
    "IAPD",
    "IATA",
    "KINDS6",
    "NTP_SUBOPTION_MC_ADDR",
    "NTP_SUBOPTION_SRV_ADDR",
    "NTP_SUBOPTION_SRV_FQDN",
    "OPTIONS6",
    "OPTION_CLASSES",
    "Carrier",
    "ClientData",
    "ClientFqdn",
    "ClientId",
    "ClientLinkLayerAddr",
    "CltTime",
    "DnsServers",
    "DomainList",
    "EchoRequest",
    "ElapsedTime",
    "Encoded",
    "IAAddr",
    "IAPrefix",
    "InfMaxRt",
    "InformationRefreshTime",
    "InterfaceId",
    "LqClientLink",
    "LqQuery",
    "LqRelayData",
    "MessageType6",
    "NtpEntry",
    "NtpServer",
    "Option6",
    "OptionCode6",
    "OptionContainer",
    "OptionRequest",
    "Preference",
    "QueryType6",
    "RapidCommit",
    "RawOption",
    "ReconfAccept",
    "RelaySourcePort",
    "RemoteId",
    "ServerId",
    "SntpServers",
    "SolMaxRt",
    "StatusCode",
    "StatusCode6",
    "SubscriberId",
    "Unicast",
    "UserClass",
    "VendorClass",
    "VendorOpts",
    "decode_names",
    "decode_option6_for_display",
    "encode_config_option6",
    "encode_config_options6",
    "encode_names",
    "encode_options",
    "fields_equal",
    "fields_json",
    "fields_repr",
    "json_value",
    "option_name",
    "options_to_json",
    "parse_options",
]
