"""Relayed DHCPv4 end to end: ISC ``dhcrelay -a -D`` in the middle namespace adds a Relay Agent
Information option (82) and drops replies whose option 82 does not match; a dhclient behind it
gets an address of the subnet that giaddr selects, and the server echoes option 82 byte for byte
(seen by tshark on the server's interface)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.capture import Capture
from dhcpbridge.testing.clients import Dhclient, Dhcrelay
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology, relayed_topology
from dhcpbridge.testing.plan import RELAYED_PLAN, SHORT_LEASES
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e

PLAN = RELAYED_PLAN.with_lifetimes(**SHORT_LEASES)
CLIENT_NET = ipaddress.ip_network("10.69.0.0/24")
GIADDR = "10.69.0.1"  # dhcrelay's address on the client side (rly0)
SERVER = "10.68.0.1"
CLIENT_MAC = "02:69:00:00:00:02"


@pytest.fixture(scope="module")
def v4_relayed() -> Iterator[Topology]:
    """cli(cli0) <-> rly(rly0 10.69.0.1/24 | rly1 10.68.0.2/16) <-> srv(srv1 10.68.0.1/16)."""
    require_e2e("dhclient", "dhcrelay", "tshark")
    with relayed_topology() as topo:
        yield topo


def test_dhcrelay_option82_is_echoed_and_giaddr_selects_the_subnet(v4_relayed: Topology) -> None:
    require_e2e("dhclient", "dhcrelay", "tshark")
    topo = v4_relayed
    server = h.V4Server(topo["srv"], topo.workdir / "dhcpbridge4", PLAN)
    relay = Dhcrelay(
        topo["rly"],
        downstream=("rly0",),
        upstream=("rly1",),
        servers=(SERVER,),
        agent_options=True,  # -a: add option 82 (circuit-id = the receiving interface's name)
        extra_args=("-D",),  # drop replies whose option 82 does not match what we added
    )
    with server, relay, Capture(topo["srv"], "srv1") as cap, Dhclient(topo["cli"], mode="4") as client:
        lease = client.obtain(timeout=30)
        assert lease.address is not None
        assert lease.address.ip in CLIENT_NET and lease.address.network == CLIENT_NET
        assert 100 <= int(lease.address.ip) & 0xFF <= 199
        assert lease.routers == (ipaddress.ip_address(GIADDR),)
        assert lease.dns_servers == (ipaddress.ip_address(SERVER),)
        assert lease.domain_name == "relayed.test"
        assert lease.server_id == SERVER
        assert (lease.lease_time, lease.t1, lease.t2) == (30, 5, 20)
        row = server.lease_by_address()[str(lease.address.ip)]
        assert row["state"] == "bound"
        assert (row["subnet"], row["relay"], row["hwaddr"]) == ("10.69.0.0/24", GIADDR, CLIENT_MAC)
        assert bytes.fromhex(row["circuit_id"].replace(":", "")) == b"rly0"
        # the renewal goes by unicast from the client straight to the server (routed through the
        # relay namespace, not relayed): ciaddr selects the subnet
        renewed = client.renew(timeout=30)
        assert renewed.address == lease.address
        assert client.release(timeout=15)
        assert wait_for(lambda: server.lease_by_address()[str(lease.address.ip)]["state"] == "released", 10)
        drops = server.stats()["drops"]
    log = relay.log()
    assert f"Forwarded BOOTREQUEST for {CLIENT_MAC} to {SERVER}" in log
    assert f"Forwarded BOOTREPLY for {CLIENT_MAC} to" in log

    keys = (
        "ip.src",
        "ip.dst",
        "udp.dstport",
        "dhcp.option.dhcp",
        "dhcp.ip.relay",
        "dhcp.hops",
        "dhcp.option.agent_information_option.agent_circuit_id",
    )
    rows = [dict(zip(keys, r, strict=False)) for r in cap.fields(*keys)]
    relayed = [r for r in rows if r["dhcp.ip.relay"] == GIADDR]
    requests = [r for r in relayed if r["dhcp.option.dhcp"] in ("1", "3", "7")]
    replies = [r for r in relayed if r["dhcp.option.dhcp"] in ("2", "5", "6")]
    # dhcrelay listens with LPF on a router that forwards IP: it also relays the client's unicast
    # RENEW and RELEASE that it routes to the server, so those reach the server twice
    assert [r["dhcp.option.dhcp"] for r in requests][:2] == ["1", "3"], rows
    assert [r["dhcp.option.dhcp"] for r in replies][:2] == ["2", "5"], rows
    assert len(replies) == sum(r["dhcp.option.dhcp"] in ("1", "3") for r in requests), rows  # each answered
    circuit = b"rly0".hex()
    for r in requests:
        assert (r["ip.src"], r["ip.dst"], r["dhcp.hops"]) == ("10.68.0.2", SERVER, "1"), r
        assert r["dhcp.option.agent_information_option.agent_circuit_id"].replace(":", "") == circuit, r
    for r in replies:  # to giaddr port 67, option 82 echoed
        assert (r["ip.src"], r["ip.dst"], r["udp.dstport"]) == (SERVER, GIADDR, "67"), r
        assert r["dhcp.option.agent_information_option.agent_circuit_id"].replace(":", "") == circuit, r
    assert set(drops) <= {"release-unknown"}, drops  # the relayed copy of the RELEASE, if any
    assert "Traceback" not in server.log()


def test_a_client_reserved_by_circuit_id_renews_by_unicast(v4_relayed: Topology) -> None:
    """A relay that forwards only broadcasts (as router relays do) is played by a socket on the
    relay's client-side address; the client renews by unicast through the router."""
    require_e2e()
    topo = v4_relayed
    reservation = {"circuit-id": "port-7", "ip": "10.69.0.50"}
    server = h.V4Server(topo["srv"], topo.workdir / "circuit", PLAN, extra={"reservation": [reservation]})
    relay = h.relay_socket(topo["rly"], GIADDR)  # giaddr: replies come back here
    cli = topo["cli"]
    mac = bytes.fromhex("02690000aa01")
    agent = (82, h.tlv(1, b"port-7"))
    try:
        with server:
            xid = 0x5EED
            discover = h.build(h.DISCOVER, xid, mac, [agent, (55, h.PRL)], hops=1, giaddr=h.ip2int(GIADDR))
            offer = h.exchange(relay, discover, (SERVER, 67), xid, wanted=(h.OFFER,))
            assert offer is not None and h.int2ip(offer.yiaddr) == "10.69.0.50"
            opts = [(50, offer.yiaddr.to_bytes(4, "big")), (54, offer.server_id), agent, (55, h.PRL)]
            ack = h.exchange(
                relay, h.build(h.REQUEST, xid, mac, opts, hops=1, giaddr=h.ip2int(GIADDR)), (SERVER, 67), xid
            )
            assert ack is not None and ack.type == h.ACK and ack.options[82] == agent[1]
            row = server.lease_by_address()["10.69.0.50"]
            assert (row["state"], row["source"], row["circuit_id"]) == (
                "bound",
                "reservations",
                b"port-7".hex(":"),
            )

            # the client configures its lease and renews at T1: unicast to the server, no relay involved
            cli.ip("addr", "add", "10.69.0.50/24", "dev", "cli0")
            cli.ip("route", "add", "default", "via", GIADDR)
            client = h.socket_in(cli, socket.AF_INET, socket.SOCK_DGRAM)
            client.bind(("0.0.0.0", 68))
            try:
                renew = h.build(h.REQUEST, xid + 1, mac, [(55, h.PRL)], ciaddr=offer.yiaddr)
                reply = h.exchange(client, renew, (SERVER, 67), xid + 1, tries=2)
            finally:
                client.close()
            stats = server.stats()
            assert reply is not None and reply.type == h.ACK, stats
            assert h.int2ip(reply.yiaddr) == "10.69.0.50"
    finally:
        relay.close()
        cli.flush_addresses("cli0")
