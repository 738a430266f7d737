"""Server-initiated renewal, both families: DHCPv6 Reconfigure (RFC 8415 §18.2.11) authenticated
with the Reconfigure Key protocol (§20.4), and DHCPv4 FORCERENEW (RFC 3203) authenticated with the
Forcerenew Nonce protocol (RFC 6704). Both work the same way: a client that says it accepts them
(v6 Reconfigure Accept, option 20; v4 FORCERENEW_NONCE_CAPABLE, option 145 naming HMAC-MD5) gets
a 16-byte key in the Authentication option (v6 11, v4 90; protocol 3, algorithm 1 HMAC-MD5,
replay detection method 0, info type 1 = the key) of the Reply / ACK that binds its lease, and
its lease record is marked (``info["reconfigure"]``); later the server may send it a Reconfigure /
FORCERENEW whose Authentication option carries the HMAC-MD5 of the whole message under that key
(info type 2), and the client renews.

The key is not stored: it is derived from ``[server] reconfigure-key-file`` (a secret) and the
client's identity (v6 DUID, v4 client id or htype + MAC), so every server sharing the secret
knows it and a restart keeps it. The replay detection value is the time in milliseconds
(monotonic as long as the clock is). Pure: the caller passes ``now``."""

from __future__ import annotations

import hashlib
import hmac
import struct

#: Authentication option: protocol 3 (v6 Reconfigure Key, RFC 8415 §20.4; v4 Forcerenew Nonce,
#: RFC 6704 §3.2), algorithm 1 (HMAC-MD5), replay detection method 0 (a monotonic counter)
PROTOCOL, ALGORITHM, RDM = 3, 1, 0
KEY_VALUE, HMAC_DIGEST = 1, 2  # the auth info's type: the key itself / an HMAC-MD5 of the message
MARK = "reconfigure"  # the lease info key saying the client accepts Reconfigure / FORCERENEW
MARKED: dict[str, object] = {MARK: True}
_HEAD = struct.Struct("!BBBQB")


def client_key(secret: bytes, family: int, client: bytes) -> bytes:
    """The client's 16-byte key: an HMAC-SHA256 of its identity under the server's secret."""
    return hmac.new(secret, bytes((family,)) + client, hashlib.sha256).digest()[:16]


def replay(now: float) -> int:
    """The replay detection value: milliseconds since the epoch."""
    return int(now * 1000)


def auth_body(now: float, kind: int, value: bytes) -> bytes:
    """The Authentication option's body (v6 option 11 and v4 option 90 have the same layout)."""
    return _HEAD.pack(PROTOCOL, ALGORITHM, RDM, replay(now), kind) + value


def sign(message: bytes, auth_option: bytes, key: bytes) -> bytes:
    """``message`` (which carries ``auth_option``, an HMAC-MD5 Authentication option with a zero
    digest, header included) with the digest filled in: the HMAC-MD5 of the whole message with
    the digest zeroed (RFC 8415 §20.4.2, RFC 6704 §3.2.2 after RFC 3118 §5)."""
    at = message.find(auth_option)
    if at < 0 or not auth_option.endswith(bytes(16)):
        raise ValueError("the message does not carry the Authentication option to sign")
    digest = hmac.new(key, message, hashlib.md5).digest()
    end = at + len(auth_option)
    return message[: end - 16] + digest + message[end:]


def verify(message: bytes, key: bytes) -> bool:
    """Whether a signed message carries the right digest (what a client checks): some HMAC-MD5
    Authentication option of it (protocol 3, info type 2) holds the HMAC-MD5 of the message with
    that digest zeroed."""
    head = bytes((PROTOCOL, ALGORITHM, RDM))
    at = message.find(head)
    while at >= 0:
        start = at + _HEAD.size
        if message[start - 1 : start] == bytes((HMAC_DIGEST,)) and len(message) >= start + 16:
            zeroed = message[:start] + bytes(16) + message[start + 16 :]
            digest = hmac.new(key, zeroed, hashlib.md5).digest()
            if hmac.compare_digest(digest, message[start : start + 16]):
                return True
        at = message.find(head, at + 1)
    return False
