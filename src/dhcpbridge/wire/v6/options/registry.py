"""The DHCPv6 configuration registry: option names like ``dns-servers`` -> (code, value kind), and
the encoders of configured options (kinds of :mod:`dhcpbridge.wire.values` plus ``ntp-servers``)."""

from __future__ import annotations

from typing import Any

from dhcpbridge.wire import values
from dhcpbridge.wire.v6.options.codes import OptionCode6, option_name
from dhcpbridge.wire.v6.options.ntp import NtpServer, ntp_entries
from dhcpbridge.wire.values import decode_names

__all__ = [
    "KINDS6",
    "OPTIONS6",
    "configured_kind",
    "decode_kind",
    "encode_config_option6",
    "encode_config_options6",
]


def _encode_ntp(value: Any) -> bytes:
    return NtpServer(ntp_entries(value)).to_wire()


def _decode_ntp(data: bytes) -> Any:
    return NtpServer.from_wire(data).to_json()


#: Value kinds DHCPv6 needs beyond :data:`dhcpbridge.wire.values.KINDS`.
KINDS6: dict[str, tuple[values.Encoder, values.Decoder]] = {
    "ntp-servers": (_encode_ntp, _decode_ntp),
}

#: Configuration name -> (option code, value kind).
OPTIONS6: dict[str, tuple[int, str]] = {
    "dns-servers": (OptionCode6.DNS_SERVERS, "ip6-list"),
    "domain-search": (OptionCode6.DOMAIN_LIST, "domain-list"),
    "ntp-servers": (OptionCode6.NTP_SERVER, "ntp-servers"),
    "sntp-servers": (OptionCode6.SNTP_SERVERS, "ip6-list"),
    "information-refresh-time": (OptionCode6.INFORMATION_REFRESH_TIME, "u32"),
    "preference": (OptionCode6.PREFERENCE, "u8"),
    "sol-max-rt": (OptionCode6.SOL_MAX_RT, "u32"),
    "inf-max-rt": (OptionCode6.INF_MAX_RT, "u32"),
    "unicast": (OptionCode6.UNICAST, "ip6"),
    "sip-server-domains": (OptionCode6.SIP_SERVER_D, "domain-list"),
    "sip-server-addresses": (OptionCode6.SIP_SERVER_A, "ip6-list"),
    "nis-servers": (OptionCode6.NIS_SERVERS, "ip6-list"),
    "nisp-servers": (OptionCode6.NISP_SERVERS, "ip6-list"),
    "nis-domain-name": (OptionCode6.NIS_DOMAIN_NAME, "domain-list"),
    "nisp-domain-name": (OptionCode6.NISP_DOMAIN_NAME, "domain-list"),
    "posix-timezone": (OptionCode6.NEW_POSIX_TIMEZONE, "string"),
    "tzdb-timezone": (OptionCode6.NEW_TZDB_TIMEZONE, "string"),
    "bootfile-url": (OptionCode6.BOOTFILE_URL, "string"),
    "aftr-name": (OptionCode6.AFTR_NAME, "domain-list"),
}
_ALIASES = {"domain-list": "domain-search", "dns-search": "domain-search", "ntp-server": "ntp-servers"}
_CODE_TO_KIND: dict[int, str] = {code: kind for code, kind in OPTIONS6.values()}
#: Codes the server builds itself (or that only clients/relays send): not configurable by code.
_RESERVED = frozenset(
    {
        OptionCode6.CLIENTID,
        OptionCode6.SERVERID,
        OptionCode6.IA_NA,
        OptionCode6.IA_TA,
        OptionCode6.IAADDR,
        OptionCode6.ORO,
        OptionCode6.ELAPSED_TIME,
        OptionCode6.RELAY_MSG,
        OptionCode6.STATUS_CODE,
        OptionCode6.RAPID_COMMIT,
        OptionCode6.IA_PD,
        OptionCode6.IAPREFIX,
        OptionCode6.INTERFACE_ID,
    }
)


