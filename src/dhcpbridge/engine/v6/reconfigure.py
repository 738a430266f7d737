"""DHCPv6 Reconfigure (RFC 8415 §18.2.11, Reconfigure Key authentication §20.4): the key in the
REPLY of a client that sent Reconfigure Accept, and the signed RECONFIGURE message that makes it
renew (``engine.reconfigure`` has the shared rules)."""

from __future__ import annotations

from dhcpbridge.engine.reconfigure import HMAC_DIGEST, KEY_VALUE, MARK, auth_body, client_key, sign
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.v6.message import Message6, encode6
from dhcpbridge.wire.v6.options import Encoded, MessageType6, OptionCode6

RECONFIGURE = MessageType6.RECONFIGURE
ACCEPT = Encoded(OptionCode6.RECONF_ACCEPT, b"")


def accepts(env: Env6, tx: Transaction6) -> bool:
    """Whether this server sends Reconfigure and the client said it accepts them."""
    return bool(env.reconfigure_secret) and tx.request.has(OptionCode6.RECONF_ACCEPT)


def key_options(env: Env6, tx: Transaction6) -> list[Encoded]:
    """Reconfigure Accept and the Authentication option carrying the client's key, for a REPLY
    that binds something to a client that accepts Reconfigure; none otherwise."""
    if not tx.leases or not accepts(env, tx):
        return []
    key = client_key(env.reconfigure_secret, 6, tx.duid)
    return [ACCEPT, Encoded(OptionCode6.AUTH, auth_body(tx.now, KEY_VALUE, key))]


def mark(lease_info: dict[str, object] | None) -> dict[str, object]:
    """The lease info of a client that accepts Reconfigure."""
    return {**(lease_info or {}), MARK: True}


def reconfigure(env: Env6, duid: bytes, now: float, msg_type: int = MessageType6.RENEW) -> bytes:
    """A signed RECONFIGURE asking ``duid`` to send ``msg_type`` (RENEW, or INFORMATION-REQUEST):
    transaction-id 0, Server and Client Identifier, Reconfigure Message, Authentication."""
    key = client_key(env.reconfigure_secret, 6, duid)
    auth = Encoded(OptionCode6.AUTH, auth_body(now, HMAC_DIGEST, bytes(16)))
    msg = Message6(
        RECONFIGURE,
        0,
        [
            env.server_id,
            Encoded(OptionCode6.CLIENTID, duid),
            Encoded(OptionCode6.RECONF_MSG, bytes((msg_type,))),
            auth,
        ],
    )
    return sign(encode6(msg), auth.encode(), key)
