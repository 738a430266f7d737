"""``dhcpbridge reconfigure ADDRESS``: make the client of a lease renew now, through the running
server's own sockets: a signed DHCPv6 RECONFIGURE (RFC 8415 §18.2.11) to the client's address,
port 546, or a signed DHCPv4 FORCERENEW (RFC 3203, RFC 6704) to its address, port 68. Only for a
bound lease whose client accepted them (its record is marked when the key went out, see
``engine.reconfigure``). A client with only a delegated prefix is reached at an address it has
from us; relayed clients are reached directly at their (routable) address, not through the
relay. A RECONFIGURE to a client on a link of ours leaves from our link-local address there:
dhcpcd drops one from any other source (its dhcp6.c: "RECONFIGURE6 recv from ..., not LL")."""

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
from dhcpbridge.engine.v6.reconfigure import reconfigure
from dhcpbridge.io.udp4 import Udp4Socket
from dhcpbridge.io.udp6 import Udp6Socket
from dhcpbridge.server.endpoint import Endpoint


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
        what = "FORCERENEW (option 145)" if kind == LeaseKind.V4 else "Reconfigure (Reconfigure Accept)"
        raise ValueError(f"the client of {text} did not say it accepts {what}, or has not renewed since")
    return lease


async def send(
    server: Reconfigurable, kind: LeaseKind, address: int, now: float | None = None
) -> dict[str, Any]:
    """Send it; what was sent to where (``ValueError`` when it cannot be)."""
    now = time.time() if now is None else now
    lease = await _lease(server, kind, address, now)
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
    target = lease.address if kind == LeaseKind.NA else 0
    if not target:  # a delegated prefix: an address the client has from us
        target = next((x.address for x in await client_leases(env, duid, now) if x.kind == LeaseKind.NA), 0)
    if not target:
        raise ValueError(
            f"the client of {ipaddress.IPv6Address(address)} has no address of ours to reach it at"
        )
    data = reconfigure(env, duid, now)
    to = str(ipaddress.IPv6Address(target))
    assert isinstance(endpoint.sock, Udp6Socket)
    link = link_of(env.host.networks, target)
    if link is None or not endpoint.sock.send_from_link_local(data, to, env.client_port, link):
        endpoint.sock.sock.sendto(data, (to, env.client_port, 0, 0))  # routed: the kernel's source
    return {"sent": "RECONFIGURE", "to": f"[{to}]:{env.client_port}", "bytes": len(data)}


def link_of(networks: Mapping[str, tuple[tuple[int, int], ...]], address: int) -> str | None:
    """The interface whose global IPv6 network holds ``address`` (the client is on that link)."""
    for name, nets in networks.items():
        for net, length in nets:
            shift = 128 - length
            if address >> shift == net >> shift:
                return name
    return None
