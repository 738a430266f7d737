"""DHCPv4 Leasequery (RFC 4388), answered from the lease store (any store): a requester (an
access concentrator or relay, listed in ``[server] leasequery-requesters``) asks by IP address
(ciaddr), by MAC address (chaddr) or by client identifier (option 61) and gets

* DHCPLEASEACTIVE: the address is bound; ciaddr, the client's chaddr, option 51 (the remaining
  lease time), option 91 (seconds since the client's last transaction), option 61 when the lease
  is keyed by one, option 92 (every bound address of the client, RFC 4388 §6.4.2) for a MAC or
  client-id query;
* DHCPLEASEUNASSIGNED: the address is ours (in a configured pool) but not bound now;
* DHCPLEASEUNKNOWN: not ours, or no lease for that MAC / client id.

The reply goes back to giaddr (the requester's own address, RFC 4388 §6.3), as a relayed reply
does. A MAC query finds leases keyed by htype + MAC, which is also the RFC 4361-less client id
``01:MAC`` most clients send."""

from __future__ import annotations

import struct

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.pipeline import CannotRespond
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.wire.v4.message import BOOTREPLY, Message4
from dhcpbridge.wire.v4.options import MessageType

V4 = LeaseKind.V4
_U32 = struct.Struct("!I")


def check_requester(env: Env4, tx: Transaction4) -> None:
    """Only the configured requesters, and only through giaddr (their own address)."""
    src = tx.meta.src_ip
    if not tx.request.giaddr:
        raise CannotRespond("leasequery-without-giaddr", "RFC 4388 §6.3: the requester sets giaddr")
    for network, mask in env.leasequery_requesters:
        if src & mask == network:
            return
    raise CannotRespond("leasequery-refused", f"requester {src} is not in leasequery-requesters")


def _bound(lease: Lease | None, now: float) -> bool:
    return lease is not None and lease.state == LeaseState.BOUND and lease.expires > now


def _ours(env: Env4, addr: int) -> bool:
    subnet = env.subnets.by_address(addr)
    return subnet is not None and subnet.in_pools(addr)


async def answer(env: Env4, tx: Transaction4) -> None:
    """Find the lease(s) and build the reply (``tx.reply``, ``tx.reply_type``)."""
    req = tx.request
    store = env.store
    now = tx.now
    found: list[Lease] = []
    if req.ciaddr:  # by IP address
        lease = await store.get(V4, req.ciaddr)
        if _bound(lease, now):
            assert lease is not None
            found.append(lease)
        kind = (
            MessageType.LEASEUNASSIGNED if not found and _ours(env, req.ciaddr) else MessageType.LEASEUNKNOWN
        )
    else:
        key = tx.client_id or (bytes((req.htype,)) + req.chaddr[: req.hlen] if req.hlen else b"")
        if not key:
            raise CannotRespond("malformed-leasequery", "no ciaddr, chaddr or client identifier")
        found = [lease for lease in await store.find_client(V4, key) if _bound(lease, now)]
        kind = MessageType.LEASEUNKNOWN
    opts: dict[int, bytes] = {53: bytes((int(MessageType.LEASEACTIVE if found else kind),))}
    opts[54] = _U32.pack(tx.server_id)
    reply = Message4(
        BOOTREPLY, req.htype, req.hlen, 0, req.xid, 0, req.flags, 0, 0, 0, req.giaddr, req.chaddr
    )
    reply.options = opts
    if found:
        found.sort(key=lambda lease: lease.starts, reverse=True)  # the most recent first
        latest = found[0]
        reply.ciaddr = latest.address
        if latest.hwaddr:
            reply.htype, reply.hlen = 1, len(latest.hwaddr)
            reply.chaddr = latest.hwaddr
        opts[51] = _U32.pack(max(0, int(latest.expires - now)))
        opts[91] = _U32.pack(max(0, int(now - latest.starts)))  # client-last-transaction-time
        if latest.client[:1] != b"\x01" or len(latest.client) != 7:  # keyed by a client id
            opts[61] = latest.client
        if not req.ciaddr:
            opts[92] = b"".join(_U32.pack(lease.address) for lease in found)  # associated-ip
    tx.reply = reply
    tx.reply_type = opts[53][0]
    tx.done = True
