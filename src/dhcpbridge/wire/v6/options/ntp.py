"""Time servers: SNTP server addresses and NTP time sources (RFC 4075, RFC 5908), and the
``ntp-servers`` configuration value kind that builds them."""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import Any

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import expect_length
from dhcpbridge.wire.v6.options.base import HDR, parse_options
from dhcpbridge.wire.v6.options.codes import (
    NTP_SUBOPTION_MC_ADDR,
    NTP_SUBOPTION_SRV_ADDR,
    NTP_SUBOPTION_SRV_FQDN,
    OptionCode6,
)
from dhcpbridge.wire.v6.options.shapes import AddressListOption, FieldsOption
from dhcpbridge.wire.values import decode_name

__all__ = ["NtpEntry", "NtpServer", "SntpServers", "ntp_entries"]


class SntpServers(AddressListOption):
    """OPTION_SNTP_SERVERS (31): SNTP server addresses (RFC 4075 §4)."""

    CODE = OptionCode6.SNTP_SERVERS


NtpEntry = tuple[int, IPv6Address | str | bytes]


class NtpServer(FieldsOption):
    """OPTION_NTP_SERVER (56): time source sub-options (RFC 5908 §4).

    Each entry is ``(NTP_SUBOPTION_SRV_ADDR, IPv6Address)``, ``(NTP_SUBOPTION_MC_ADDR,
    IPv6Address)``, ``(NTP_SUBOPTION_SRV_FQDN, "ntp.example.")`` or ``(code, bytes)`` for unknown
    sub-options. RFC 5908 wants exactly one time source per option instance (the option may
    repeat); many servers and clients also use several sub-options in one instance.
    """

    CODE = OptionCode6.NTP_SERVER
    _FIELDS = ("entries",)
    entries: list[NtpEntry]

    @classmethod
    def _read(cls, data: bytes) -> Any:
        entries: list[NtpEntry] = []
        for sub in parse_options(data):
            body = sub.to_wire()
            if sub.code in (NTP_SUBOPTION_SRV_ADDR, NTP_SUBOPTION_MC_ADDR):
                expect_length(body, 16, "NTP address sub-option")
                entries.append((sub.code, IPv6Address(body)))
            elif sub.code == NTP_SUBOPTION_SRV_FQDN:
                name, pos, _ = decode_name(body, 0, len(body), allow_partial=False)
                if pos != len(body):
                    raise FormError("NTP FQDN sub-option has trailing bytes", "bad-length")
                entries.append((sub.code, name))
            else:
                entries.append((sub.code, body))
        return entries

    def _write(self, value: Any) -> bytes:
        out = bytearray()
        for sub, item in value:
            if isinstance(item, IPv6Address):
                body = item.packed
            elif isinstance(item, str):
                body = values.encode_domain(item)
            else:
                body = bytes(item)
            out += HDR.pack(sub, len(body)) + body
        return bytes(out)

    def to_json(self) -> Any:
        out: list[Any] = []
        for sub, value in self.entries:
            if sub == NTP_SUBOPTION_SRV_ADDR:
                out.append({"address": str(value)})
            elif sub == NTP_SUBOPTION_MC_ADDR:
                out.append({"multicast": str(value)})
            elif sub == NTP_SUBOPTION_SRV_FQDN:
                out.append({"fqdn": value})
            else:
                out.append(
                    {"code": sub, "data": bytes(value).hex(":") if isinstance(value, bytes) else str(value)}
                )
        return out


def ntp_entries(value: Any) -> list[NtpEntry]:
    """NTP time sources from a config value: addresses (multicast ones as MC_ADDR) or names."""
    if isinstance(value, str):
        items: list[Any] = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise ValueError("expected at least one NTP server")
    entries: list[NtpEntry] = []
    for item in items:
        text = str(item).strip()
        try:
            addr = IPv6Address(text)
        except ValueError:
            if not text or ":" in text:
                raise ValueError(f"{text!r} is neither an IPv6 address nor a domain name") from None
            values.encode_domain(text)  # validate now, with a clear message
            entries.append((NTP_SUBOPTION_SRV_FQDN, text))
            continue
        entries.append((NTP_SUBOPTION_MC_ADDR if addr.is_multicast else NTP_SUBOPTION_SRV_ADDR, addr))
    return entries
