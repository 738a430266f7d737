"""dnsmasq's lease file (``dnsmasq.leases``) read into ``Lease`` records.

One line per lease, rewritten whole at every change. DHCPv4 lines:
``EXPIRY MAC ADDRESS HOSTNAME CLIENT-ID`` (``*`` for an unknown name or client-id; a MAC of a
non-Ethernet type is written ``TT-xx:xx...``). After a ``duid SERVER-DUID`` line, DHCPv6 lines:
``EXPIRY IAID ADDRESS HOSTNAME CLIENT-DUID`` (a ``T`` before the IAID marks a temporary address,
skipped). EXPIRY is the absolute end in seconds since the epoch, 0 for an infinite lease.
dnsmasq keeps no start time; ``starts`` is the file's modification time (given by the caller)
when that is earlier than the end. Every lease in the file is current (BOUND).
"""

from __future__ import annotations

import struct

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.files.common import (
    NEVER,
    LastWins,
    ReadResult,
    address_of,
    clean_hostname,
    parse_hex,
    parse_mac,
)


def _hw(field: str) -> tuple[int, bytes]:
    """(hardware type, address) of dnsmasq's MAC field."""
    if len(field) > 3 and field[2] == "-" and ":" in field[3:]:
        return int(field[:2], 16), parse_mac(field[3:])
    return 1, parse_mac(field)


def _name(field: str) -> str:
    return "" if field == "*" else clean_hostname(field)


def read_dnsmasq(text: str, starts: float = 0.0) -> ReadResult:
    """Every lease of a ``dnsmasq.leases`` text; bad lines are skipped with a warning."""
    table = LastWins()
    warnings: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if fields[0] == "duid":
            continue  # the server's own DUID: v6 lines follow
        if len(fields) < 4:
            warnings.append(f"line {number}: {len(fields)} field(s), expected 5 (skipped)")
            continue
        try:
            expiry = int(fields[0])
            expires = NEVER if expiry == 0 else float(expiry)
            ident = fields[4] if len(fields) > 4 and fields[4] != "*" else ""
            if ":" in fields[2]:
                if fields[1].startswith("T"):
                    continue  # a temporary address (IA_TA)
                duid = parse_hex(ident)
                if not duid:
                    raise ValueError("a DHCPv6 lease without the client's DUID")
                lease = Lease(
                    address=address_of(fields[2], 6),
                    client=struct.pack("!I", int(fields[1])) + duid,
                    state=LeaseState.BOUND,
                    starts=min(starts, expires),
                    expires=expires,
                    kind=LeaseKind.NA,
                    prefix_len=128,
                    hostname=_name(fields[3]),
                    source="dnsmasq",
                )
            else:
                htype, hwaddr = _hw(fields[1])
                client = parse_hex(ident) or bytes((htype,)) + hwaddr
                lease = Lease(
                    address=address_of(fields[2], 4),
                    client=client,
                    state=LeaseState.BOUND,
                    starts=min(starts, expires),
                    expires=expires,
                    hwaddr=hwaddr,
                    hostname=_name(fields[3]),
                    source="dnsmasq",
                )
        except ValueError as exc:
            warnings.append(f"line {number}: skipped: {exc}")
            continue
        table.add(lease)
    return table.result(warnings)
