"""Lease <-> the Redis store's record: a flat map of strings, the fields of the lease hash a Redis
user reads (``HGETALL 10.67.0.10``) plus ``_hex`` (the address as fixed-width hex, which the Lua
script compares against pool ranges) and its bookkeeping fields (``_free``, ``_reoffer``).

Times are ``repr`` of the float (exact round trip); binary values are hex (``client`` without
separators, as it also appears in key names; ``mac``, ``circuit-id``, ``remote-id`` with colons).
"""

from __future__ import annotations

import json
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


def _hexc(data: bytes) -> str:
    return data.hex(":")


def _unhexc(text: str) -> bytes:
    return bytes.fromhex(text.replace(":", ""))


def to_record(lease: Lease, with_address: bool = True) -> dict[str, str]:
    """The record of ``lease`` (its address left empty when the store is to choose it)."""
    kind = lease.kind
    rec = {
        "kind": KIND_NAMES[kind],
        "address": addr_text(kind, lease.address) if with_address else "",
        "_hex": addr_hex(kind, lease.address) if with_address else "",
        "client": lease.client.hex(),
        "mac": _hexc(lease.hwaddr),
        "hostname": lease.hostname,
        "state": STATE_NAMES[lease.state],
        "starts": repr(float(lease.starts)),
        "expires": repr(float(lease.expires)),
        "subnet": lease.subnet,
        "source": lease.source,
        "relay": lease.relay,
        "circuit-id": _hexc(lease.circuit_id),
        "remote-id": _hexc(lease.remote_id),
        "info": json.dumps(lease.info, separators=(",", ":")) if lease.info else "",
    }
    if kind != LeaseKind.V4:
        rec["prefix-len"] = str(lease.prefix_len)
        if len(lease.client) > 4:  # IAID (4 bytes) + DUID
            rec["iaid"] = str(int.from_bytes(lease.client[:4], "big"))
            rec["duid"] = _hexc(lease.client[4:])
    return rec


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
    return from_record(json.loads(raw))
