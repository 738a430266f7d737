"""Test and benchmark toolkit: network-namespace labs, real DHCP clients, Kea and perfdhcp runners.

Not used by the server itself; imported by tests/ and bench/.  Everything needs root and the
Debian tools of ``make system-deps`` except the pure parts (``perfdhcp.parse_output``,
``loadsearch``, ``plan``, the config writers).  Typical end-to-end test::

    from dhcpbridge.testing import Dhclient, DhcpbridgeServer, LAB_PLAN, lab_topology, require_e2e

    def test_dora() -> None:
        require_e2e("dhclient")
        with lab_topology() as topo, DhcpbridgeServer(topo["srv"], topo.workdir / "srv", LAB_PLAN):
            with Dhclient(topo["cli"], mode="4") as client:
                lease = client.obtain(timeout=20)
                assert lease.address is not None and lease.address.ip in LAB_POOL4

Modules: :mod:`.netns` (topologies, processes), :mod:`.clients` (dhclient, udhcpc, dhcpcd,
dhcrelay), :mod:`.kea` (Kea 4/6 runners), :mod:`.server` (dhcpbridge runner, TOML writer),
:mod:`.perfdhcp` (load runs, report parser), :mod:`.loadsearch` (max-rate search),
:mod:`.plan` (address plan), :mod:`.e2e` (skip-or-fail gate).
"""

from __future__ import annotations

import ipaddress

from dhcpbridge.testing.clients import (
    CLIENT_NAMES,
    CLIENT_TOOLS,
    ClientError,
    Dhclient,
    Dhcpcd,
    DhcpClient,
    Dhcrelay,
    HookEvent,
    Lease,
    Udhcpc,
    make_client,
    relay_for,
)
from dhcpbridge.testing.e2e import e2e_required, e2e_unavailable, require_e2e
from dhcpbridge.testing.kea import Kea4, Kea6, KeaLab, kea_lab
from dhcpbridge.testing.loadsearch import SearchResult, find_max_rate
from dhcpbridge.testing.netns import (
    Namespace,
    NetnsError,
    Topology,
    TopologySpec,
    lab_spec,
    lab_topology,
    relayed_spec,
    relayed_topology,
)
from dhcpbridge.testing.perfdhcp import PerfdhcpResult, parse_output, perfdhcp4, perfdhcp6
from dhcpbridge.testing.plan import LAB_PLAN, RELAYED_PLAN, SHORT_LEASES, AddressPlan, Subnet4, Subnet6
from dhcpbridge.testing.process import BackgroundProcess
from dhcpbridge.testing.server import DhcpbridgeServer, ManagedServer, ServerError, dhcpbridge_unavailable

LAB_POOL4 = ipaddress.ip_network("10.67.0.0/24")
"""Subnet of the direct IPv4 clients in the lab (pool 10.67.0.100-199)."""

__all__ = [
    "CLIENT_NAMES",
    "CLIENT_TOOLS",
    "LAB_PLAN",
    "LAB_POOL4",
    "RELAYED_PLAN",
    "SHORT_LEASES",
    "AddressPlan",
    "BackgroundProcess",
    "ClientError",
    "Dhclient",
    "DhcpClient",
    "DhcpbridgeServer",
    "Dhcpcd",
    "Dhcrelay",
    "HookEvent",
    "Kea4",
    "Kea6",
    "KeaLab",
    "Lease",
    "ManagedServer",
    "Namespace",
    "NetnsError",
    "PerfdhcpResult",
    "SearchResult",
    "ServerError",
    "Subnet4",
    "Subnet6",
    "Topology",
    "TopologySpec",
    "Udhcpc",
    "dhcpbridge_unavailable",
    "e2e_required",
    "e2e_unavailable",
    "find_max_rate",
    "kea_lab",
    "lab_spec",
    "lab_topology",
    "make_client",
    "parse_output",
    "perfdhcp4",
    "perfdhcp6",
    "relay_for",
    "relayed_spec",
    "relayed_topology",
    "require_e2e",
]
