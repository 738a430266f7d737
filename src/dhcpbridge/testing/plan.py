"""The address plan every server under test is configured with (same numbers as the lab).

One job: describe subnets, pools, options and lease times once, as data, so that the Kea runner
(:mod:`dhcpbridge.testing.kea`) and the dhcpbridge runner (:mod:`dhcpbridge.testing.server`)
write configurations that serve exactly the same addresses.

* :data:`LAB_PLAN` - for :func:`~dhcpbridge.testing.netns.lab_topology`: 10.67.0.0/24 on srv0
  (direct clients, pool .100-.199, router/DNS 10.67.0.1, domain lab.test) and 10.68.0.0/16 for
  relayed traffic (giaddr 10.68.0.2, pool 10.68.1.0-10.68.255.254); fd67::/64 on srv0 (IA_NA
  pool fd67::100:0/104, IA_PD fd67:1000::/40 delegated as /56) and fd68::/64 on srv1.
* :data:`RELAYED_PLAN` - for :func:`~dhcpbridge.testing.netns.relayed_topology`: the same plus
  10.69.0.0/24 and fd69::/64 behind the relay (subnet chosen by giaddr / link-address).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class Subnet4:
    """A DHCPv4 subnet; ``pools`` are ``"first-last"`` ranges; ``interface`` for direct clients."""

    subnet: str
    pools: tuple[str, ...]
    routers: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    domain_name: str | None = None
    interface: str | None = None

    def options(self) -> dict[str, list[str] | str]:
        """The options the subnet sets, by their name in Kea and in dhcpbridge."""
        return _given(
            {
                "routers": self.routers,
                "domain-name-servers": self.dns_servers,
                "domain-name": self.domain_name,
            }
        )


@dataclass(frozen=True)
class Subnet6:
    """A DHCPv6 subnet: IA_NA ``pools`` (prefix or range), optional IA_PD pool ``pd_prefix``."""

    subnet: str
    pools: tuple[str, ...]
    pd_prefix: str | None = None
    delegated_len: int = 56
    dns_servers: tuple[str, ...] = ()
    domain_search: tuple[str, ...] = ()
    interface: str | None = None
    relay_addresses: tuple[str, ...] = ()

    def options(self) -> dict[str, list[str] | str]:
        """The options the subnet sets, by their name in Kea and in dhcpbridge."""
        return _given({"dns-servers": self.dns_servers, "domain-search": self.domain_search})


def _given(options: dict[str, tuple[str, ...] | str | None]) -> dict[str, list[str] | str]:
    return {
        name: value if isinstance(value, str) else list(value) for name, value in options.items() if value
    }


@dataclass(frozen=True)
class Lifetimes:
    """Lease timers in seconds: v4 (valid/renew/rebind) and v6 (preferred/valid/renew/rebind)."""

    valid4: int = 7200
    renew4: int = 1800
    rebind4: int = 3600
    preferred6: int = 3000
    valid6: int = 4000
    renew6: int = 1000
    rebind6: int = 2000


@dataclass(frozen=True)
class AddressPlan:
    """Server interfaces, subnets and lease times.

    ``unicast6`` maps an interface to a global address on which a DHCPv6 server must also
    receive (relays such as ``dhcrelay -6 -u fd68::1%rly1`` send Relay-forw by unicast).
    """

    interfaces: tuple[str, ...]
    subnets4: tuple[Subnet4, ...]
    subnets6: tuple[Subnet6, ...]
    lifetimes: Lifetimes = Lifetimes()
    unicast6: tuple[tuple[str, str], ...] = ()

    def with_lifetimes(self, **timers: int) -> AddressPlan:
        """A copy with some timers changed, e.g. ``plan.with_lifetimes(valid4=30, renew4=5, rebind4=20)``."""
        return dataclasses.replace(self, lifetimes=dataclasses.replace(self.lifetimes, **timers))


SHORT_LEASES = {
    "valid4": 30,
    "renew4": 5,
    "rebind4": 20,
    "preferred6": 20,
    "valid6": 30,
    "renew6": 5,
    "rebind6": 15,
}
"""Timers for renew tests: a client renews after ~5 s (dhcpcd never renews before 10 s: min lease 20 s)."""


def _clients4(net: str, dns: str, domain: str, interface: str | None = None) -> Subnet4:
    """A /24 of clients (``net`` its first three octets): pool .100-.199, the router at .1."""
    return Subnet4(f"{net}.0/24", (f"{net}.100-{net}.199",), (f"{net}.1",), (dns,), domain, interface)


def _clients6(net: str, dns: str, domain: str, interface: str | None = None) -> Subnet6:
    """A /64 of clients (``net`` its first two groups): IA_NA ``net::100:0/104``, IA_PD ``net:1000::/40``."""
    return Subnet6(
        f"{net}::/64", (f"{net}::100:0/104",), f"{net}:1000::/40", 56, (dns,), (domain,), interface
    )


_LAB_SUBNETS4 = (
    _clients4("10.67.0", "10.67.0.1", "lab.test", "srv0"),
    Subnet4("10.68.0.0/16", ("10.68.1.0-10.68.255.254",), routers=("10.68.0.1",)),
)
_LAB_SUBNETS6 = (
    _clients6("fd67", "fd67::1", "lab.test", "srv0"),
    Subnet6(
        "fd68::/64",
        ("fd68::100:0/104",),
        pd_prefix="fd68:1000::/40",
        interface="srv1",
        relay_addresses=("fd68::2",),
    ),
)

LAB_PLAN = AddressPlan(interfaces=("srv0", "srv1"), subnets4=_LAB_SUBNETS4, subnets6=_LAB_SUBNETS6)

RELAYED_PLAN = AddressPlan(
    interfaces=("srv1",),
    unicast6=(("srv1", "fd68::1"),),
    subnets4=(
        _clients4("10.69.0", "10.68.0.1", "relayed.test"),
        _LAB_SUBNETS4[1],
    ),
    subnets6=(
        _clients6("fd69", "fd68::1", "relayed.test"),
        _LAB_SUBNETS6[1],
    ),
)
