"""Which leases become which records: current leases (BOUND, not yet ended) of IPv4 and IPv6
addresses with a usable host name, the name matching ``--filter``, one record per name and family
(the lease that started last wins)."""

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


def host_label(hostname: str) -> str:
    """The fragment's (relative) name of a lease: the first label of its host name, sanitised."""
    return sanitise_label(hostname.split(".", 1)[0])


def select(leases: Iterable[Lease], now: float, pattern: re.Pattern[str] | None = None) -> list[Entry]:
    """The records for ``leases`` at time ``now``, sorted by name and type. ``pattern`` is matched
    (``re.search``) against the lease's host name as the server recorded it."""
    chosen: dict[tuple[str, str], Lease] = {}
    for lease in leases:
        if lease.state != LeaseState.BOUND or lease.expires <= now or lease.kind == LeaseKind.PD:
            continue
        if not lease.hostname or (pattern is not None and not pattern.search(lease.hostname)):
            continue
        name = host_label(lease.hostname)
        if not name:
            continue
        key = (name, "A" if lease.kind == LeaseKind.V4 else "AAAA")
        best = chosen.get(key)
        if best is None or lease.starts > best.starts:
            chosen[key] = lease
    return sorted(
        Entry(name, rrtype, lease.address_text, lease.hwaddr.hex(":"))
        for (name, rrtype), lease in chosen.items()
    )
