"""DHCPv4 requests that try to misuse the server (issue 9, points 2 and 3): relay fields honoured
only from a real relay, impossible giaddrs refused, ``trusted-relays``, no reply to a third
address through ciaddr, DECLINE only of a bound lease and rate-limited. Refusals are counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dhcpbridge.engine.model import LeaseState
from dhcpbridge.engine.records import Meta4
from dhcpbridge.wire.v4.message import ip4_int as ip
from dhcpbridge.wire.v4.message import ip4_str
from dhcpbridge.wire.v4.structured import encode_suboptions

from .conftest import SERVER, SERVER1, V4, u32

MAC_A = "02:67:00:00:00:0a"
MAC_B = "02:67:00:00:00:0b"
Make = Callable[..., V4]
ATTACKER = "203.0.113.9"


def b4(text: str) -> bytes:
    return ip(text).to_bytes(4, "big")


def from_host(src: str, port: int = 67) -> Meta4:
    """A datagram from ``src`` (not a client broadcast) to our address on eth1."""
    return Meta4(ip(src), port, SERVER1, SERVER1, 3, "eth1")


# --- relay fields ---------------------------------------------------------------------------------


def test_the_issues_relay_spoof_gets_no_offer_to_its_port(v4: Make) -> None:
    """From 203.0.113.9:4444, giaddr 198.51.100.7, option 118 and 82/19: the OFFER went to
    198.51.100.7:4444. 118 and 82/19 count only from the relay itself: no subnet, no reply."""
    h = v4()
    opts = {118: b4("10.68.0.0"), 82: encode_suboptions({1: b"port-1", 19: b""})}
    out = h.send(h.msg(1, MAC_A, giaddr="198.51.100.7", options=opts), from_host(ATTACKER, 4444))
    assert out.data is None and out.drop_reason == "no-subnet"
    assert h.stats.drops["no-subnet"] == 1


def test_relay_source_port_only_when_the_source_is_the_giaddr(v4: Make) -> None:
    h = v4()
    opts = {82: encode_suboptions({1: b"port-1", 19: b""})}
    spoofed = h.send(h.msg(1, MAC_A, giaddr="10.68.0.2", options=opts), from_host(ATTACKER, 4444))
    assert spoofed.tx is not None and spoofed.data is not None
    assert (spoofed.tx.dest_ip, spoofed.tx.dest_port) == (ip("10.68.0.2"), 67)
    real = h.send(h.msg(1, MAC_B, giaddr="10.68.0.2", options=opts), from_host("10.68.0.2", 4444))
    assert real.tx is not None and (real.tx.dest_ip, real.tx.dest_port) == (ip("10.68.0.2"), 4444)


def test_impossible_giaddrs_are_refused_and_counted(v4: Make) -> None:
    h = v4()
    opts = {118: b4("10.68.0.0")}
    for giaddr in ("127.0.0.1", "255.255.255.255", "224.0.0.9", "0.1.2.3", "240.0.0.1", "10.68.0.1"):
        out = h.send(h.msg(1, MAC_A, giaddr=giaddr, options=opts), from_host(ATTACKER))
        assert out.data is None and out.drop_reason == "bad-giaddr", giaddr
    own = h.send(h.msg(1, MAC_A, giaddr="10.67.0.1"), from_host("10.67.0.9"))  # our own address
    assert own.drop_reason == "bad-giaddr"
    assert h.stats.drops["bad-giaddr"] == 7


def test_a_relay_on_this_host_may_use_its_own_address(base_config: dict[str, Any], v4: Make) -> None:
    """``dhcpbridge probe`` / the demo relay from 127.0.0.1 with giaddr 127.0.0.1."""
    base_config["subnet4"][1]["relay-addresses"] = ["127.0.0.1"]
    h = v4(base_config)
    out = h.send(h.msg(1, MAC_A, giaddr="127.0.0.1"), Meta4(ip("127.0.0.1"), 67, ip("127.0.0.1"), 0, 1, "lo"))
    assert out.data is not None and out.tx is not None and out.tx.dest_ip == ip("127.0.0.1")


def test_link_selection_and_118_only_from_the_relay_itself(v4: Make) -> None:
    h = v4()
    link = {82: encode_suboptions({5: b4("10.67.0.0")})}
    spoofed = h.send(h.msg(1, MAC_A, giaddr="10.68.0.2", options=link), from_host(ATTACKER))
    assert ip4_str(h.reply(spoofed).yiaddr).startswith("10.68.1.")  # the giaddr's subnet
    real = h.send(h.msg(1, MAC_B, giaddr="10.68.0.2", options=link), from_host("10.68.0.2"))
    assert ip4_str(h.reply(real).yiaddr).startswith("10.67.0.")  # RFC 3527 from the relay


def test_a_direct_client_cannot_pick_a_subnet_or_the_server_id(v4: Make) -> None:
    h = v4()
    opts = {
        118: b4("10.68.0.0"),
        82: encode_suboptions({5: b4("10.68.0.0"), 11: b4("192.0.2.66")}),
    }
    out = h.send(h.msg(1, MAC_A, options=opts), h.direct())
    offer = h.reply(out)
    assert ip4_str(offer.yiaddr).startswith("10.67.0.")  # the receiving interface's subnet
    assert u32(offer.options[54]) == SERVER  # not the 82/11 override
    assert out.tx is not None and out.tx.server_id == SERVER  # the raw frame's IP source


def test_inform_with_a_third_partys_ciaddr_gets_no_ack(v4: Make) -> None:
    """An INFORM with ciaddr X and option 118 sent an ACK to X."""
    h = v4()
    victim = "10.67.0.50"
    msg = h.msg(8, MAC_A, ciaddr=victim, options={118: b4("10.67.0.0")})
    out = h.send(msg, Meta4(ip(ATTACKER), 68, SERVER, SERVER, 2, "eth0"))
    assert out.data is None and out.drop_reason == "ciaddr-not-source"
    discover = h.send(h.msg(1, MAC_A, ciaddr=victim), Meta4(ip(ATTACKER), 68, SERVER, SERVER, 2, "eth0"))
    assert discover.drop_reason == "ciaddr-not-source"
    assert h.stats.drops["ciaddr-not-source"] == 2
    own = h.send(h.msg(8, MAC_A, ciaddr=victim), h.unicast(victim))
    assert own.tx is not None and own.data is not None and own.tx.dest_ip == ip(victim)


def test_trusted_relays(base_config: dict[str, Any], v4: Make) -> None:
    base_config["server"]["trusted-relays"] = ["10.68.0.2", "192.0.2.0/30"]
    h = v4(base_config)
    assert h.send(h.msg(1, MAC_A, giaddr="10.68.0.2"), from_host("10.68.0.2")).data is not None
    other = h.send(h.msg(1, MAC_B, giaddr="10.68.0.2"), from_host("10.68.0.3"))
    assert other.data is None and other.drop_reason == "untrusted-relay"
    via_net = h.send(h.msg(1, MAC_B, giaddr="10.68.0.2"), from_host("192.0.2.3"))
    assert via_net.data is not None
    assert h.discover(MAC_B).msg_type == 2  # direct clients are not relays: still served
    assert h.stats.drops["untrusted-relay"] == 1


# --- DECLINE ----------------------------------------------------------------------------------


def decline(h: V4, mac: str, addr: str) -> Any:
    return h.send(h.msg(4, mac, requested=addr, server_id="10.67.0.1"))


def test_decline_of_an_offer_quarantines_nothing(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.discover(MAC_A).yiaddr)
    out = decline(h, MAC_A, addr)
    assert out.drop_reason == "decline-unknown" and out.effects == []
    lease = h.lease(addr)
    assert lease is not None and lease.state == LeaseState.OFFERED


def test_declines_are_limited_per_client(v4: Make) -> None:
    h = v4()
    states = []
    for _ in range(6):
        addr = ip4_str(h.dora(MAC_A).yiaddr)
        out = decline(h, MAC_A, addr)
        states.append(h.lease(addr).state)  # type: ignore[union-attr]
        h.now += 1
    assert states.count(LeaseState.DECLINED) == 4  # decline-client-burst
    assert h.stats.drops["decline-rate-limited:client"] == 2
    assert out.drop_reason == "decline-rate-limited:client"
    h.now += 60  # one more per decline-client-interval
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    assert decline(h, MAC_A, addr).drop_reason is None


def test_declines_are_limited_server_wide(base_config: dict[str, Any], v4: Make) -> None:
    base_config["server"].update({"decline-rate": 0.1, "decline-burst": 3})
    h = v4(base_config)
    macs = [f"02:67:00:00:01:{i:02x}" for i in range(5)]
    results = [decline(h, mac, ip4_str(h.dora(mac).yiaddr)).drop_reason for mac in macs]
    assert results == [None, None, None, "decline-rate-limited:server", "decline-rate-limited:server"]
    h.now += 10
    assert decline(h, macs[3], ip4_str(h.dora(macs[3]).yiaddr)).drop_reason is None
