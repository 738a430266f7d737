"""What every lease-file reader shares: the result type (leases + warnings), the last-record-wins
table, and small value parsers (MAC addresses, hex strings, the "never" expiry).

Readers never raise on a bad record: a record they cannot read is skipped with a warning that
names its line, so one damaged line in a file of thousands does not stop an import.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from dhcpbridge.engine.model import Lease, LeaseKind

NEVER = float(2**32 - 1)
"""``expires`` of a lease that never ends (dhcpd ``ends never``, dnsmasq expiry 0, Kea's infinite
valid lifetime): 2106-02-07, the largest time a DHCP lease time can reach."""


class LeaseFileError(Exception):
    """A file that is not a lease file of the named format at all (not: one bad record)."""


@dataclass
class ReadResult:
    """The leases of one file (the last record of each address), and what was skipped."""

    leases: list[Lease] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: int = 0  # records read (before the last one of each address wins)


class LastWins:
    """Lease records by (kind, address): a later record of an address replaces the earlier one,
    as dhcpd, Kea and dnsmasq mean it when they append to their files."""

    def __init__(self) -> None:
        self._table: dict[tuple[LeaseKind, int], Lease] = {}
        self.records = 0

    def add(self, lease: Lease) -> None:
        self.records += 1
        key = (lease.kind, lease.address)
        self._table.pop(key, None)  # re-inserted: the order is the order of the last records
        self._table[key] = lease

    def remove(self, kind: LeaseKind, address: int) -> None:
        self.records += 1
        self._table.pop((kind, address), None)

    def result(self, warnings: list[str]) -> ReadResult:
        return ReadResult(list(self._table.values()), warnings, self.records)


def parse_mac(text: str) -> bytes:
    """``02:67:00:00:00:02`` (or with ``-``) -> bytes; ValueError when it is not hex pairs."""
    text = text.strip()
    if not text:
        return b""
    parts = text.replace("-", ":").split(":")
    if any(len(p) not in (1, 2) for p in parts):
        raise ValueError(f"not a hardware address: {text!r}")
    return bytes(int(p, 16) for p in parts)


def parse_hex(text: str) -> bytes:
    """Colon-separated (or plain) hex -> bytes."""
    text = text.strip()
    if ":" in text:
        return parse_mac(text)
    return bytes.fromhex(text)


def address_of(text: str, version: int) -> int:
    """An address of the given IP version as an int; ValueError otherwise."""
    ip = ipaddress.ip_address(text.strip())
    if ip.version != version:
        raise ValueError(f"{text!r} is not an IPv{version} address")
    return int(ip)


def clean_hostname(name: str) -> str:
    """A client's name as written in the file, without a trailing dot."""
    return name.strip().rstrip(".")
