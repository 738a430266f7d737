"""What a DHCPv6 lease keeps of the relays its client came through (``info["relayed"]``): the
relay the server received the client's last message from (its address, the port to answer at -
547, or its source port with an RFC 8357 Relay Source Port option - and the interface for a
link-local relay) and the RELAY-FORW chain without the client's message
(``wire.v6.relay_chain``), in hex.

Kept at bind time (REPLY that binds or extends), and only where something uses it, so that a
plain server pays nothing per lease: a client that accepts Reconfigure (a RECONFIGURE to it goes
back through those relays, RFC 8415 §18.3.11 / §19.3) and every client when leasequery is on
(OPTION_LQ_RELAY_DATA, RFC 5007 §4.1.2.4). A later message that comes without relays binds a
record without it: the record always says how the client was last reached."""

from __future__ import annotations

from typing import Any, NamedTuple

from dhcpbridge.engine.model import Lease
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.v6.options import OptionCode6
from dhcpbridge.wire.v6.relay_chain import chain_bytes

KEY = "relayed"


class Relayed(NamedTuple):
    """Where the relay chain of a lease starts and the chain itself."""

    peer: str  # the relay the server heard the client's message from
    port: int  # where that relay takes the RELAY-REPL
    scope: int  # its interface index when ``peer`` is link-local, else 0
    chain: bytes  # ``wire.v6.relay_chain.chain_bytes``


def record(tx: Transaction6, relay_port: int) -> dict[str, Any]:
    """The ``info["relayed"]`` of a relayed transaction (``tx.relays`` not empty)."""
    meta = tx.meta
    port = meta.src_port if tx.relays[0].has(OptionCode6.RELAY_SOURCE_PORT) else relay_port
    out: dict[str, Any] = {"from": meta.src, "port": port, "chain": chain_bytes(tx.relays).hex()}
    if meta.src.startswith("fe80:"):
        out["ifindex"] = meta.ifindex
    return out


def relayed(lease: Lease) -> Relayed | None:
    """The relay chain a lease recorded; None when its client was not relayed (or the record
    is not one this module wrote)."""
    rec = (lease.info or {}).get(KEY)
    if not isinstance(rec, dict):
        return None
    try:
        return Relayed(
            str(rec["from"]), int(rec["port"]), int(rec.get("ifindex", 0)), bytes.fromhex(rec["chain"])
        )
    except (KeyError, TypeError, ValueError):
        return None
