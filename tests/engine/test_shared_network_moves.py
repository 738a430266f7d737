"""A client that moves, with ``[[shared-network]]`` members A (an interface) and B (a relay) and a
subnet C outside the network (another relay): within the shared network it is on the same link
and keeps its lease (as Kea: a shared network is one link); behind C its lease is not on the link.
DHCPv4: an INIT-REBOOT REQUEST is NAKed and a DISCOVER gets an address of C. DHCPv6: a RENEW or
REBIND gets the old address with lifetimes 0 and a new one of C in the same IA (Kea's
renewLeases6 allocates when the IA has no lease on the link), a SOLICIT an address of C."""

from __future__ import annotations

import ipaddress
from typing import Any

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, ip4_str, parse
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, encode6, parse6, unwrap_relay
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, IAAddr, RapidCommit, RawOption

NOW = 1_800_000_000.0
MAC = bytes.fromhex("027000000001")


# --- DHCPv4 ------------------------------------------------------------------------------------
SERVER = ip4_int("10.70.0.1")
CONFIG4: dict[str, Any] = {
    "server": {"authoritative": True},
    "leases": {"store": "memory://"},
    "subnet4": [
        {"subnet": "10.70.0.0/24", "interface": "eth0", "pools": ["10.70.0.10-10.70.0.11"]},
        {"subnet": "10.71.0.0/24", "relay-addresses": ["10.71.0.2"], "pools": ["10.71.0.10-10.71.0.19"]},
        {"subnet": "10.72.0.0/24", "relay-addresses": ["10.72.0.2"], "pools": ["10.72.0.10-10.72.0.19"]},
    ],
    "shared-network": [{"name": "lab", "subnets": ["10.70.0.0/24", "10.71.0.0/24"]}],
}


class Lab4:
    def __init__(self) -> None:
        cfg = from_dict(CONFIG4)
        host = HostInfo.build({"eth0": (SERVER,)})
        self.engine = build_engine4(cfg, MemoryStore(), host, Stats(), sources=build_sources(cfg))

    def send(self, kind: int, relay: str = "", **opts: bytes) -> Message4:
        giaddr = ip4_int(relay) if relay else 0
        options = {53: bytes((kind,)), **{int(k[1:]): v for k, v in opts.items()}}
        msg = Message4(xid=1, hops=1 if giaddr else 0, giaddr=giaddr, chaddr=MAC, options=options)
        meta = (
            Meta4(giaddr, 67, SERVER, SERVER, 2, "eth0")
            if giaddr
            else Meta4(0, 68, BROADCAST, SERVER, 2, "eth0")
        )
        out = run_inline(self.engine.process(encode(msg), meta, NOW))
        assert out.data is not None, out.drop_reason
        return parse(out.data)


def test_v4_within_the_shared_network_keeps_its_lease_outside_it_is_nakked() -> None:
    lab = Lab4()
    offer = lab.send(1)
    assert lab.send(3, o50=offer.yiaddr.to_bytes(4, "big"), o54=SERVER.to_bytes(4, "big")).msg_type == 5
    held = offer.yiaddr.to_bytes(4, "big")
    assert lab.send(3, "10.71.0.2", o50=held).msg_type == 5  # member B: the same link
    assert lab.send(1, "10.71.0.2").yiaddr == offer.yiaddr
    nak = lab.send(3, "10.72.0.2", o50=held)  # behind C: not on this network
    assert nak.msg_type == 6 and b"not on network 10.72.0.0/24" in nak.options[56]
    assert ip4_str(lab.send(1, "10.72.0.2").yiaddr).startswith("10.72.0.")


# --- DHCPv6 ------------------------------------------------------------------------------------
CONFIG6: dict[str, Any] = {
    "leases": {"store": "memory://"},
    "subnet6": [
        {"subnet": "fd70::/64", "interface": "eth0", "pools": ["fd70::10-fd70::11"], "rapid-commit": True},
        {"subnet": "fd71::/64", "relay-link-addresses": ["fd71::1"], "pools": ["fd71::10-fd71::19"]},
        {"subnet": "fd72::/64", "relay-link-addresses": ["fd72::1"], "pools": ["fd72::10-fd72::19"]},
    ],
    "shared-network": [{"name": "lab", "subnets": ["fd70::/64", "fd71::/64"]}],
}


class Lab6:
    def __init__(self) -> None:
        cfg = from_dict(CONFIG6)
        host = HostInfo6({"eth0": (int(ipaddress.IPv6Address("fd70::1")),)})
        self.store = MemoryStore()
        self.engine = build_engine6(cfg, self.store, host, Stats(), build_sources(cfg))

    def send(self, kind: int, link: str = "", hint: str = "", *extra: Any) -> list[tuple[str, int, int]]:
        """(address, preferred, valid) of each IAADDR in the reply's IA_NA."""
        ia = IANA(1, 0, 0, [IAAddr(ipaddress.IPv6Address(hint))] if hint else [])
        opts: list[Any] = [ClientId(Duid(Duid.ll(1, MAC).raw)), ia, ElapsedTime(0), *extra]
        if kind in (3, 5):
            opts.append(RawOption(2, self.engine.env.server_duid))
        data = encode6(Message6(kind, 1, opts))
        if link:
            peer = ipaddress.IPv6Address("fe80::1")
            data = encode6(RelayMessage6(12, 0, ipaddress.IPv6Address(link), peer, [RawOption(9, data)]))
            meta = Meta6(link.replace("::1", "::2"), 547, ipaddress.IPv6Address("fd70::1").packed, 2, "eth0")
        else:
            meta = Meta6("fe80::1", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "eth0")
        out = run_inline(self.engine.process(data, meta, NOW))
        assert out.data is not None, out.drop_reason
        reply = parse6(out.data)
        if isinstance(reply, RelayMessage6):
            reply, _ = unwrap_relay(reply)
        assert isinstance(reply, Message6) and reply.msg_type == 7
        got = reply.get(IANA)
        assert got is not None
        return [(str(a.address), a.preferred, a.valid) for a in got.addresses]


def test_v6_renew_within_the_shared_network_keeps_the_address() -> None:
    lab = Lab6()
    [(addr, _, _)] = lab.send(1, "", "", RapidCommit())
    assert lab.send(5, "fd71::1", addr) == [(addr, 3600, 7200)]


def test_v6_renew_and_rebind_after_a_move_get_an_address_of_the_new_link() -> None:
    lab = Lab6()
    [(old, _, _)] = lab.send(1, "", "", RapidCommit())
    moved = lab.send(5, "fd72::1", old)  # RENEW through C's relay
    [(new, preferred, valid)] = [a for a in moved if a[0] != old]
    assert (old, 0, 0) in moved and ipaddress.IPv6Address(new) in ipaddress.IPv6Network("fd72::/64")
    assert (preferred, valid) == (3600, 7200)
    bound = {(ipaddress.IPv6Address(x.address), x.state) for x in run_inline(lab.store.leases(LeaseKind.NA))}
    assert (ipaddress.IPv6Address(new), LeaseState.BOUND) in bound
    assert (ipaddress.IPv6Address(old), LeaseState.BOUND) not in bound  # the old one is freed
    assert lab.send(6, "fd72::1", old) == [(new, 3600, 7200), (old, 0, 0)]  # a REBIND: the same
