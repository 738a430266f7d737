"""The DHCPv4 option registry: ISC Kea's option names (RFC 2132 and later) -> code and value kind,
and the encoder of configured options.

An operator's muscle memory works: ``routers``, ``domain-name-servers``, ``boot-file-name``,
``classless-static-route`` ... Each entry is ``(code, name, kind)`` where ``kind`` is a value kind
from :mod:`dhcpbridge.wire.values`. Options the server owns (53, 54, 51, 55, 61, 82, ...) are
marked ``protocol`` and cannot be configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dhcpbridge.wire import values

__all__ = ["ALIASES", "BY_CODE", "BY_NAME", "OptionDef", "encode_config_option", "lookup", "option_name"]


@dataclass(frozen=True, slots=True)
class OptionDef:
    """One registry entry: code, Kea name, value kind, and whether the server owns it."""

    code: int
    name: str
    kind: str
    protocol: bool = False


#: ``code name kind [protocol]`` per line.
_TABLE = """
  1 subnet-mask ip4
  2 time-offset i32
  3 routers ip4-list
  4 time-servers ip4-list
  5 name-servers ip4-list
  6 domain-name-servers ip4-list
  7 log-servers ip4-list
  8 cookie-servers ip4-list
  9 lpr-servers ip4-list
 10 impress-servers ip4-list
 11 resource-location-servers ip4-list
 12 host-name string
 13 boot-size u16
 14 merit-dump string
 15 domain-name string
 16 swap-server ip4
 17 root-path string
 18 extensions-path string
 19 ip-forwarding bool
 20 non-local-source-routing bool
 21 policy-filter ip4-list
 22 max-dgram-reassembly u16
 23 default-ip-ttl u8
 24 path-mtu-aging-timeout u32
 25 path-mtu-plateau-table u16-list
 26 interface-mtu u16
 27 all-subnets-local bool
 28 broadcast-address ip4
 29 perform-mask-discovery bool
 30 mask-supplier bool
 31 router-discovery bool
 32 router-solicitation-address ip4
 33 static-routes ip4-list
 34 trailer-encapsulation bool
 35 arp-cache-timeout u32
 36 ieee802-3-encapsulation bool
 37 default-tcp-ttl u8
 38 tcp-keepalive-interval u32
 39 tcp-keepalive-garbage bool
 40 nis-domain string
 41 nis-servers ip4-list
 42 ntp-servers ip4-list
 43 vendor-encapsulated-options hex
 44 netbios-name-servers ip4-list
 45 netbios-dd-server ip4-list
 46 netbios-node-type u8
 47 netbios-scope string
 48 font-servers ip4-list
 49 x-display-manager ip4-list
 50 dhcp-requested-address ip4 protocol
 51 dhcp-lease-time u32 protocol
 52 dhcp-option-overload u8 protocol
 53 dhcp-message-type u8 protocol
 54 dhcp-server-identifier ip4 protocol
 55 dhcp-parameter-request-list u8-list protocol
 56 dhcp-message string
 57 dhcp-max-message-size u16 protocol
 58 dhcp-renewal-time u32 protocol
 59 dhcp-rebinding-time u32 protocol
 60 vendor-class-identifier string
 61 dhcp-client-identifier hex protocol
 62 nwip-domain-name string
 63 nwip-suboptions hex
 64 nisplus-domain-name string
 65 nisplus-servers ip4-list
 66 tftp-server-name string
 67 boot-file-name string
 68 mobile-ip-home-agent ip4-list
 69 smtp-server ip4-list
 70 pop-server ip4-list
 71 nntp-server ip4-list
 72 www-server ip4-list
 73 finger-server ip4-list
 74 irc-server ip4-list
 75 streettalk-server ip4-list
 76 streettalk-directory-assistance-server ip4-list
 77 user-class hex
 81 fqdn hex protocol
 82 dhcp-agent-options hex protocol
 93 client-system u16-list
 94 client-ndi hex
 97 uuid-guid hex
100 pcode string
101 tcode string
108 v6-only-preferred u32
114 v4-captive-portal string
116 auto-config u8
118 subnet-selection ip4 protocol
119 domain-search domain-list
121 classless-static-route routes
124 vivco-suboptions hex
125 vivso-suboptions hex
150 tftp-server-address ip4-list
252 wpad-url string
"""


def _parse_table(table: str) -> tuple[OptionDef, ...]:
    defs: list[OptionDef] = []
    for line in table.strip().splitlines():
        code, name, kind, *flag = line.split()
        defs.append(OptionDef(int(code), name, kind, flag == ["protocol"]))
    return tuple(defs)


_DEFS = _parse_table(_TABLE)
BY_CODE: dict[int, OptionDef] = {d.code: d for d in _DEFS}
BY_NAME: dict[str, OptionDef] = {d.name: d for d in _DEFS}
ALIASES: dict[str, str] = {
    "router": "routers",
    "dns-servers": "domain-name-servers",
    "domain-name-server": "domain-name-servers",
    "ntp-server": "ntp-servers",
    "bootfile-name": "boot-file-name",
    "boot-file": "boot-file-name",
    "tftp-server": "tftp-server-name",
    "classless-routes": "classless-static-route",
    "search-domains": "domain-search",
}


def lookup(name_or_code: str | int) -> OptionDef | None:
    """The definition for an option name (or alias) or a numeric code; None if unknown."""
    if isinstance(name_or_code, int):
        return BY_CODE.get(name_or_code)
    key = name_or_code.strip().lower().replace("_", "-")
    if key.isdigit():
        return BY_CODE.get(int(key))
    return BY_NAME.get(ALIASES.get(key, key))


def encode_config_option(key: str | int, value: Any) -> tuple[int, bytes]:
    """Encode one configured option: ``key`` is a name, an alias or a code (as text or int).

    ``value`` is a plain value for named options; for a code without a registry entry (or to
    override the kind) it is ``{"type": KIND, "value": V}`` or ``{"hex": "01:02"}``. Raises
    ``ValueError`` with the reason.
    """
    text = str(key).strip()
    definition = lookup(key if isinstance(key, int) else text)
    if definition is None:
        if not text.isdigit():
            raise ValueError(f"unknown option name {text!r} (use its code with a type for unlisted options)")
        code = int(text)
    else:
        code = definition.code
    if not 1 <= code <= 254:
        raise ValueError(f"option code {code} is out of range 1-254")
    if definition is not None and definition.protocol:
        raise ValueError(
            f"option {definition.name} ({code}) is set by the server itself and cannot be configured"
        )
    if isinstance(value, dict):
        if "hex" in value:
            data = values.encode("hex", value["hex"])
        elif "type" in value and "value" in value:
            data = values.encode(str(value["type"]), value["value"])
        else:
            raise ValueError('a table value needs {type = "...", value = ...} or {hex = "..."}')
    elif definition is None:
        raise ValueError(
            f'option {code} is not in the registry: give {{type = "...", value = ...}} or {{hex = "..."}}'
        )
    else:
        data = values.encode(definition.kind, value)
    return code, data


def option_name(code: int) -> str:
    """The registry name of ``code``, ``option-NNN`` for unlisted codes."""
    definition = BY_CODE.get(code)
    return definition.name if definition else f"option-{code}"
