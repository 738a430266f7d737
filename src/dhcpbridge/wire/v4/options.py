"""DHCPv4 options: every public name of the option modules, re-exported (``options4.X`` keeps working).

- :mod:`.codes`: message types, option codes, relay sub-option codes;
- :mod:`.registry`: configured options by Kea name or code (``encode_config_option``);
- :mod:`.structured`: option 82 sub-options and the option 81 client FQDN;
- :mod:`.display`: JSON-friendly option values.
"""

from __future__ import annotations

from dhcpbridge.wire.v4.codes import MESSAGE_NAMES, MessageType, Opt, RelaySub
from dhcpbridge.wire.v4.display import decode_for_display
from dhcpbridge.wire.v4.registry import (
    ALIASES,
    BY_CODE,
    BY_NAME,
    OptionDef,
    encode_config_option,
    lookup,
    option_name,
)
from dhcpbridge.wire.v4.structured import (
    FQDN_E,
    FQDN_N,
    FQDN_O,
    FQDN_S,
    ClientFqdn,
    encode_suboptions,
    parse_suboptions,
)

__all__ = [
    "ALIASES",
    "BY_CODE",
    "BY_NAME",
    "FQDN_E",
    "FQDN_N",
    "FQDN_O",
    "FQDN_S",
    "MESSAGE_NAMES",
    "ClientFqdn",
    "MessageType",
    "Opt",
    "OptionDef",
    "RelaySub",
    "decode_for_display",
    "encode_config_option",
    "encode_suboptions",
    "lookup",
    "option_name",
    "parse_suboptions",
]
