"""The hand-rendered UPDATE messages (``dns.messages``) say exactly what dnspython's own
``UpdateMessage`` builds for the same RFC 4703 step: parsed back by dnspython with the TSIG key
(which checks the signature), every section matches, batched or alone."""

from __future__ import annotations

from collections.abc import Callable

import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.reversename
import dns.tsig
import dns.update
import pytest

from dhcpbridge.dns import messages
from dhcpbridge.dns.zones import Zone

KEY = dns.tsig.Key("ddns-key.", b"dhcpbridge-test-secret-32-bytes!", "hmac-sha256")
FWD = Zone("example.test.", "127.0.0.1", 53, KEY, 300)
REV = Zone("0.10.in-addr.arpa.", "127.0.0.1", 53, KEY, 600, reverse=True)
REV6 = Zone("d.f.ip6.arpa.", "127.0.0.1", 53, None, 60, reverse=True)
DHCID = b"\x00\x01\x01" + bytes(range(32))
IN = dns.rdataclass.IN


def _rd(rdtype: str, text: str) -> dns.rdata.Rdata:
    return dns.rdata.from_text(IN, dns.rdatatype.from_text(rdtype), text)


def _addr(address: str) -> dns.rdata.Rdata:
    return _rd("AAAA" if ":" in address else "A", address)


def _dhcid() -> dns.rdata.Rdata:
    return dns.rdata.from_wire(IN, dns.rdatatype.DHCID, DHCID, 0, len(DHCID))


def expected(zone: Zone, step: str, fqdn: str, address: str, check: bool) -> dns.update.UpdateMessage:
    """The same step written with dnspython's API (how ``messages`` was first written)."""
    msg = dns.update.UpdateMessage(zone.origin, keyring=zone.key)
    name = dns.name.from_text(fqdn)
    rev = dns.reversename.from_address(address)
    rd = _addr(address)
    if step == "add_if_unused":
        msg.absent(name)
        msg.add(name, zone.ttl, rd)
        msg.add(name, zone.ttl, _dhcid())
    elif step == "replace_if_ours":
        msg.present(name, _dhcid())
        msg.delete(name, rd.rdtype)
        msg.add(name, zone.ttl, rd)
    elif step == "replace_unchecked":
        msg.delete(name, rd.rdtype)
        msg.delete(name, dns.rdatatype.DHCID)
        msg.add(name, zone.ttl, rd)
        msg.add(name, zone.ttl, _dhcid())
    elif step == "remove_address":
        if check:
            msg.present(name, _dhcid())
        msg.delete(name, rd)
    elif step == "remove_dhcid_if_bare":
        if check:
            msg.present(name, _dhcid())
        msg.absent(name, dns.rdatatype.A)
        msg.absent(name, dns.rdatatype.AAAA)
        msg.delete(name, dns.rdatatype.DHCID)
    elif step == "set_ptr":
        msg.delete(rev, dns.rdatatype.PTR)
        msg.add(rev, zone.ttl, _rd("PTR", fqdn))
    else:
        msg.delete(rev, _rd("PTR", fqdn))
    return msg


def ours(
    zone: Zone, step: str, fqdn: str, address: str, check: bool, msg: messages.Update | None
) -> messages.Update:
    dhcid = DHCID if check else None
    build: dict[str, Callable[[], messages.Update]] = {
        "add_if_unused": lambda: messages.add_if_unused(zone, fqdn, address, DHCID, msg),
        "replace_if_ours": lambda: messages.replace_if_ours(zone, fqdn, address, DHCID, msg),
        "replace_unchecked": lambda: messages.replace_unchecked(zone, fqdn, address, DHCID, msg),
        "remove_address": lambda: messages.remove_address(zone, fqdn, address, dhcid, msg),
        "remove_dhcid_if_bare": lambda: messages.remove_dhcid_if_bare(zone, fqdn, dhcid, msg),
        "set_ptr": lambda: messages.set_ptr(zone, address, fqdn, msg),
        "remove_ptr": lambda: messages.remove_ptr(zone, address, fqdn, msg),
    }
    return build[step]()


def parsed(msg: dns.message.Message, key: dns.tsig.Key | None) -> dns.message.Message:
    return dns.message.from_wire(msg.to_wire(), keyring=key)  # checks the TSIG signature


FORWARD_STEPS = [
    "add_if_unused",
    "replace_if_ours",
    "replace_unchecked",
    "remove_address",
    "remove_dhcid_if_bare",
]


@pytest.mark.parametrize("check", [True, False])
@pytest.mark.parametrize("step", [*FORWARD_STEPS, "set_ptr", "remove_ptr"])
@pytest.mark.parametrize("count", [1, 3])
def test_rendered_messages_match_dnspython(step: str, check: bool, count: int) -> None:
    zone = FWD if step in FORWARD_STEPS else REV
    want = None
    got = None
    for i in range(count):
        fqdn, address = f"host-{i}.example.test.", f"10.0.0.{i + 5}"
        one = expected(zone, step, fqdn, address, check)
        if want is None:
            want = one
        else:  # a batch: the same sections, one name after another
            want.prerequisite += one.prerequisite
            want.update += one.update
        got = ours(zone, step, fqdn, address, check, got)
    assert want is not None and got is not None and got.names == count
    a, b = parsed(got, KEY), parsed(want, KEY)
    assert a.opcode() == b.opcode() == dns.opcode.UPDATE
    for section in ("zone", "prerequisite", "update"):
        assert getattr(a, section) == getattr(b, section), section
    assert a.had_tsig and a.keyname == b.keyname


def test_v6_without_a_key_and_names_that_cannot_be_rendered() -> None:
    msg = messages.set_ptr(REV6, "fd00::6", "v6host.example.test.")
    back = dns.message.from_wire(msg.to_wire())
    assert isinstance(back, dns.update.UpdateMessage) and not back.had_tsig
    assert back.update == expected(REV6, "set_ptr", "v6host.example.test.", "fd00::6", True).update
    with pytest.raises(ValueError):
        messages.set_ptr(REV6, "fd00::6", "a" * 64 + ".example.test.")
    with pytest.raises(ValueError):
        messages.set_ptr(REV6, "fd00::6", "bad..example.test.")


@pytest.mark.parametrize("address", ["10.0.0.5", "192.168.255.1", "0.0.0.0", "fd00::6", "2001:db8::1:0:0:1"])
def test_reverse_name_matches_dnspython(address: str) -> None:
    assert messages.reverse_name(address) == dns.reversename.from_address(address).to_text()
