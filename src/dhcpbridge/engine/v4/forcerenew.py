"""DHCPv4 FORCERENEW (RFC 3203) with Forcerenew Nonce authentication (RFC 6704): the nonce in the
ACK of a client that sent FORCERENEW_NONCE_CAPABLE (option 145) naming HMAC-MD5, and the signed
FORCERENEW message that makes it renew (``engine.reconfigure`` has the shared rules).

The FORCERENEW carries the xid of the exchange that bound the lease (kept in the lease info as
``forcerenew-xid``): RFC 3203 leaves the field open, and dhcpcd (the client that implements
RFC 6704) drops any reply whose xid is not the one of its own last request."""

from __future__ import annotations

import struct

from dhcpbridge.engine.model import Lease
from dhcpbridge.engine.reconfigure import (
    ALGORITHM,
    HMAC_DIGEST,
    KEY_VALUE,
    MARK,
    auth_body,
    client_key,
    replay,
    sign,
)
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.wire.v4.message import BOOTREPLY, Message4, encode
from dhcpbridge.wire.v4.options import MessageType

_U32 = struct.Struct("!I")
FORCERENEW = bytes((int(MessageType.FORCERENEW),))
XID = "forcerenew-xid"  # the lease info key: the xid of the request that was ACKed


def accepts(env: Env4, tx: Transaction4) -> bool:
    """Whether this server sends FORCERENEW and the client can check them (option 145 names
    HMAC-MD5, RFC 6704 §3.1.1)."""
    if not env.reconfigure_secret:
        return False
    capable = tx.request.options.get(145)
    return capable is not None and ALGORITHM in capable


def mark(info: dict[str, object] | None, tx: Transaction4) -> dict[str, object]:
    """The lease info of a client that can be sent a FORCERENEW: marked, with the xid of this
    request (the one the client holds once bound)."""
    return {**(info or {}), MARK: True, XID: tx.request.xid}


def nonce_option(env: Env4, tx: Transaction4) -> bytes:
    """The body of option 90 that gives the client its nonce (RFC 6704 §3.2.1)."""
    return auth_body(tx.now, KEY_VALUE, client_key(env.reconfigure_secret, 4, tx.client_key))


def server_id(env: Env4, lease: Lease) -> int:
    """Our address for the client's subnet: its server-id, ``[server] server-id``, or a host
    address on that subnet (else any host address)."""
    subnet = env.subnets.by_address(lease.address)
    if subnet is not None and subnet.server_id:
        return subnet.server_id
    if env.server_id:
        return env.server_id
    local = sorted(env.host.local)
    on_link = [a for a in local if subnet is not None and subnet.contains(a)]
    return (on_link or local or [0])[0]


def forcerenew(env: Env4, lease: Lease, now: float) -> bytes:
    """A signed FORCERENEW for the client of ``lease`` (chaddr its MAC, option 54 our address,
    option 90 the HMAC-MD5 of the message under its nonce, RFC 6704 §3.2.2)."""
    key = client_key(env.reconfigure_secret, 4, lease.client)
    auth = auth_body(now, HMAC_DIGEST, bytes(16))
    mac = lease.hwaddr
    xid = (lease.info or {}).get(XID)
    if not isinstance(xid, int) or not 0 <= xid <= 0xFFFFFFFF:
        xid = replay(now) & 0xFFFFFFFF  # a lease marked before the xid was kept
    msg = Message4(BOOTREPLY, 1, len(mac), 0, xid, chaddr=mac)
    msg.ciaddr = lease.address
    msg.options = {53: FORCERENEW, 54: _U32.pack(server_id(env, lease)), 90: auth}
    return sign(encode(msg), bytes((90, len(auth))) + auth, key)
