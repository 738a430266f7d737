"""Pool starvation with real clients: one relay circuit floods the server with DORAs from random
MACs at full rate, and a real client behind the same relay, on another circuit, must still be
served (hardening issue, point 6).

The topology is ``relayed_topology``: ISC ``dhcrelay -a`` in the ``rly`` namespace relays the
real dhclient of ``cli`` with option 82 circuit-id ``rly0`` and giaddr 10.69.0.1. The attacker
sits in the same relay namespace: a relay-agent socket on 10.69.0.1:6767 (the giaddr, so the
server honours its RFC 8357 relay-port sub-option 19 and answers there) whose DISCOVERs and
REQUESTs carry circuit-id ``evil-port``, from fresh MACs, as fast as the server answers (bounded
in count and time). Both circuits draw from the one pool of 10.69.0.0/24 (100 addresses).

* Without limits the flood takes every address of the pool: the dhclient that comes next gets
  nothing. This is the attack working, the reason for the limits.
* With ``[limits] leases-per-circuit`` and ``circuit-rate`` the attacking circuit holds at most
  its cap, the refusals are counted (``lease-cap-circuit``, ``rate-circuit``), and the dhclient
  obtains an address during the flood and renews it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.clients import ClientError, Dhclient, Dhcrelay
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology, relayed_topology
from dhcpbridge.testing.plan import RELAYED_PLAN
from dhcpbridge.testing.server import wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

# leases outlive the test (the attacker's addresses stay taken), the real client renews often
PLAN = RELAYED_PLAN.with_lifetimes(valid4=600, renew4=4, rebind4=500)
CLIENT_NET = ipaddress.ip_network("10.69.0.0/24")
POOL_SIZE = 100  # 10.69.0.100-10.69.0.199
GIADDR = "10.69.0.1"  # dhcrelay's address on the client side (rly0), and the attacker's
SERVER = ("10.68.0.1", 67)
ATTACK_PORT = 6767
ATTACKERS = 400  # MACs of the flood: four times the pool
CAP = 8  # leases-per-circuit in the limited run


class CircuitFlood(h.RelayLoader):
    """The relay loader's DORAs with option 82 (circuit-id ``evil-port``, relay-port 19)."""

    def _options(self, *extra: tuple[int, bytes]) -> list[tuple[int, bytes]]:
        agent = h.tlv(1, b"evil-port") + h.tlv(19, ATTACK_PORT.to_bytes(2, "big"))
        options: list[tuple[int, bytes]] = super()._options(*extra)
        return [*options, (82, agent)]


@pytest.fixture(scope="module")
def relayed() -> Iterator[Topology]:
    """cli(cli0) <-> rly(rly0 10.69.0.1/24 | rly1 10.68.0.2/16) <-> srv(srv1 10.68.0.1/16)."""
    require_e2e("dhclient", "dhcrelay")
    with relayed_topology() as topo:
        yield topo


def flood(topo: Topology) -> Any:
    sock = h.relay_socket(topo["rly"], GIADDR, ATTACK_PORT)
    return CircuitFlood(sock, SERVER, GIADDR, ATTACKERS, window=64, retry=0.5, max_seconds=60.0)


def run(topo: Topology, name: str, limits: dict[str, Any] | None) -> tuple[Any, Any, Dhclient]:
    """A fresh server (``limits`` or none), dhcrelay, the flood until it has what it can get, then
    a dhclient behind dhcrelay while the flood goes on: (server, flood, client). The caller
    stops the flood and the processes (they are context managers)."""
    extra = {"limits": limits} if limits else {}
    server = h.V4Server(topo["srv"], topo.workdir / name, PLAN, extra=extra)
    return server, flood(topo), Dhclient(topo["cli"], workdir=topo.workdir / name)


def relay(topo: Topology) -> Dhcrelay:
    return Dhcrelay(
        topo["rly"],
        downstream=("rly0",),
        upstream=("rly1",),
        servers=(SERVER[0],),
        agent_options=True,  # -a: circuit-id = the receiving interface's name ("rly0")
    )


def bound_in_pool(server: Any) -> int:
    return sum(
        1
        for address, row in server.control_leases().items()
        if row["state"] == "bound" and ipaddress.ip_address(address) in CLIENT_NET
    )


def test_without_limits_one_circuit_takes_the_whole_pool(relayed: Topology) -> None:
    topo = relayed
    server, attack, client = run(topo, "unlimited", None)
    with server, relay(topo):
        attack.start()
        try:
            assert wait_for(lambda: attack.acked >= POOL_SIZE, 60), (attack.acked, attack.errors)
            assert bound_in_pool(server) == POOL_SIZE
            with pytest.raises(ClientError):
                client.obtain(timeout=15)
        finally:
            attack.stop()
            client.close()
    assert attack.conflicts == []


def test_with_circuit_limits_the_other_circuit_is_served(relayed: Topology) -> None:
    topo = relayed
    limits = {"leases-per-circuit": CAP, "circuit-rate": 200.0, "circuit-burst": 200}
    server, attack, client = run(topo, "limited", limits)
    with server, relay(topo):
        attack.start()
        try:
            # the flood has hit the cap and keeps knocking
            assert wait_for(lambda: server.stats()["drops"].get("lease-cap-circuit", 0) >= 50, 60)
            lease = client.obtain(timeout=30)
            assert lease.address is not None and lease.address.ip in CLIENT_NET
            renewed = client.renew(timeout=30)
            assert renewed.address is not None and renewed.address.ip == lease.address.ip
            drops = server.stats()["drops"]
            assert attack.join(0) is False  # the flood was still running throughout
        finally:
            attack.stop()
            client.close()
        rows = server.control_leases()
    attacked = [r for r in rows.values() if r["hwaddr"].startswith("02:4c:") and r["state"] == "bound"]
    print(f"\nflood: {attack.acked} ACKs, drops {drops}, attacker leases bound {len(attacked)}")
    assert attack.acked <= CAP and len(attacked) <= CAP
    assert drops["lease-cap-circuit"] >= 50
    assert rows[str(lease.address.ip)]["hwaddr"] == "02:69:00:00:00:02"
    assert attack.conflicts == []
