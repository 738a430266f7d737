"""Which leases become which records: current leases (BOUND, not yet ended) of IPv4 and IPv6
addresses with a usable host name, the name matching ``--filter``.

Names: a host name under the fragment's zone (``origin``, e.g. ``web.rack1.lab.example`` in
``lab.example``) keeps every label below the zone (``web.rack1``); any other name gives its first
label (``laptop.home.arpa`` -> ``laptop``), each label sanitised as for DNS updates.

Records: one per name, family and client (the client's lease that started last; files without
start times, dnsmasq's: that ends last), so a name that
several clients hold (two interfaces of one host, a service on several machines) gets one record
for each of their addresses, and a client's older lease never doubles its name."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dhcpbridge.dns.names import sanitise_label
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState


@dataclass(frozen=True, order=True)
class Entry:
    """One record of the fragment."""

    name: str
    rrtype: str  # "A" or "AAAA"
    address: str
    hwaddr: str = ""

    def line(self, ttl: int | None) -> str:
        ttl_text = f"\t{ttl}" if ttl is not None else ""
        comment = f"\t; {self.hwaddr}" if self.hwaddr else ""
        return f"{self.name}{ttl_text}\tIN {self.rrtype}\t{self.address}{comment}"


def host_label(hostname: str, origin: str | None = None) -> str:
    """The fragment's (relative) name of a lease: see the module docstring; "" when none is left."""
    name = hostname.strip().rstrip(".").lower()
    zone = origin.strip().rstrip(".").lower() if origin else ""
    if zone and name.endswith("." + zone):
        labels = [sanitise_label(label) for label in name[: -len(zone) - 1].split(".")]
        return ".".join(labels) if all(labels) else ""
    return sanitise_label(name.split(".", 1)[0])


def select(
    leases: Iterable[Lease], now: float, pattern: re.Pattern[str] | None = None, origin: str | None = None
) -> list[Entry]:
    """The records for ``leases`` at time ``now``, sorted by name, type and address. ``pattern`` is
    matched (``re.search``) against the lease's host name as the server recorded it; ``origin`` is
    the zone the fragment is included in."""
    chosen: dict[tuple[str, str, bytes], Lease] = {}
    for lease in leases:
        if lease.state != LeaseState.BOUND or lease.expires <= now or lease.kind == LeaseKind.PD:
            continue
        if not lease.hostname or (pattern is not None and not pattern.search(lease.hostname)):
            continue
        name = host_label(lease.hostname, origin)
        if not name:
            continue
        key = (name, "A" if lease.kind == LeaseKind.V4 else "AAAA", lease.client or lease.hwaddr)
        best = chosen.get(key)
        if best is None or (lease.starts, lease.expires) > (best.starts, best.expires):
            chosen[key] = lease
    return sorted(
        {
            Entry(name, rrtype, lease.address_text, lease.hwaddr.hex(":"))
            for (name, rrtype, _), lease in chosen.items()
        }
    )
