"""Real DHCPv4 clients (ISC dhclient, busybox udhcpc, dhcpcd) against ``dhcpbridge serve`` on a
directly attached veth: a broadcast DISCOVER answered by a link-layer unicast OFFER/ACK, a renewal
that moves the lease's expiry, a RELEASE that the lease table shows; and a reserved MAC address
that gets its address, host name, domain name, NTP servers and lease time."""

from __future__ import annotations

import importlib.util
import ipaddress
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dhcpbridge.testing.capture import Capture
from dhcpbridge.testing.clients import Dhclient, Dhcpcd, DhcpClient, Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import LAB_MACS, Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN, SHORT_LEASES
from dhcpbridge.testing.server import wait_for


def _helpers() -> ModuleType:
    """tests/e2e/v4_helpers.py (test modules cannot import each other under --import-mode=importlib)."""
    name = "dhcpbridge_e2e_v4_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("v4_helpers.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


h = _helpers()
pytestmark = pytest.mark.e2e

PLAN = LAB_PLAN.with_lifetimes(**SHORT_LEASES)  # lease 30 s, T1 5 s, T2 20 s
SUBNET = ipaddress.ip_network("10.67.0.0/24")
POOL = (ipaddress.ip_address("10.67.0.100"), ipaddress.ip_address("10.67.0.199"))
SERVER = ipaddress.ip_address("10.67.0.1")
CLIENT_MAC = LAB_MACS["cli0"]
RESERVED_MAC = "02:67:00:00:00:50"
RESERVATION = {
    "mac": RESERVED_MAC,
    "ip": "10.67.0.50",  # outside the pool, inside the subnet
    "hostname": "printer-50",
    "lease-time": 24,
    "options": {"domain-name": "printers.lab.test", "ntp-servers": ["10.67.0.123", "10.67.0.124"]},
}
TOOLS = {"dhclient": "dhclient", "udhcpc": "udhcpc", "dhcpcd": "dhcpcd"}


def client_key(name: str, client: DhcpClient) -> str:
    """The lease key the server must use: option 61 when sent, else htype 1 + chaddr."""
    if name == "dhcpcd":
        assert isinstance(client, Dhcpcd)
        duid = bytes.fromhex((client.db_dir / "duid").read_text().strip().replace(":", ""))  # text, colon hex
        assert duid, "dhcpcd wrote no DUID"
        # RFC 4361: ff + IAID (dhcpcd: the last 4 bytes of the MAC) + DUID
        return "ff:" + bytes.fromhex(CLIENT_MAC.replace(":", ""))[2:].hex(":") + ":" + duid.hex(":")
    return "01:" + CLIENT_MAC


def make(name: str, topo: Topology) -> DhcpClient:
    cli = topo["cli"]
    if name == "dhclient":
        return Dhclient(cli, mode="4")
    if name == "udhcpc":
        return Udhcpc(cli)
    return Dhcpcd(cli, family=4, arp_probe=False)  # the ARP probe only costs 4.5 s here


@pytest.fixture(scope="module")
def v4_lab() -> Iterator[Topology]:
    """cli(cli0) <-> srv(srv0 10.67.0.1/24, srv1) <-> rly: clients on cli0 are directly attached."""
    require_e2e("dhclient", "udhcpc", "dhcpcd", "tshark")
    with lab_topology() as topo:
        yield topo


@pytest.fixture(scope="module")
def v4_server(v4_lab: Topology) -> Iterator[Any]:
    server = h.V4Server(
        v4_lab["srv"], v4_lab.workdir / "dhcpbridge4", PLAN, extra={"reservation": [RESERVATION]}
    )
    with server:
        yield server
    assert "Traceback" not in server.log(), server.log()[-3000:]


