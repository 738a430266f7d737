"""Kea's memfile lease files (``kea-leases4.csv``, ``kea-leases6.csv``) read into ``Lease`` records.

A CSV with a header row; the v4 file has ``address,hwaddr,client_id,valid_lifetime,expire,
subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context``, the v6 file ``address,duid,
valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,...,hostname,hwaddr,
state,...``; which one it is follows from the header, and columns are found by name (Kea 1.x to
2.x add columns at the end). Kea appends a row at every change: the last row of an address wins
and a row with ``valid_lifetime`` 0 deletes the lease (as Kea's own loader does). ``state``:
0 -> BOUND, 1 (declined) -> DECLINED, 2 (expired-reclaimed) -> EXPIRED. Kea writes a comma in a
text field as ``&#x2c``. ``lease_type`` 0 is IA_NA, 2 IA_PD; temporary addresses (1) are skipped.
"""

from __future__ import annotations

import csv
import io
import json
import struct

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.files.common import (
    NEVER,
    LastWins,
    LeaseFileError,
    ReadResult,
    address_of,
    clean_hostname,
    parse_hex,
    parse_mac,
)

_STATES = {0: LeaseState.BOUND, 1: LeaseState.DECLINED, 2: LeaseState.EXPIRED}
_INFINITE = 0xFFFFFFFF


def _unescape(value: str) -> str:
    return value.replace("&#x2c", ",")


def _times(row: dict[str, str]) -> tuple[float, float]:
    valid = int(row["valid_lifetime"])
    expire = float(row["expire"])
    if valid == _INFINITE:
        return expire - valid, NEVER
    return expire - valid, expire


def _info(row: dict[str, str]) -> dict[str, object]:
    info: dict[str, object] = {}
    if row.get("subnet_id"):
        info["kea_subnet_id"] = int(row["subnet_id"])
    context = _unescape(row.get("user_context") or "")
    if context:
        try:
            info["kea_user_context"] = json.loads(context)
        except ValueError:
            info["kea_user_context"] = context
    return info


def _row4(row: dict[str, str], table: LastWins) -> None:
    address = address_of(row["address"], 4)
    if int(row["valid_lifetime"]) == 0:
        table.remove(LeaseKind.V4, address)
        return
    hwaddr = parse_mac(row.get("hwaddr", ""))
    client_id = parse_hex(row.get("client_id", ""))
    client = client_id or (b"\x01" + hwaddr if hwaddr else b"")
    if not client:
        raise ValueError("neither hwaddr nor client_id")
    table.add(_lease(row, address, client, hwaddr))


def _row6(row: dict[str, str], table: LastWins) -> None:
    address = address_of(row["address"], 6)
    lease_type = int(row.get("lease_type") or 0)
    if lease_type == 1:
        return  # IA_TA: dhcpbridge hands out no temporary addresses
    kind = LeaseKind.PD if lease_type == 2 else LeaseKind.NA
    if int(row["valid_lifetime"]) == 0:
        table.remove(kind, address)
        return
    duid = parse_hex(row["duid"])
    if not duid:
        raise ValueError("no DUID")
    client = struct.pack("!I", int(row["iaid"])) + duid
    lease = _lease(row, address, client, parse_mac(row.get("hwaddr", "")))
    lease.kind = kind
    lease.prefix_len = int(row.get("prefix_len") or 128) if kind == LeaseKind.PD else 128
    table.add(lease)


def _lease(row: dict[str, str], address: int, client: bytes, hwaddr: bytes) -> Lease:
    """The record of one CSV row, either family (the v4 kind and prefix length; v6 sets its own)."""
    starts, expires = _times(row)
    return Lease(
        address=address,
        client=client,
        state=_STATES.get(int(row.get("state") or 0), LeaseState.EXPIRED),
        starts=starts,
        expires=expires,
        hwaddr=hwaddr,
        hostname=clean_hostname(_unescape(row.get("hostname", ""))),
        source="kea",
        info=_info(row) or None,
    )


def read_kea_csv(text: str) -> ReadResult:
    """Every lease of a Kea memfile CSV (v4 or v6, told by its header); rows that cannot be read
    (short, bad address, bad number) are skipped with a warning naming their line."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return ReadResult()
    header = [h.strip() for h in header]
    if "address" not in header or "valid_lifetime" not in header or "expire" not in header:
        raise LeaseFileError(f"not a Kea memfile CSV (header: {','.join(header)[:80]!r})")
    v6 = "duid" in header
    handle = _row6 if v6 else _row4
    table = LastWins()
    warnings: list[str] = []
    for values in reader:
        line = reader.line_num
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) < len(header) and len(values) < 5:
            warnings.append(f"line {line}: {len(values)} field(s), the header has {len(header)} (skipped)")
            continue
        row = dict(zip(header, values, strict=False))
        try:
            handle(row, table)
        except (ValueError, KeyError) as exc:
            warnings.append(f"line {line}: skipped: {exc}")
    return table.result(warnings)
