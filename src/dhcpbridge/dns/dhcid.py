"""DHCID RDATA (RFC 4701): who owns a name, as a digest of the client's identity and the name.

RDATA = identifier-type (2 octets) + digest-type (1 = SHA-256) + SHA-256(identifier + FQDN in
canonical wire form). Identifier types (§3.3): 0 = htype + chaddr (a v4 client without option 61),
1 = the option 61 data (type + identifier), 2 = a DUID (v6, or v4 option 61 of type 255, RFC 4361).
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
from typing import Any

import dns.name

from dhcpbridge.wire.values import encode_domain

HTYPE_CHADDR = 0
CLIENT_ID = 1
DUID = 2
SHA256 = 1


def canonical_wire(fqdn: str) -> bytes:
    """``fqdn`` in canonical wire form (lower case, uncompressed); plain names are encoded by the
    compiled wire codec, anything else (escapes, non-ASCII, a bad label) by dnspython."""
    if fqdn.isascii() and "\\" not in fqdn:
        with contextlib.suppress(ValueError):
            return encode_domain(fqdn.lower())
    out = dns.name.from_text(fqdn).canonicalize().to_wire()
    assert out is not None
    return out


def rdata(identifier_type: int, identifier: bytes, fqdn: str) -> bytes:
    """The DHCID RDATA for ``identifier`` owning ``fqdn``."""
    wire = canonical_wire(fqdn)
    return struct.pack("!HB", identifier_type, SHA256) + hashlib.sha256(identifier + wire).digest()


def identity4(client: bytes, hwaddr: bytes, query: Any) -> tuple[int, bytes]:
    """(identifier type, identifier) of a v4 client: its option 61 when it sent one (the DUID
    inside an RFC 4361 identifier), else htype + chaddr."""
    client_id: bytes = getattr(query, "client_id", b"") if query is not None else b""
    if query is None and client and client != b"\x01" + hwaddr:
        client_id = client  # the lease key is option 61 when it is not htype + chaddr
    if client_id:
        if client_id[0] == 255 and len(client_id) > 5:
            return DUID, client_id[5:]
        return CLIENT_ID, client_id
    if query is not None:
        return HTYPE_CHADDR, bytes((query.request.htype,)) + query.client_mac
    return HTYPE_CHADDR, client


def identity6(client: bytes, query: Any) -> tuple[int, bytes]:
    """(2, DUID) of a v6 client; the lease key is IAID (4 octets) + DUID when no query is at hand."""
    duid: bytes = getattr(query, "duid", b"") if query is not None else b""
    if not duid:
        duid = client[4:] if len(client) > 4 else client
    return DUID, duid
