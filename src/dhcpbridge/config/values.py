"""What both halves of the config share: the base of every section (hyphenated keys, unknown keys
are errors), pool ranges (``first-last`` or a CIDR block) and option tables checked by the wire
encoders, for IPv4 and IPv6, the checked text types (``HostPort``, ``DuidText``), a listener's
host (``split_listen``, ``is_loopback``) and a section's TLS files (``TlsFiles``)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, cast

from pydantic import AfterValidator, BaseModel, ConfigDict

from dhcpbridge.wire.duid import parse_duid_text
from dhcpbridge.wire.v4 import options as options4
from dhcpbridge.wire.v6 import options as options6


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class Strict(BaseModel):
    """A config section: keys spelled with hyphens (``lease-time``), unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", alias_generator=_kebab, populate_by_name=True, frozen=True)


def split_listen(value: str) -> tuple[str, int]:
    """``127.0.0.1:8267`` / ``[::1]:8267`` -> (host, port); ``ValueError`` when malformed."""
    host, _, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} must be HOST:PORT, e.g. 127.0.0.1:8267 or [::1]:8267")
    return host, int(port)


A = TypeVar("A", ipaddress.IPv4Address, ipaddress.IPv6Address)


def _range(text: str, address: Callable[[str], A], network: Callable[..., Any]) -> tuple[A, A]:
    text = text.strip()
    if "-" in text:
        first_text, last_text = (p.strip() for p in text.split("-", 1))
        first, last = address(first_text), address(last_text)
    else:
        net = network(text, strict=True)
        first, last = cast(A, net.network_address), cast(A, net.broadcast_address)
    if int(last) < int(first):
        raise ValueError(f"pool {text!r} ends before it starts")
    return first, last


def parse_range(text: str) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
    """An IPv4 pool: ``first-last`` or a CIDR block (all of its addresses)."""
    return _range(text, ipaddress.IPv4Address, ipaddress.IPv4Network)


def parse_range6(text: str) -> tuple[ipaddress.IPv6Address, ipaddress.IPv6Address]:
    """An IA_NA pool: ``first-last`` or a CIDR block (all of its addresses)."""
    return _range(text, ipaddress.IPv6Address, ipaddress.IPv6Network)


def is_loopback(host: str) -> bool:
    """Whether a listener on ``host`` (an address or ``localhost``) is reachable from this host only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TlsFiles(Strict):
    """A section with a TLS certificate and its key, both or neither (its validator calls
    ``check_tls``)."""

    tls_cert: str | None = None
    tls_key: str | None = None

    def check_tls(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls-cert and tls-key go together")


def _checked(parse: Callable[[str], object]) -> Callable[[str], str]:
    def check(text: str) -> str:
        parse(text)
        return text

    return check


def _options_checked(encode: Callable[[str, Any], object]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def check(raw: dict[str, Any]) -> dict[str, Any]:
        for key, value in raw.items():
            try:
                encode(key, value)
            except ValueError as exc:
                raise ValueError(f"option {key!r}: {exc}") from None
        return raw

    return check


PoolText = Annotated[str, AfterValidator(_checked(parse_range))]
Pool6Text = Annotated[str, AfterValidator(_checked(parse_range6))]
HostPort = Annotated[str, AfterValidator(_checked(split_listen))]  # where a listener listens
DuidText = Annotated[str, AfterValidator(_checked(parse_duid_text))]  # a DUID as text
OptionTable = Annotated[dict[str, Any], AfterValidator(_options_checked(options4.encode_config_option))]
Option6Table = Annotated[dict[str, Any], AfterValidator(_options_checked(options6.encode_config_options6))]