def server_frames(cap: Capture) -> list[dict[str, str]]:
    """DHCP frames the server sent, with tshark's checksum verdicts (1 = good)."""
    keys = (
        "eth.dst",
        "ip.dst",
        "ip.checksum.status",
        "udp.checksum.status",
        "dhcp.ip.client",
        "dhcp.option.dhcp",
    )
    argv = ["tshark", "-r", str(cap.path), "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
    argv += ["-Y", f"dhcp && ip.src == {SERVER}", "-T", "fields", "-E", "separator=\t"]
    for key in keys:
        argv += ["-e", key]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
    return [
        dict(zip(keys, line.split("\t"), strict=True)) for line in out.stdout.splitlines() if line.strip()
    ]


def client_frames(cap: Capture) -> list[list[str]]:
    return cap.fields("dhcp.option.dhcp", "ip.src", "ip.dst", display_filter="dhcp && ip.src != 10.67.0.1")


@pytest.mark.parametrize("name", ["dhclient", "udhcpc", "dhcpcd"])
def test_client_obtains_renews_and_releases(v4_lab: Topology, v4_server: Any, name: str) -> None:
    require_e2e(TOOLS[name], "tshark")
    server = v4_server
    cli = v4_lab["cli"]
    with Capture(v4_lab["srv"], "srv0") as cap, make(name, v4_lab) as client:
        lease = client.obtain(timeout=30)
        assert lease.address is not None
        ip = lease.address.ip
        assert POOL[0] <= ip <= POOL[1]
        assert lease.address.network == SUBNET
        assert lease.routers == (SERVER,)
        assert lease.dns_servers == (SERVER,)
        assert lease.domain_name == "lab.test"
        assert lease.server_id == str(SERVER)
        assert lease.lease_time == 30
        assert (lease.t1, lease.t2) == (5, 20)
        assert lease.address in cli.addresses("cli0")
        row = server.lease_by_address()[str(ip)]
        assert row["state"] == "bound"  # committed before the ACK left
        assert row["hwaddr"] == CLIENT_MAC
        assert row["client"] == client_key(name, client)
        assert (row["subnet"], row["source"], row["relay"]) == ("10.67.0.0/24", "pools", "")
        assert row["expires"] - row["starts"] == pytest.approx(30, abs=0.01)
        before = server.stats()

        renewed = client.renew(timeout=30)  # udhcpc SIGUSR1, dhcpcd -N, dhclient waits for T1
        assert renewed.reason.upper() == "RENEW"
        assert renewed.address == lease.address
        assert renewed.lease_time == 30
        again = server.lease_by_address()[str(ip)]
        assert again["state"] == "bound"
        assert again["expires"] > row["expires"]  # the renewal reached the server and was committed
        after = server.stats()
        assert after["received"]["DHCPREQUEST"] > before["received"]["DHCPREQUEST"]
        assert after["sent"]["DHCPACK"] > before["sent"]["DHCPACK"]

        assert client.release(timeout=15) is True
        assert wait_for(lambda: server.lease_by_address()[str(ip)]["state"] == "released", 10), (
            server.lease_by_address()
        )
        released = server.lease_by_address()[str(ip)]
        assert released["client"] == row["client"]
    assert server.alive()

    # On the wire: the OFFER and the ACK of the SELECTING REQUEST go to a client that has no
    # address yet (ciaddr 0), so as link-layer unicast to chaddr/yiaddr with checksums the server
    # computed (AF_PACKET); neither is broadcast. The renewal's ACK goes to ciaddr by an ordinary
    # socket (its UDP checksum is left to the veth's offload, so tshark cannot check it).
    frames = server_frames(cap)
    unbound = [f for f in frames if f["dhcp.ip.client"] == "0.0.0.0"]
    assert [f["dhcp.option.dhcp"] for f in unbound] == ["2", "5"], frames
    renewal = [f for f in frames if f["dhcp.ip.client"] == str(ip)]
    assert renewal and all(f["dhcp.option.dhcp"] == "5" and f["ip.dst"] == str(ip) for f in renewal), frames
    for frame in unbound:
        assert frame["eth.dst"] == CLIENT_MAC, frame
        assert frame["ip.dst"] == str(ip), frame
        assert (frame["ip.checksum.status"], frame["udp.checksum.status"]) == ("1", "1"), frame
    assert all(f["eth.dst"] != "ff:ff:ff:ff:ff:ff" for f in frames), frames
    sent = [row[0] for row in client_frames(cap)]
    assert sent[:2] == ["1", "3"] and "7" in sent  # DISCOVER, REQUEST, ... RELEASE


def set_mac(topo: Topology, mac: str) -> None:
    cli = topo["cli"]
    cli.ip("link", "set", "cli0", "down")
    cli.ip("link", "set", "cli0", "address", mac)
    cli.ip("link", "set", "cli0", "up")


@pytest.mark.parametrize("name", ["udhcpc", "dhclient"])
def test_reserved_mac_gets_its_address_and_options(v4_lab: Topology, v4_server: Any, name: str) -> None:
    require_e2e(TOOLS[name])
    server = v4_server
    set_mac(v4_lab, RESERVED_MAC)
    try:
        with make(name, v4_lab) as client:
            lease = client.obtain(timeout=30)
            assert lease.address == ipaddress.ip_interface("10.67.0.50/24")
            assert lease.lease_time == 24  # the reservation's, not the subnet's 30
            assert (lease.t1, lease.t2) == (5, 20)  # the subnet's timers fit the shorter lease
            assert lease.domain_name == "printers.lab.test"  # per-client, over the subnet's lab.test
            assert lease.routers == (SERVER,) and lease.dns_servers == (SERVER,)  # the subnet's still
            env = next(e for e in client.events if e.reason in ("bound", "BOUND")).env
            if name == "udhcpc":  # asks for 12 and 42 by default
                assert env.get("hostname") == "printer-50"
                assert env.get("ntpsrv", "").split() == ["10.67.0.123", "10.67.0.124"]
            else:  # dhclient asks for neither: 42 comes anyway (set for this client), 12 does not
                assert env.get("new_ntp_servers", "").split() == ["10.67.0.123", "10.67.0.124"]
                assert "new_host_name" not in env
            row = server.lease_by_address()["10.67.0.50"]
            assert (row["state"], row["hwaddr"], row["source"]) == ("bound", RESERVED_MAC, "reservations")
            assert row["hostname"] == "printer-50"
            assert client.release(timeout=15)
            assert wait_for(lambda: server.lease_by_address()["10.67.0.50"]["state"] == "released", 10)
    finally:
        set_mac(v4_lab, CLIENT_MAC)
