"""Lease <-> the Redis store's record: a flat map of strings, the fields of the lease hash a Redis
user reads (``HGETALL 10.67.0.10``) plus ``_hex`` (the address as fixed-width hex, which the Lua
script compares against pool ranges) and its bookkeeping fields (``_free``, ``_reoffer``).

Times are ``repr`` of the float (exact round trip); binary values are hex (``client`` without
separators, as it also appears in key names; ``mac``, ``circuit-id``, ``remote-id`` with colons).
"""

from __future__ import annotations

import json
from json.encoder import encode_basestring_ascii as _quoted  # C: a JSON string, quotes included
from typing import Any

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.addresses import addr_int, addr_text

KIND_NAMES = {LeaseKind.V4: "v4", LeaseKind.NA: "na", LeaseKind.PD: "pd"}
KINDS_BY_NAME = {name: kind for kind, name in KIND_NAMES.items()}
STATE_NAMES = {state: state.name.lower() for state in LeaseState}
STATES_BY_NAME = {name: state for state, name in STATE_NAMES.items()}


def addr_hex(kind: LeaseKind, addr: int) -> str:
    """Fixed-width hex (8 digits for IPv4, 32 for IPv6): string order is address order."""
    return f"{addr:08x}" if kind == LeaseKind.V4 else f"{addr:032x}"


def member(kind: LeaseKind, addr: int) -> str:
    """How an address appears in a free set and in candidate lists: ``hex|text``."""
    return f"{addr_hex(kind, addr)}|{addr_text(kind, addr)}"


def _unhexc(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def record_json(lease: Lease, with_address: bool = True, cap: int = 0) -> str:
    """The record of ``lease`` as JSON (its address left empty when the store is to choose it).
    Built by hand, in a third of ``json.dumps``'s time (once or twice per packet): the fields are
    known, only the free-text ones need quoting. ``cap`` > 0 adds the ``_cap`` a v6 commit passes
    to the script (``max-leases-per-duid``)."""
    kind = lease.kind
    address = addr_text(kind, lease.address) if with_address else ""
    hexed = addr_hex(kind, lease.address) if with_address else ""
    info = json.dumps(lease.info, separators=(",", ":")) if lease.info else ""
    text = (
        f'{{"kind":"{KIND_NAMES[kind]}","address":"{address}","_hex":"{hexed}",'
        f'"client":"{lease.client.hex()}","mac":"{lease.hwaddr.hex(":")}",'
        f'"hostname":{_quoted(lease.hostname)},"state":"{STATE_NAMES[lease.state]}",'
        f'"starts":"{float(lease.starts)!r}","expires":"{float(lease.expires)!r}",'
        f'"subnet":{_quoted(lease.subnet)},"source":{_quoted(lease.source)},"relay":{_quoted(lease.relay)},'
        f'"circuit-id":"{lease.circuit_id.hex(":")}","remote-id":"{lease.remote_id.hex(":")}",'
        f'"info":{_quoted(info)}'
    )
    if kind != LeaseKind.V4:
        text += f',"prefix-len":"{lease.prefix_len}"'
        if len(lease.client) > 4:  # IAID (4 bytes) + DUID
            text += (
                f',"iaid":"{int.from_bytes(lease.client[:4], "big")}","duid":"{lease.client[4:].hex(":")}"'
            )
    if cap:
        text += f',"_cap":"{cap}"'
    return text + "}"


def from_record(rec: dict[str, Any]) -> Lease:
    kind = KINDS_BY_NAME[rec["kind"]]
    info = rec.get("info") or ""
    return Lease(
        address=addr_int(kind, rec["address"]),
        client=bytes.fromhex(rec["client"]),
        state=STATES_BY_NAME[rec["state"]],
        starts=float(rec["starts"]),
        expires=float(rec["expires"]),
        kind=kind,
        prefix_len=int(rec["prefix-len"]) if "prefix-len" in rec else 32,
        hwaddr=_unhexc(rec.get("mac", "")),
        hostname=rec.get("hostname", ""),
        subnet=rec.get("subnet", ""),
        source=rec.get("source", ""),
        relay=rec.get("relay", ""),
        circuit_id=_unhexc(rec.get("circuit-id", "")),
        remote_id=_unhexc(rec.get("remote-id", "")),
        info=json.loads(info) if info else None,
    )


def decode(raw: Any) -> Lease | None:
    """A record as the script returns it (JSON), or None."""
    if raw is None or raw is False:  # nil reply
        return None
    return from_record(_decode_json(raw.decode() if isinstance(raw, bytes) else raw))


_decode_json = json.JSONDecoder().decode  # ``json.loads`` less its checks: replies are UTF-8 JSON
