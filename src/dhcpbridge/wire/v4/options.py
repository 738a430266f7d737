"""DHCPv4 option codes, the by-name registry, and the structured options (82, 81, 61, 55).

Names follow ISC Kea's option names (RFC 2132 and later), so an operator's muscle memory works:
``routers``, ``domain-name-servers``, ``boot-file-name``, ``classless-static-route`` ... Each
registry entry is ``(code, name, kind)`` where ``kind`` is a value kind from ``wire.values``.
Options the server owns (53, 54, 51, 55, 61, 82, ...) are marked ``protocol=True`` and cannot be
configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar, Final

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError


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


@dataclass(frozen=True, slots=True)
class OptionDef:
    code: int
    name: str
    kind: str
    protocol: bool = False


_DEFS: tuple[OptionDef, ...] = (
    OptionDef(1, "subnet-mask", "ip4"),
    OptionDef(2, "time-offset", "i32"),
    OptionDef(3, "routers", "ip4-list"),
    OptionDef(4, "time-servers", "ip4-list"),
    OptionDef(5, "name-servers", "ip4-list"),
    OptionDef(6, "domain-name-servers", "ip4-list"),
    OptionDef(7, "log-servers", "ip4-list"),
    OptionDef(8, "cookie-servers", "ip4-list"),
    OptionDef(9, "lpr-servers", "ip4-list"),
    OptionDef(10, "impress-servers", "ip4-list"),
    OptionDef(11, "resource-location-servers", "ip4-list"),
    OptionDef(12, "host-name", "string"),
    OptionDef(13, "boot-size", "u16"),
    OptionDef(14, "merit-dump", "string"),
    OptionDef(15, "domain-name", "string"),
    OptionDef(16, "swap-server", "ip4"),
    OptionDef(17, "root-path", "string"),
    OptionDef(18, "extensions-path", "string"),
    OptionDef(19, "ip-forwarding", "bool"),
    OptionDef(20, "non-local-source-routing", "bool"),
    OptionDef(21, "policy-filter", "ip4-list"),
    OptionDef(22, "max-dgram-reassembly", "u16"),
    OptionDef(23, "default-ip-ttl", "u8"),
    OptionDef(24, "path-mtu-aging-timeout", "u32"),
    OptionDef(25, "path-mtu-plateau-table", "u16-list"),
    OptionDef(26, "interface-mtu", "u16"),
    OptionDef(27, "all-subnets-local", "bool"),
    OptionDef(28, "broadcast-address", "ip4"),
    OptionDef(29, "perform-mask-discovery", "bool"),
    OptionDef(30, "mask-supplier", "bool"),
    OptionDef(31, "router-discovery", "bool"),
    OptionDef(32, "router-solicitation-address", "ip4"),
    OptionDef(33, "static-routes", "ip4-list"),
    OptionDef(34, "trailer-encapsulation", "bool"),
    OptionDef(35, "arp-cache-timeout", "u32"),
    OptionDef(36, "ieee802-3-encapsulation", "bool"),
    OptionDef(37, "default-tcp-ttl", "u8"),
    OptionDef(38, "tcp-keepalive-interval", "u32"),
    OptionDef(39, "tcp-keepalive-garbage", "bool"),
    OptionDef(40, "nis-domain", "string"),
    OptionDef(41, "nis-servers", "ip4-list"),
    OptionDef(42, "ntp-servers", "ip4-list"),
    OptionDef(43, "vendor-encapsulated-options", "hex"),
    OptionDef(44, "netbios-name-servers", "ip4-list"),
    OptionDef(45, "netbios-dd-server", "ip4-list"),
    OptionDef(46, "netbios-node-type", "u8"),
    OptionDef(47, "netbios-scope", "string"),
    OptionDef(48, "font-servers", "ip4-list"),
    OptionDef(49, "x-display-manager", "ip4-list"),
    OptionDef(50, "dhcp-requested-address", "ip4", protocol=True),
    OptionDef(51, "dhcp-lease-time", "u32", protocol=True),
    OptionDef(52, "dhcp-option-overload", "u8", protocol=True),
    OptionDef(53, "dhcp-message-type", "u8", protocol=True),
    OptionDef(54, "dhcp-server-identifier", "ip4", protocol=True),
    OptionDef(55, "dhcp-parameter-request-list", "u8-list", protocol=True),
    OptionDef(56, "dhcp-message", "string"),
    OptionDef(57, "dhcp-max-message-size", "u16", protocol=True),
    OptionDef(58, "dhcp-renewal-time", "u32", protocol=True),
    OptionDef(59, "dhcp-rebinding-time", "u32", protocol=True),
    OptionDef(60, "vendor-class-identifier", "string"),
    OptionDef(61, "dhcp-client-identifier", "hex", protocol=True),
    OptionDef(62, "nwip-domain-name", "string"),
    OptionDef(63, "nwip-suboptions", "hex"),
    OptionDef(64, "nisplus-domain-name", "string"),
    OptionDef(65, "nisplus-servers", "ip4-list"),
    OptionDef(66, "tftp-server-name", "string"),
    OptionDef(67, "boot-file-name", "string"),
    OptionDef(68, "mobile-ip-home-agent", "ip4-list"),
    OptionDef(69, "smtp-server", "ip4-list"),
    OptionDef(70, "pop-server", "ip4-list"),
    OptionDef(71, "nntp-server", "ip4-list"),
    OptionDef(72, "www-server", "ip4-list"),
    OptionDef(73, "finger-server", "ip4-list"),
    OptionDef(74, "irc-server", "ip4-list"),
    OptionDef(75, "streettalk-server", "ip4-list"),
    OptionDef(76, "streettalk-directory-assistance-server", "ip4-list"),
    OptionDef(77, "user-class", "hex"),
    OptionDef(81, "fqdn", "hex", protocol=True),
    OptionDef(82, "dhcp-agent-options", "hex", protocol=True),
    OptionDef(93, "client-system", "u16-list"),
    OptionDef(94, "client-ndi", "hex"),
    OptionDef(97, "uuid-guid", "hex"),
    OptionDef(100, "pcode", "string"),
    OptionDef(101, "tcode", "string"),
    OptionDef(108, "v6-only-preferred", "u32"),
    OptionDef(114, "v4-captive-portal", "string"),
    OptionDef(116, "auto-config", "u8"),
    OptionDef(118, "subnet-selection", "ip4", protocol=True),
    OptionDef(119, "domain-search", "domain-list"),
    OptionDef(121, "classless-static-route", "routes"),
    OptionDef(124, "vivco-suboptions", "hex"),
    OptionDef(125, "vivso-suboptions", "hex"),
    OptionDef(150, "tftp-server-address", "ip4-list"),
    OptionDef(252, "wpad-url", "string"),
)

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


def decode_for_display(code: int, data: bytes) -> Any:
    """A JSON-friendly rendering of one option value (for the probe, logs and the API)."""
    if code == Opt.MESSAGE_TYPE and len(data) == 1:
        return MESSAGE_NAMES.get(data[0], str(data[0]))
    if code == Opt.RELAY_AGENT_INFO:
        try:
            return {
                RelaySub(k).name.lower() if k in RelaySub._value2member_map_ else str(k): v.hex(":")
                for k, v in parse_suboptions(data).items()
            }
        except FormError:
            return data.hex(":")
    if code == Opt.CLIENT_FQDN:
        try:
            fq = ClientFqdn.from_wire(data)
            return {"flags": fq.flags, "name": fq.name}
        except FormError:
            return data.hex(":")
    definition = BY_CODE.get(code)
    if definition is None:
        return data.hex(":")
    try:
        return values.decode(definition.kind, data)
    except FormError:
        return data.hex(":")


def option_name(code: int) -> str:
    definition = BY_CODE.get(code)
    return definition.name if definition else f"option-{code}"


def parse_suboptions(data: bytes) -> dict[int, bytes]:
    """Option 82 (and other encapsulated) TLV sub-options; repeated codes are concatenated."""
    out: dict[int, bytes] = {}
    pos = 0
    end = len(data)
    while pos < end:
        if pos + 2 > end:
            raise FormError("sub-option header truncated", "bad-suboption")
        code = data[pos]
        length = data[pos + 1]
        stop = pos + 2 + length
        if stop > end:
            raise FormError(f"sub-option {code} runs past the end of its option", "bad-suboption")
        body = bytes(data[pos + 2 : stop])
        out[code] = out[code] + body if code in out else body
        pos = stop
    return out


def encode_suboptions(subs: dict[int, bytes]) -> bytes:
    out = bytearray()
    for code, body in subs.items():
        for i in range(0, max(len(body), 1), 255):
            chunk = body[i : i + 255]
            out.append(code)
            out.append(len(chunk))
            out += chunk
    return bytes(out)


def _fqdn_labels(body: bytes) -> str:
    """RFC 4702 §2.3.1 canonical wire form: labels, ending in a zero label (fully qualified) or
    not (a partial name such as a bare host label, as dhclient sends); no compression."""
    labels: list[str] = []
    pos = 0
    while pos < len(body):
        length = body[pos]
        if length == 0:
            if pos + 1 != len(body):
                raise FormError("data after the root label of the client FQDN", "bad-fqdn")
            return ".".join(labels)
        if length & 0xC0:
            raise FormError("compression is not allowed in the client FQDN option", "bad-fqdn")
        label = body[pos + 1 : pos + 1 + length]
        if len(label) != length:
            raise FormError("client FQDN label runs past the end of the option", "bad-fqdn")
        labels.append(label.decode("ascii", "backslashreplace"))
        pos += 1 + length
    return ".".join(labels)


FQDN_S: Final = 0x01  # the server does the A record update
FQDN_O: Final = 0x02  # the server overrode the client's S
FQDN_E: Final = 0x04  # the name is in RFC 1035 wire form
FQDN_N: Final = 0x08  # no update at all


class ClientFqdn:
    """Option 81 (RFC 4702 §2): flags, two deprecated rcodes and a name (wire form if E is set)."""

    __slots__ = ("flags", "name")
    FLAG_S: ClassVar[int] = FQDN_S
    FLAG_O: ClassVar[int] = FQDN_O
    FLAG_E: ClassVar[int] = FQDN_E
    FLAG_N: ClassVar[int] = FQDN_N

    def __init__(self, flags: int, name: str) -> None:
        self.flags = flags
        self.name = name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClientFqdn):
            return NotImplemented
        return self.flags == other.flags and self.name == other.name

    def __hash__(self) -> int:
        return hash((self.flags, self.name))

    def __repr__(self) -> str:
        return f"ClientFqdn(flags={self.flags:#04x}, name={self.name!r})"

    @classmethod
    def from_wire(cls, data: bytes) -> ClientFqdn:
        if len(data) < 3:
            raise FormError("client FQDN option shorter than 3 bytes", "bad-fqdn")
        flags = data[0]
        body = bytes(data[3:])
        name = _fqdn_labels(body) if flags & FQDN_E else body.decode("ascii", "backslashreplace")
        return cls(flags, name)

    def to_wire(self) -> bytes:
        if self.flags & FQDN_E:
            body = b"" if not self.name else values.encode_domain(self.name)
        else:
            body = self.name.encode("ascii")
        return bytes((self.flags, 255, 255)) + body
