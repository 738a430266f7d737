"""The RFC 2136 update messages of RFC 4703 (§5.3-§5.5), built with dnspython and signed with the
zone's TSIG key. Each function builds one message, or adds its part to ``msg`` (a batch: several
names of one zone in one UPDATE, RFC 2136 §3); ``protocol`` and ``batch`` decide which to send."""

from __future__ import annotations

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.update

from dhcpbridge.dns.zones import Zone

IN = dns.rdataclass.IN
A = dns.rdatatype.A
AAAA = dns.rdatatype.AAAA
DHCID = dns.rdatatype.DHCID
PTR = dns.rdatatype.PTR


Msg = dns.update.UpdateMessage | None


def _message(zone: Zone, msg: Msg = None) -> dns.update.UpdateMessage:
    if msg is not None:
        return msg
    return dns.update.UpdateMessage(zone.origin, keyring=zone.key)


def address_rdata(address: str) -> dns.rdata.Rdata:
    if ":" in address:
        return dns.rdata.from_text(IN, AAAA, address)
    return dns.rdata.from_text(IN, A, address)


def dhcid_rdata(data: bytes) -> dns.rdata.Rdata:
    return dns.rdata.from_wire(IN, DHCID, data, 0, len(data))


def reverse_name(address: str) -> str:
    return dns.reversename.from_address(address).to_text().lower()


def add_if_unused(
    zone: Zone, fqdn: str, address: str, dhcid: bytes, msg: Msg = None
) -> dns.update.UpdateMessage:
    """§5.3 first try: the name must not exist; add the address and our DHCID."""
    name = dns.name.from_text(fqdn)
    msg = _message(zone, msg)
    msg.absent(name)
    msg.add(name, zone.ttl, address_rdata(address))
    msg.add(name, zone.ttl, dhcid_rdata(dhcid))
    return msg


def replace_if_ours(
    zone: Zone, fqdn: str, address: str, dhcid: bytes, msg: Msg = None
) -> dns.update.UpdateMessage:
    """§5.3 second try: the name carries our DHCID; replace its addresses of this family."""
    name = dns.name.from_text(fqdn)
    rd = address_rdata(address)
    msg = _message(zone, msg)
    msg.present(name, dhcid_rdata(dhcid))
    msg.delete(name, rd.rdtype)
    msg.add(name, zone.ttl, rd)
    return msg


def replace_unchecked(
    zone: Zone, fqdn: str, address: str, dhcid: bytes, msg: Msg = None
) -> dns.update.UpdateMessage:
    """``no-check-with-dhcid``: take the name whoever holds it."""
    name = dns.name.from_text(fqdn)
    rd = address_rdata(address)
    msg = _message(zone, msg)
    msg.delete(name, rd.rdtype)
    msg.delete(name, DHCID)
    msg.add(name, zone.ttl, rd)
    msg.add(name, zone.ttl, dhcid_rdata(dhcid))
    return msg


def remove_address(
    zone: Zone, fqdn: str, address: str, dhcid: bytes | None, msg: Msg = None
) -> dns.update.UpdateMessage:
    """§5.5: remove our address record (only while the name carries our DHCID, when given)."""
    name = dns.name.from_text(fqdn)
    msg = _message(zone, msg)
    if dhcid is not None:
        msg.present(name, dhcid_rdata(dhcid))
    msg.delete(name, address_rdata(address))
    return msg


def remove_dhcid_if_bare(
    zone: Zone, fqdn: str, dhcid: bytes | None, msg: Msg = None
) -> dns.update.UpdateMessage:
    """§5.5: once the name has no A and no AAAA left, its DHCID goes too."""
    name = dns.name.from_text(fqdn)
    msg = _message(zone, msg)
    if dhcid is not None:
        msg.present(name, dhcid_rdata(dhcid))
    msg.absent(name, A)
    msg.absent(name, AAAA)
    msg.delete(name, DHCID)
    return msg


def set_ptr(zone: Zone, address: str, fqdn: str, msg: Msg = None) -> dns.update.UpdateMessage:
    name = dns.name.from_text(reverse_name(address))
    msg = _message(zone, msg)
    msg.delete(name, PTR)
    msg.add(name, zone.ttl, dns.rdata.from_text(IN, PTR, fqdn))
    return msg


def remove_ptr(zone: Zone, address: str, fqdn: str, msg: Msg = None) -> dns.update.UpdateMessage:
    name = dns.name.from_text(reverse_name(address))
    msg = _message(zone, msg)
    msg.delete(name, dns.rdata.from_text(IN, PTR, fqdn))
    return msg
