"""Which DNS name a lease gets, and whether we write its forward record, its PTR, or nothing.

Order of trust: the source of truth (a reservation's or the bridge answer's ``hostname``), else
what the client asks for: option 81 (RFC 4702) or option 12 for DHCPv4, option 39 (RFC 4704) for
DHCPv6. The client's flags are honoured: N = 1 asks for no updates at all; S = 0 says the client
updates its own forward record (we then write only the PTR, unless ``override-client-update``).
Every label is sanitised to letters, digits and hyphens (RFC 952/1123), at most 63 characters.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.values import decode_name

FLAG_S = 0x01
FLAG_O = 0x02
FLAG_E = 0x04  # v4 only: the name is in wire form (RFC 4702 §2.3.1)
FLAG_N = 0x08  # v4 (RFC 4702); v6 has N = 0x04 (RFC 4704)
FLAG_N6 = 0x04
_BAD = re.compile(r"[^a-z0-9-]+")
_GOOD = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


@dataclass(frozen=True, slots=True)
class ClientFqdn:
    """What the client's FQDN option asked for: its flags and its (possibly partial) name."""

    server_updates_forward: bool  # S
    no_updates: bool  # N
    name: str


@dataclass(frozen=True, slots=True)
class Wanted:
    """The name to publish for one lease and which records to write."""

    fqdn: str  # absolute, lower case, ends with "."
    forward: bool
    reverse: bool
    origin: str  # "source", "option81", "option12", "option39", "generated"


def sanitise_label(text: str) -> str:
    """A valid host label from any text ("" when nothing usable is left)."""
    if _GOOD.fullmatch(text) and "--" not in text:
        return text  # already one (the common case): no rewriting
    label = _BAD.sub("-", text.strip().lower()).strip("-")
    return re.sub("-{2,}", "-", label)[:63].rstrip("-")


def address_label(address: str) -> str:
    """The address as a label: ``10-0-0-5``, ``fd00-1--5``."""
    return sanitise_label(address.replace(".", "-").replace(":", "-"))


def parse_option81(value: bytes) -> ClientFqdn | None:
    """RFC 4702 §2: flags, two deprecated RCODE octets, then the name (wire form when E = 1,
    else ASCII); None when malformed."""
    if len(value) < 3:
        return None
    flags = value[0]
    body = value[3:]
    name: str | None = ""
    if body:
        name = _wire_name(body, 0) if flags & FLAG_E else body.rstrip(b"\0").decode("ascii", "replace")
    return None if name is None else ClientFqdn(bool(flags & FLAG_S), bool(flags & FLAG_N), name)


def parse_option39(value: bytes) -> ClientFqdn | None:
    """RFC 4704 §4: flags then the name in wire form (may be partial); None when malformed."""
    if not value:
        return None
    flags = value[0]
    name = _wire_name(value, 1) if len(value) > 1 else ""
    return None if name is None else ClientFqdn(bool(flags & FLAG_S), bool(flags & FLAG_N6), name)


def _wire_name(data: bytes, start: int) -> str | None:
    """The name in wire form (may be partial) from ``start`` to the end; None when malformed or
    when bytes follow it."""
    try:
        name, end, _ = decode_name(data, start, len(data), allow_partial=True)
    except FormError:
        return None
    return name if end == len(data) else None


def qualify(text: str, domain: str, forward_zones: list[str]) -> str | None:
    """An absolute name for ``text``: kept when it lies in one of our forward zones, else its
    first label in ``domain``. None when no valid label is left."""
    parts = [sanitise_label(p) for p in text.strip().rstrip(".").split(".")]
    if not parts[0]:
        return None
    if len(parts) > 1 and all(parts):
        full = ".".join(parts) + "."
        if any(full.endswith("." + z) for z in forward_zones) and len(full) <= 254:
            return full
    return f"{parts[0]}.{domain}"


def client_fqdn(family: int, query: Any) -> ClientFqdn | None:
    """The client's FQDN option in ``query`` (a v4 or v6 transaction), None when absent."""
    request = getattr(query, "request", None)
    if request is None:
        return None
    if family == 4:
        value = request.options.get(81)
        return parse_option81(value) if value else None
    raw = request.raw(39)
    return parse_option39(raw) if raw else None


def wanted(
    family: int,
    address: str,
    lease_hostname: str,
    query: Any,
    domain: str,
    forward_zones: list[str],
    *,
    override_client_update: bool = False,
    generated_prefix: str | None = None,
) -> Wanted | None:
    """The name and records for a lease; None when nothing is to be published."""
    truth = ""
    answer = getattr(query, "answer", None) if query is not None else None
    if answer is not None and answer.hostname:
        truth = answer.hostname
    elif query is None:
        truth = lease_hostname  # admin action or restart: what the lease record kept
    fqdn_opt = client_fqdn(family, query) if query is not None else None
    forward = True
    if fqdn_opt is not None:
        if fqdn_opt.no_updates:
            return None
        forward = fqdn_opt.server_updates_forward or override_client_update
    candidates: list[tuple[str, str]] = []
    if truth:
        candidates.append((truth, "source"))
    if fqdn_opt is not None and fqdn_opt.name:
        candidates.append((fqdn_opt.name, "option81" if family == 4 else "option39"))
    option12: str = getattr(query, "hostname", "") if family == 4 and query is not None else ""
    if option12:
        candidates.append((option12, "option12"))
    if generated_prefix:
        candidates.append((f"{generated_prefix}-{address_label(address)}", "generated"))
    for text, origin in candidates:
        fqdn = qualify(text, domain, forward_zones)
        if fqdn is not None:
            return Wanted(fqdn, forward, True, origin)
    return None


def with_address(fqdn: str, address: str) -> str:
    """The clash alternative: ``host.example.`` -> ``host-10-0-0-5.example.``."""
    label, _, rest = fqdn.partition(".")
    return f"{(label + '-' + address_label(address))[:63].rstrip('-')}.{rest}"


def reverse_family(address: str) -> int:
    return ipaddress.ip_address(address).version
