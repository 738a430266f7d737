"""Two ``dhcpbridge serve`` on one Ethernet segment (split scope: one subnet, disjoint pools), a real
client between them: both OFFER, the client REQUESTs from one (option 54), the other takes the
broadcast REQUEST as "the client chose another server" (RFC 2131 4.3.2) and binds nothing.

The toolkit builds veth pairs only, so the segment is a Linux bridge in its own namespace::

    srva(srv0 10.67.0.1/24) --+
    srvb(srv0 10.67.0.2/24) --+-- sw(br0) -- cli(cli0)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.clients import Dhclient, Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Address, Topology, TopologySpec, Veth
from dhcpbridge.testing.plan import AddressPlan, Subnet4

pytestmark = pytest.mark.e2e

SEGMENT = TopologySpec(
    roles=("sw", "srva", "srvb", "cli"),
    veths=(
        Veth("sw", "swa", "02:70:00:00:00:0a", "srva", "srv0", "02:67:00:00:00:01"),
        Veth("sw", "swb", "02:70:00:00:00:0b", "srvb", "srv0", "02:67:00:00:00:03"),
        Veth("sw", "swc", "02:70:00:00:00:0c", "cli", "cli0", "02:67:00:00:00:02"),
    ),
    addresses=(Address("srva", "srv0", "10.67.0.1/24"), Address("srvb", "srv0", "10.67.0.2/24")),
    description="srva(srv0 10.67.0.1/24), srvb(srv0 10.67.0.2/24), cli(cli0) on bridge br0 in sw",
)
POOLS = {"srva": ("10.67.0.100", "10.67.0.149"), "srvb": ("10.67.0.150", "10.67.0.199")}
SERVER_IDS = {"srva": "10.67.0.1", "srvb": "10.67.0.2"}
CLIENT_KEY = "01:02:67:00:00:00:02"  # dhclient: htype + chaddr; udhcpc: option 61 = the same bytes


def plan(role: str) -> AddressPlan:
    first, last = POOLS[role]
    subnet = Subnet4("10.67.0.0/24", (f"{first}-{last}",), routers=("10.67.0.1",), domain_name="split.test")
    return AddressPlan(interfaces=("srv0",), subnets4=(subnet,), subnets6=())


@pytest.fixture(scope="module")
def split_scope() -> Iterator[tuple[Topology, dict[str, Any]]]:
    require_e2e("dhclient", "udhcpc")
    with Topology(SEGMENT) as topo:
        sw = topo["sw"]
        sw.ip("link", "add", "br0", "type", "bridge")  # no STP: ports forward at once
        for port in ("swa", "swb", "swc"):
            sw.ip("link", "set", port, "master", "br0")
        sw.ip("link", "set", "br0", "up")
        servers = {role: h.V4Server(topo[role], topo.workdir / role, plan(role)) for role in POOLS}
        with servers["srva"], servers["srvb"]:
            yield topo, servers


def in_pool(role: str, address: str) -> bool:
    first, last = (ipaddress.ip_address(a) for a in POOLS[role])
    return first <= ipaddress.ip_address(address) <= last


@pytest.mark.parametrize("client_class", [Dhclient, Udhcpc], ids=["dhclient", "udhcpc"])
def test_the_client_is_bound_by_exactly_one_server(
    split_scope: tuple[Topology, dict[str, Any]], client_class: type[Any]
) -> None:
    topo, servers = split_scope
    before = {role: s.stats() for role, s in servers.items()}
    with client_class(topo["cli"]) as client:
        lease = client.obtain(timeout=30)
        assert lease.address is not None and lease.domain_name == "split.test"
        winner = next(role for role, sid in SERVER_IDS.items() if lease.server_id == sid)
        loser = next(role for role in SERVER_IDS if role != winner)
        address = str(lease.address.ip)
        assert in_pool(winner, address)
        after = {role: s.stats() for role, s in servers.items()}
        for role in SERVER_IDS:  # both saw the DISCOVER and the broadcast REQUEST and offered
            assert after[role]["received"]["DHCPDISCOVER"] > before[role]["received"].get("DHCPDISCOVER", 0)
            assert after[role]["sent"]["DHCPOFFER"] > before[role]["sent"].get("DHCPOFFER", 0)
        assert after[winner]["sent"]["DHCPACK"] == before[winner]["sent"].get("DHCPACK", 0) + 1
        assert after[loser]["sent"].get("DHCPACK", 0) == before[loser]["sent"].get("DHCPACK", 0)
        assert after[loser]["drops"]["other-server"] == before[loser]["drops"].get("other-server", 0) + 1
        rows = servers[winner].lease_by_address()
        assert (rows[address]["state"], rows[address]["client"]) == ("bound", CLIENT_KEY)
        assert not [r for r in servers[loser].leases_cli() if r["state"] == "bound"]  # nothing bound there
        assert client.release(timeout=15)


def test_the_server_not_chosen_releases_its_offer(split_scope: tuple[Topology, dict[str, Any]]) -> None:
    topo, servers = split_scope
    with Udhcpc(topo["cli"]) as client:
        lease = client.obtain(timeout=30)
        winner = next(role for role, sid in SERVER_IDS.items() if lease.server_id == sid)
        loser = next(role for role in SERVER_IDS if role != winner)
        held = [r for r in servers[loser].leases_cli("--state", "offered") if r["client"] == CLIENT_KEY]
        assert held == [], held
