"""``dhcpbridge reconfigure CLIENT``: make a client renew now, through the running server's own
sockets: a signed DHCPv6 RECONFIGURE (RFC 8415 §18.2.11) to the client's address, port 546, or a
signed DHCPv4 FORCERENEW (RFC 3203, RFC 6704) to its address, port 68. Only for a bound lease
whose client accepted them (its record is marked when the key went out, see
``engine.reconfigure``).

CLIENT is a lease address (that lease), a MAC or a DUID (hex, any separators): every bound lease
of that client in the store, both families - v4 by chaddr or client id (``01`` + MAC, or an
RFC 4361 ``ff`` + IAID + DUID), v6 by DUID, or by a MAC that its DUID-LL / DUID-LLT (or the
relay's RFC 6939 option) carries. One FORCERENEW per v4 lease, one RECONFIGURE per DUID (it
renews all of the client's bindings).

A relayed v6 client (its lease recorded the relay chain, ``engine.v6.relay_record``) is reached
through the same relays: the RECONFIGURE in one RELAY-REPL per relay, sent to the relay the
server heard it from (RFC 8415 §18.3.11, §19.3); the RELAY-REPLs carry the signed message
unchanged. Any other client is reached directly; one with only a delegated prefix at an address
it has from us. A RECONFIGURE to a client on a link of ours leaves from our link-local address
there: dhcpcd drops one from any other source (its dhcp6.c: "RECONFIGURE6 recv from ..., not
LL")."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from typing import Any, Protocol

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.engine.reconfigure import MARK
from dhcpbridge.engine.v4.engine import Engine4
from dhcpbridge.engine.v4.forcerenew import forcerenew
from dhcpbridge.engine.v6.engine import Engine6
from dhcpbridge.engine.v6.leasequery import client_leases, duid_of
from dhcpbridge.engine.v6.links import network_of
from dhcpbridge.engine.v6.reconfigure import reconfigure
from dhcpbridge.engine.v6.relay_record import relayed
from dhcpbridge.io.udp4 import Udp4Socket
from dhcpbridge.io.udp6 import Udp6Socket
from dhcpbridge.leases.base import LeaseQuery, QueriesLeases
from dhcpbridge.server.endpoint import Endpoint
from dhcpbridge.service import parse_address
from dhcpbridge.wire.v6.relay_chain import wrap
from dhcpbridge.wire.values import parse_id

V4, NA, PD = LeaseKind.V4, LeaseKind.NA, LeaseKind.PD
SCAN_CHUNK = 1024  # bound records read at a time when looking for a client's leases


class Reconfigurable(Protocol):
    """What this needs of the running server."""

    store: LeaseStore | None
    endpoints: dict[str, Endpoint]

    @property
    def engine4(self) -> Engine4 | None: ...

    @property
    def engine6(self) -> Engine6 | None: ...


async def _lease(server: Reconfigurable, kind: LeaseKind, address: int, now: float) -> Lease:
    store = server.store
    lease = None if store is None else await store.get(kind, address)
    text = str(ipaddress.ip_address(address))
    if lease is None or lease.state != LeaseState.BOUND or lease.expires <= now:
        raise ValueError(f"no lease for {text} is bound now")
    if not (lease.info or {}).get(MARK):
        try:
            _refuse(lease)
        except ValueError as exc:
            raise ValueError(f"{text}: {exc}") from None
    return lease


async def send(
    server: Reconfigurable, kind: LeaseKind, address: int, now: float | None = None
) -> dict[str, Any]:
    """Send it to the client of one lease; what was sent to where (``ValueError`` when it cannot be)."""
    now = time.time() if now is None else now
    return await _send(server, await _lease(server, kind, address, now), now)


async def send_client(server: Reconfigurable, client: str, now: float | None = None) -> dict[str, Any]:
    """CLIENT as a lease address: ``send``. As a MAC or DUID: one message per v4 lease and per
    DUID of its bound leases, ``{"client", "sent": [what, to, bytes, lease], "refused": [lease,
    error]}``; ``ValueError`` when none is bound, or none could be sent."""
    now = time.time() if now is None else now
    address = _address(client)
    if address is not None:
        return await send(server, address[0], address[1], now)
    key = parse_id(client, "a client (a lease address, a MAC or a DUID)")
    leases = await client_bound(server.store, key, now)
    if not leases:
        raise ValueError(f"no lease is bound to client {client}")
    sent: list[dict[str, Any]] = []
    refused: list[dict[str, str]] = []
    seen: set[bytes] = set()
    for lease in sorted(leases, key=lambda x: (int(x.kind), x.address)):  # v4, NA before PD
        if lease.kind != V4:
            duid = duid_of(lease)
            if duid in seen:
                continue  # one RECONFIGURE renews all of a DUID's bindings
            seen.add(duid)
        text = lease.address_text
        try:
            if not (lease.info or {}).get(MARK):
                _refuse(lease)
            sent.append({**await _send(server, lease, now), "lease": text})
        except ValueError as exc:
            refused.append({"lease": text, "error": str(exc)})
    if not sent:
        raise ValueError("; ".join(f"{r['lease']}: {r['error']}" for r in refused))
    return {"client": client, "sent": sent, "refused": refused}


def _address(text: str) -> tuple[LeaseKind, int] | None:
    """(kind, address) of a lease address (``2001:db8:1::/48`` a delegated prefix); None else."""
    try:
        return parse_address(text)
    except ValueError:
        return None


def _refuse(lease: Lease) -> None:
    what = "FORCERENEW (option 145)" if lease.kind == V4 else "Reconfigure (Reconfigure Accept)"
    raise ValueError(f"the client did not say it accepts {what}, or has not renewed since")


def duid_mac(duid: bytes) -> bytes:
    """The link-layer address a DUID-LL (type 3) or DUID-LLT (type 1) carries; b"" for others."""
    if duid[:2] == b"\x00\x03" and len(duid) > 4:
        return duid[4:]
    if duid[:2] == b"\x00\x01" and len(duid) > 8:
        return duid[8:]
    return b""


def is_client(lease: Lease, key: bytes) -> bool:
    """Whether ``key`` (a MAC or a DUID) names the client of ``lease``."""
    if lease.kind == V4:
        client = lease.client  # htype + chaddr, or the client id: 01 + MAC, ff + IAID + DUID, ...
        return key in (lease.hwaddr, client, client[1:]) or (client[:1] == b"\xff" and client[5:] == key)
    duid = duid_of(lease)
    return key in (duid, lease.hwaddr, duid_mac(duid))


async def client_bound(store: LeaseStore | None, key: bytes, now: float) -> list[Lease]:
    """Every lease of the client ``key`` names that is bound now, of both families: a scan of
    the store (an operator's command, not the packet path), of its bound records a chunk at a
    time where the store can query by state."""
    if store is None:
        return []
    out: list[Lease] = []
    for kind in (V4, NA, PD):
        if not isinstance(store, QueriesLeases):
            rows = await store.leases(kind)
            out += [x for x in rows if x.state == LeaseState.BOUND and x.expires > now and is_client(x, key)]
            continue
        after: tuple[int, int] | None = None
        while True:
            rows = await store.query(LeaseQuery(kind, LeaseState.BOUND, limit=SCAN_CHUNK, after=after))
            out += [x for x in rows if x.expires > now and is_client(x, key)]
            if len(rows) < SCAN_CHUNK:
                break
            after = (int(rows[-1].kind), rows[-1].address)
    return out


async def _send(server: Reconfigurable, lease: Lease, now: float) -> dict[str, Any]:
    kind, address = lease.kind, lease.address
    if kind == LeaseKind.V4:
        engine4, endpoint = server.engine4, server.endpoints.get("v4")
        if engine4 is None or endpoint is None or not engine4.env.reconfigure_secret:
            raise ValueError("DHCPv4 does not run, or [server] reconfigure-key-file is not set")
        data = forcerenew(engine4.env, lease, now)
        assert isinstance(endpoint.sock, Udp4Socket)
        endpoint.sock.send(data, lease.address, engine4.env.client_port)
        to = str(ipaddress.IPv4Address(lease.address))
        return {"sent": "FORCERENEW", "to": f"{to}:{engine4.env.client_port}", "bytes": len(data)}
    engine6, endpoint = server.engine6, server.endpoints.get("v6")
    if engine6 is None or endpoint is None or not engine6.env.reconfigure_secret:
        raise ValueError("DHCPv6 does not run, or [server] reconfigure-key-file is not set")
    env = engine6.env
    duid = duid_of(lease)
    assert isinstance(endpoint.sock, Udp6Socket)
    via = relayed(lease)
    if via is not None:  # through the relays it came by: one RELAY-REPL per relay (RFC 8415 §19.3)
        data = wrap(reconfigure(env, duid, now), via.chain)
        endpoint.sock.sock.sendto(data, (via.peer, via.port, 0, via.scope))
        return {"sent": "RECONFIGURE", "to": f"[{via.peer}]:{via.port}", "via": "relay", "bytes": len(data)}
    target = lease.address if kind == LeaseKind.NA else 0
    if not target:  # a delegated prefix: an address the client has from us
        target = next((x.address for x in await client_leases(env, duid, now) if x.kind == LeaseKind.NA), 0)
    if not target:
        raise ValueError(
            f"the client of {ipaddress.IPv6Address(address)} has no address of ours to reach it at"
        )
    data = reconfigure(env, duid, now)
    to = str(ipaddress.IPv6Address(target))
    link = link_of(env.host.networks, target)
    if link is None or not endpoint.sock.send_from_link_local(data, to, env.client_port, link):
        endpoint.sock.sock.sendto(data, (to, env.client_port, 0, 0))  # routed: the kernel's source
    return {"sent": "RECONFIGURE", "to": f"[{to}]:{env.client_port}", "bytes": len(data)}


def link_of(networks: Mapping[str, tuple[tuple[int, int], ...]], address: int) -> str | None:
    """The interface whose global IPv6 network holds ``address`` (the client is on that link)."""
    for name, nets in networks.items():
        if network_of(nets, address) is not None:
            return name
    return None