def _kind_encode(kind: str, value: Any) -> bytes:
    if kind in KINDS6:
        try:
            return KINDS6[kind][0](value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid {kind} value {value!r}: {exc}") from None
    return values.encode(kind, value)


def decode_kind(kind: str, data: bytes) -> Any:
    """Decode a body of value ``kind`` (``FormError`` if malformed)."""
    if kind in KINDS6:
        return KINDS6[kind][1](data)
    if kind == "domain-list":
        return decode_names(data)
    return values.decode(kind, data)


def _resolve(name_or_code: str | int) -> tuple[int, str, str]:
    """(code, kind, label) for a configured option name, ``"NNN"`` or ``"NNN:kind"``."""
    if isinstance(name_or_code, int) and not isinstance(name_or_code, bool):
        text = str(name_or_code)
    elif isinstance(name_or_code, str):
        text = name_or_code.strip()
    else:
        raise ValueError(f"option must be a name or a code, got {name_or_code!r}")
    key = _ALIASES.get(text.lower(), text.lower())
    if key in OPTIONS6:
        code, kind = OPTIONS6[key]
        return code, kind, key
    code_text, sep, kind = key.partition(":")
    if code_text.startswith("option-"):
        code_text = code_text[len("option-") :]
    if not code_text.isdigit():
        known = ", ".join(sorted(OPTIONS6))
        raise ValueError(
            f"unknown DHCPv6 option {name_or_code!r}: use a name ({known}) or a code like '65' or '65:string'"
        )
    code = int(code_text)
    if not 0 < code <= 0xFFFF:
        raise ValueError(f"DHCPv6 option code {code} is outside 1..65535")
    if code in _RESERVED:
        raise ValueError(
            f"DHCPv6 option {code} ({option_name(code)}) is built by the server and cannot be configured"
        )
    if not sep:
        kind = _CODE_TO_KIND.get(code, "hex")
    elif kind not in values.KINDS and kind not in KINDS6:
        known = ", ".join(sorted({*values.KINDS, *KINDS6}))
        raise ValueError(f"unknown value kind {kind!r} for option {code} (known: {known})")
    return code, kind, f"option {code}"


def encode_config_option6(name_or_code: str | int, value: Any) -> tuple[int, bytes]:
    """A configured DHCPv6 option as ``(code, body)``; ``ValueError`` with a readable reason.

    ``name_or_code``: a registry name (``dns-servers``, ``domain-search``, ``ntp-servers``, ...),
    a code (``"65"``: its registered kind, else hex) or ``"code:kind"`` (``"65:string"``) with a
    kind from :mod:`dhcpbridge.wire.values`. ``ntp-servers`` puts every server in ONE option 56
    (one sub-option each: the form dnsmasq/systemd emit); use :func:`encode_config_options6` for
    the RFC 5908 form with one option instance per server.
    """
    code, kind, label = _resolve(name_or_code)
    try:
        body = _kind_encode(kind, value)
    except ValueError as exc:
        raise ValueError(f"DHCPv6 {label}: {exc}") from None
    if len(body) > 0xFFFF:
        raise ValueError(f"DHCPv6 {label}: encoded value is {len(body)} bytes, more than 65535")
    return code, body


def encode_config_options6(name_or_code: str | int, value: Any) -> list[tuple[int, bytes]]:
    """Like :func:`encode_config_option6`, but ``ntp-servers`` yields one option per server (RFC 5908 §4)."""
    code, kind, label = _resolve(name_or_code)
    if kind == "ntp-servers":
        try:
            entries = ntp_entries(value)
        except ValueError as exc:
            raise ValueError(f"DHCPv6 {label}: {exc}") from None
        return [(code, NtpServer([e]).to_wire()) for e in entries]
    return [encode_config_option6(name_or_code, value)]


def configured_kind(code: int) -> str | None:
    """The value kind the registry gives ``code``, None for codes it does not name."""
    return _CODE_TO_KIND.get(code)
