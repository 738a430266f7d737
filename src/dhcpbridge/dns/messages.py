"""The RFC 2136 update messages of RFC 4703 (§5.3-§5.5), signed with the zone's TSIG key. Each
function builds one message, or adds its part to ``msg`` (a batch: several names of one zone in
one UPDATE, RFC 2136 §3); ``protocol`` and ``batches`` decide which to send.

``Update`` is a dnspython ``UpdateMessage`` (dnspython signs it, sends it, checks the answer and
its TSIG) whose few fixed shapes of resource record are rendered here, once each, without name
compression: dnspython's generic renderer cost about a millisecond of CPU per name on the bench
host, more than the DHCP exchange that caused the update.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import time
from typing import Any

import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.update

from dhcpbridge.dns.zones import Zone
from dhcpbridge.wire.values import encode_domain

IN = int(dns.rdataclass.IN)
ANY = int(dns.rdataclass.ANY)
NONE = int(dns.rdataclass.NONE)
A = int(dns.rdatatype.A)
AAAA = int(dns.rdatatype.AAAA)
DHCID = int(dns.rdatatype.DHCID)
PTR = int(dns.rdatatype.PTR)
SOA = int(dns.rdatatype.SOA)
TSIG = int(dns.rdatatype.TSIG)
TYPE_ANY = int(dns.rdatatype.ANY)
HEADER = struct.Struct("!HHHHHH")
RR = struct.Struct("!HHIH")


def _rr(name: bytes, rdtype: int, rdclass: int, ttl: int = 0, rdata: bytes = b"") -> bytes:
    return name + RR.pack(rdtype, rdclass, ttl, len(rdata)) + rdata


class Update(dns.update.UpdateMessage):
    """An UPDATE for ``zone``: prerequisite and update records as rendered wire (see the module
    docstring); ``names`` counts the names it carries (one per builder call)."""

    def __init__(self, zone: Zone) -> None:
        super().__init__(zone.origin, keyring=zone.key)
        self.zone_wire = encode_domain(zone.name) + struct.pack("!HH", SOA, IN)
        self.prereqs: list[bytes] = []
        self.updates: list[bytes] = []
        self.names = 0

    def to_wire(self, *args: Any, prepend_length: bool = False, **kw: Any) -> bytes:
        body = b"".join([self.zone_wire, *self.prereqs, *self.updates])
        wire = HEADER.pack(self.id, self.flags, 1, len(self.prereqs), len(self.updates), 0) + body
        if self.tsig is not None and self.keyname is not None:
            signed, _ = dns.tsig.sign(  # type: ignore[no-untyped-call]
                wire, self.keyring, self.tsig[0], int(time.time()), self.request_mac
            )
            self.tsig.clear()  # type: ignore[no-untyped-call]
            self.tsig.add(signed)
            head = HEADER.pack(self.id, self.flags, 1, len(self.prereqs), len(self.updates), 1)
            wire = head + body + _rr(self.keyname.to_wire() or b"", TSIG, ANY, 0, signed.to_wire())
        self.wire = wire
        return len(wire).to_bytes(2, "big") + wire if prepend_length else wire


def _message(zone: Zone, msg: Update | None) -> Update:
    msg = Update(zone) if msg is None else msg
    msg.names += 1
    return msg


def address_rdata(address: str) -> tuple[int, bytes]:
    if ":" in address:
        return AAAA, socket.inet_pton(socket.AF_INET6, address)
    return A, socket.inet_pton(socket.AF_INET, address)


def reverse_name(address: str) -> str:
    if ":" not in address:  # a v4 address text as the lease gives it: dotted quad, no zeros in front
        return ".".join(reversed(address.split("."))) + ".in-addr.arpa."
    return ipaddress.ip_address(address).reverse_pointer.lower() + "."


def add_if_unused(zone: Zone, fqdn: str, address: str, dhcid: bytes, msg: Update | None = None) -> Update:
    """§5.3 first try: the name must not exist; add the address and our DHCID."""
    name = encode_domain(fqdn)
    rdtype, rdata = address_rdata(address)
    msg = _message(zone, msg)
    msg.prereqs.append(_rr(name, TYPE_ANY, NONE))
    msg.updates += (_rr(name, rdtype, IN, zone.ttl, rdata), _rr(name, DHCID, IN, zone.ttl, dhcid))
    return msg


def replace_if_ours(zone: Zone, fqdn: str, address: str, dhcid: bytes, msg: Update | None = None) -> Update:
    """§5.3 second try: the name carries our DHCID; replace its addresses of this family."""
    name = encode_domain(fqdn)
    rdtype, rdata = address_rdata(address)
    msg = _message(zone, msg)
    msg.prereqs.append(_rr(name, DHCID, IN, 0, dhcid))
    msg.updates += (_rr(name, rdtype, ANY), _rr(name, rdtype, IN, zone.ttl, rdata))
    return msg


def replace_unchecked(zone: Zone, fqdn: str, address: str, dhcid: bytes, msg: Update | None = None) -> Update:
    """``no-check-with-dhcid``: take the name whoever holds it."""
    name = encode_domain(fqdn)
    rdtype, rdata = address_rdata(address)
    msg = _message(zone, msg)
    msg.updates += (
        _rr(name, rdtype, ANY),
        _rr(name, DHCID, ANY),
        _rr(name, rdtype, IN, zone.ttl, rdata),
        _rr(name, DHCID, IN, zone.ttl, dhcid),
    )
    return msg


def remove_address(
    zone: Zone, fqdn: str, address: str, dhcid: bytes | None, msg: Update | None = None
) -> Update:
    """§5.5: remove our address record (only while the name carries our DHCID, when given)."""
    name = encode_domain(fqdn)
    rdtype, rdata = address_rdata(address)
    msg = _message(zone, msg)
    if dhcid is not None:
        msg.prereqs.append(_rr(name, DHCID, IN, 0, dhcid))
    msg.updates.append(_rr(name, rdtype, NONE, 0, rdata))
    return msg


def remove_dhcid_if_bare(zone: Zone, fqdn: str, dhcid: bytes | None, msg: Update | None = None) -> Update:
    """§5.5: once the name has no A and no AAAA left, its DHCID goes too."""
    name = encode_domain(fqdn)
    msg = _message(zone, msg)
    if dhcid is not None:
        msg.prereqs.append(_rr(name, DHCID, IN, 0, dhcid))
    msg.prereqs += (_rr(name, A, NONE), _rr(name, AAAA, NONE))
    msg.updates.append(_rr(name, DHCID, ANY))
    return msg


def set_ptr(zone: Zone, address: str, fqdn: str, msg: Update | None = None) -> Update:
    name = encode_domain(reverse_name(address))
    msg = _message(zone, msg)
    msg.updates += (_rr(name, PTR, ANY), _rr(name, PTR, IN, zone.ttl, encode_domain(fqdn)))
    return msg


def remove_ptr(zone: Zone, address: str, fqdn: str, msg: Update | None = None) -> Update:
    name = encode_domain(reverse_name(address))
    msg = _message(zone, msg)
    msg.updates.append(_rr(name, PTR, NONE, 0, encode_domain(fqdn)))
    return msg
