"""Subnets built from the config (``assemble.subnets4`` / ``subnets6``) and the index both
families share (``engine.subnets``): subnets of several prefix lengths, configured relays and
interfaces first."""

from __future__ import annotations

import ipaddress

from dhcpbridge.assemble.subnets4 import build_subnets4
from dhcpbridge.assemble.subnets6 import build_subnet6, timers
from dhcpbridge.config import loader
from dhcpbridge.engine.v4.subnet import SubnetIndex
from dhcpbridge.engine.v6.subnet import Subnet6Index


def v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def v6(text: str) -> int:
    return int(ipaddress.IPv6Address(text))


def test_v4_index_longest_prefix_relays_and_interfaces() -> None:
    cfg = loader.from_dict(
        {
            "subnet4": [
                {"subnet": "172.16.0.0/12", "interface": "eth9"},
                {"subnet": "10.68.0.0/16", "relay-addresses": ["192.0.2.1"]},
                {"subnet": "10.69.5.0/24", "pools": ["10.69.5.10-10.69.5.20"]},
            ]
        }
    )
    subnets = build_subnets4(cfg)
    assert [s.prefixlen for s in subnets] == [12, 16, 24]
    assert [s.id for s in subnets] == [1, 2, 3]
    index = SubnetIndex(subnets)
    name = lambda s: s.name if s is not None else None  # noqa: E731
    assert name(index.by_address(v4("10.69.5.7"))) == "10.69.5.0/24"
    assert name(index.by_address(v4("10.68.6.7"))) == "10.68.0.0/16"
    assert name(index.by_address(v4("172.20.1.1"))) == "172.16.0.0/12"
    assert index.by_address(v4("192.168.0.1")) is None
    assert name(index.by_relay(v4("192.0.2.1"))) == "10.68.0.0/16"  # configured relay
    assert name(index.by_relay(v4("10.69.5.1"))) == "10.69.5.0/24"  # else the subnet holding it
    assert name(index.by_interface("eth9", [])) == "172.16.0.0/12"
    assert name(index.by_interface("eth1", [v4("192.168.0.1"), v4("10.68.9.1")])) == "10.68.0.0/16"
    assert index.by_interface("eth1", []) is None


def test_v6_index_longest_prefix_links_and_interfaces() -> None:
    cfg = loader.from_dict(
        {
            "subnet6": [
                {"subnet": "fd00::/16", "interface": "srv9"},
                {"subnet": "fd69::/64", "relay-link-addresses": ["2001:db8::1"]},
            ]
        }
    )
    index = Subnet6Index([build_subnet6(i, s, {}) for i, s in enumerate(cfg.subnet6)])
    name = lambda s: s.name if s is not None else None  # noqa: E731
    assert name(index.by_address(v6("fd69::5"))) == "fd69::/64"
    assert name(index.by_address(v6("fd00::5"))) == "fd00::/16"
    assert index.by_address(v6("2001:db8::5")) is None
    for _ in range(2):  # the second answer comes from the cache
        assert name(index.by_link(v6("2001:db8::1"))) == "fd69::/64"
        assert name(index.by_link(v6("fd69::1"))) == "fd69::/64"
        assert index.by_link(v6("2001:db9::1")) is None
    assert name(index.by_interface("srv9", [])) == "fd00::/16"
    assert name(index.by_interface("srv1", [v6("fd69::1")])) == "fd69::/64"


def test_v6_timers_default_to_rfc_8415_fractions() -> None:
    assert timers(1000, None, None) == (500, 800)
    assert timers(1000, 600, 300) == (600, 600)  # T2 never below T1
