"""Hosts that answer ICMP echo and hosts that do not, inside test namespaces (for ``harvest --verify``).

One job: a two-namespace topology, ``hv`` (hv0 10.98.0.1/24 fd98::1/64; routes 10.97.0.0/16 and
fd97::/64 via the other side) <-> ``hosts`` (hosts0 10.98.0.2/24 fd98::2/64), and a way to put many
addresses on the ``hosts`` namespace's loopback at once (``ip -batch``). An address of 10.97.0.0/16
or fd97::/64 that was added answers pings from ``hv``; one that was not is silently dropped (the
``hosts`` namespace does not forward), exactly like a host that is down.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from dhcpbridge.testing.netns import Address, Namespace, Route, Topology, TopologySpec, Veth


def ping_spec() -> TopologySpec:
    return TopologySpec(
        roles=("hv", "hosts"),
        veths=(Veth("hv", "hv0", "02:98:00:00:00:01", "hosts", "hosts0", "02:98:00:00:00:02"),),
        addresses=(
            Address("hv", "hv0", "10.98.0.1/24"),
            Address("hv", "hv0", "fd98::1/64"),
            Address("hosts", "hosts0", "10.98.0.2/24"),
            Address("hosts", "hosts0", "fd98::2/64"),
        ),
        routes=(Route("hv", "10.97.0.0/16", "10.98.0.2"), Route("hv", "fd97::/64", "fd98::2")),
        description="hv(hv0 10.98.0.1/24) <-> hosts(hosts0 10.98.0.2/24, lo: the answering hosts)",
    )


def ping_topology() -> Topology:
    return Topology(ping_spec())


def host_v4(n: int) -> str:
    """The n-th host address of 10.97.0.0/16 (n >= 1)."""
    return str(ipaddress.IPv4Address("10.97.0.0") + n)


def host_v6(n: int) -> str:
    return str(ipaddress.IPv6Address("fd97::") + n)


def add_hosts(ns: Namespace, addresses: Iterable[str]) -> None:
    """Make ``addresses`` answer: add them to ``ns``'s loopback in one ``ip -batch`` run."""
    lines = []
    for addr in addresses:
        suffix = "/128" if ":" in addr else "/32"
        lines.append(f"addr add {addr}{suffix} dev lo")
    if not lines:
        return
    batch = ns.workdir / f"{ns.name}-hosts.batch"
    batch.write_text("\n".join(lines) + "\n")
    ns.run(["ip", "-batch", str(batch)], timeout=120)
