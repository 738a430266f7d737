"""Real DHCPv4 clients (ISC dhclient, busybox udhcpc, dhcpcd) against ``dhcpbridge serve`` on a
directly attached veth: a broadcast DISCOVER answered by a link-layer unicast OFFER/ACK, a renewal
that moves the lease's expiry, a RELEASE that the lease table shows; and a reserved MAC address
that gets its address, host name, domain name, NTP servers and lease time."""

from __future__ import annotations

import ipaddress
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.capture import Capture
from dhcpbridge.testing.clients import Dhclient, Dhcpcd, DhcpClient, Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import LAB_MACS, Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN, SHORT_LEASES
from dhcpbridge.testing.server import wait_for

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
BIG_MAC = "02:67:00:00:00:51"
BIG_OPTIONS = {  # ~400 bytes of options for one client: more than fits in a 576-byte message's options field
    "ntp-servers": [f"10.67.0.{i}" for i in range(10, 30)],
    "224": {"type": "string", "value": "A" * 150},
    "225": {"hex": bytes(range(100)).hex(":")},
    "226": {"hex": bytes(range(100, 140)).hex(":")},
}
BIG = {"mac": BIG_MAC, "options": BIG_OPTIONS}  # options only: the address comes from the pool
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
        v4_lab["srv"], v4_lab.workdir / "dhcpbridge4", PLAN, extra={"reservation": [RESERVATION, BIG]}
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


def wire_replies(cap: Capture) -> list[dict[str, str]]:
    keys = (
        "ip.src",
        "ip.len",
        "dhcp.option.dhcp",
        "dhcp.option.dhcp_max_message_size",
        "dhcp.option.option_overload",
    )
    return [dict(zip(keys, r, strict=False)) for r in cap.fields(*keys, display_filter="dhcp")]


def test_overloaded_reply_reaches_udhcpc(v4_lab: Topology, v4_server: Any) -> None:
    """udhcpc says 576 bytes (option 57): options that do not fit the options field go into the
    file and sname fields (option 52 = 3, RFC 2131 4.1) and udhcpc reads every one of them."""
    require_e2e("udhcpc", "tshark")
    set_mac(v4_lab, BIG_MAC)
    try:
        with Capture(v4_lab["srv"], "srv0") as cap, Udhcpc(v4_lab["cli"]) as client:
            lease = client.obtain(timeout=30)
            assert lease.address is not None and lease.domain_name == "lab.test"
            env = next(e for e in client.events if e.reason == "bound").env
            assert env["opt224"] == (b"A" * 150).hex()
            assert env["opt225"] == bytes(range(100)).hex()
            assert env["opt226"] == bytes(range(100, 140)).hex()
            assert env["ntpsrv"].split() == BIG_OPTIONS["ntp-servers"]
    finally:
        set_mac(v4_lab, CLIENT_MAC)
    rows = wire_replies(cap)
    asks = [r for r in rows if r["dhcp.option.dhcp"] in ("1", "3")]
    assert asks and all(r["dhcp.option.dhcp_max_message_size"] == "576" for r in asks), rows
    answers = [r for r in rows if r["ip.src"] == str(SERVER)]
    assert [r["dhcp.option.dhcp"] for r in answers] == ["2", "5"], rows
    for r in answers:
        assert int(r["ip.len"]) <= 576 and r["dhcp.option.option_overload"] == "3", r


def test_reply_to_a_client_without_option57_fits_576_bytes(v4_lab: Topology, v4_server: Any) -> None:
    """dhclient sends no option 57, so the server may not exceed 576 bytes (RFC 2131 sec. 2, RFC 2132
    sec. 9.10): the same ~400 bytes of options arrive overloaded into file/sname, which dhclient reads.
    (Regression: replies used to be 702 bytes when option 57 was missing.)"""
    require_e2e("dhclient", "tshark")
    set_mac(v4_lab, BIG_MAC)
    try:
        with Capture(v4_lab["srv"], "srv0") as cap, Dhclient(v4_lab["cli"], mode="4") as client:
            lease = client.obtain(timeout=30)
            assert lease.address is not None
            env = next(e for e in client.events if e.reason == "BOUND").env
            assert env["new_unknown_224"] == "A" * 150  # every option still arrives (overloaded)
            assert env["new_unknown_226"] == ":".join(f"{b:x}" for b in range(100, 140))
    finally:
        set_mac(v4_lab, CLIENT_MAC)
    rows = wire_replies(cap)
    assert all(r["dhcp.option.dhcp_max_message_size"] == "" for r in rows if r["ip.src"] == "0.0.0.0"), rows
    answers = [r for r in rows if r["ip.src"] == str(SERVER)]
    assert answers and all(int(r["ip.len"]) <= 576 for r in answers), answers


def test_dhclient_reboots_from_its_lease_file_and_a_foreign_lease_is_nakked(
    v4_lab: Topology, v4_server: Any
) -> None:
    """INIT-REBOOT (RFC 2131 4.3.2): dhclient restarted with its lease file asks for that address
    again (REQUEST with option 50, no server id) and is ACKed; with a lease from another network
    it is NAKed - by broadcast, with the reason in option 56 - and starts over with DISCOVER."""
    require_e2e("dhclient", "tshark")
    server = v4_server
    cli = v4_lab["cli"]
    with Dhclient(cli, mode="4") as first:
        lease = first.obtain(timeout=30)
        assert lease.address is not None
        address = str(lease.address.ip)
        # dhclient writes its lease file after running the hook
        lease_file = first.lease_file
        assert wait_for(
            lambda: lease_file.exists() and f"fixed-address {address};" in lease_file.read_text(), 10
        )
        first.stop()  # no RELEASE: the lease stays in the file and on the server
        saved = first.lease_file.read_text()
    before = server.stats()
    with Capture(v4_lab["srv"], "srv0") as cap:
        with Dhclient(cli, mode="4") as again:
            again.lease_file.write_text(saved)
            rebooted = again.obtain(timeout=30)
            assert rebooted.reason == "REBOOT" and rebooted.address == lease.address
            again.stop()
        with Dhclient(cli, mode="4") as moved:
            moved.lease_file.write_text(
                saved.replace(f"fixed-address {address};", "fixed-address 10.68.5.5;")
            )
            fresh = moved.obtain(timeout=30)
            assert fresh.reason == "BOUND" and fresh.address == lease.address  # its own address again
            assert "DHCPNAK from 10.67.0.1" in moved.log()
    after = server.stats()
    assert after["sent"].get("DHCPNAK", 0) == before["sent"].get("DHCPNAK", 0) + 1
    keys = (
        "eth.dst",
        "ip.dst",
        "dhcp.option.dhcp",
        "dhcp.option.requested_ip_address",
        "dhcp.option.message",
    )
    rows = [dict(zip(keys, r, strict=False)) for r in cap.fields(*keys, display_filter="dhcp")]
    reboots = [r for r in rows if r["dhcp.option.dhcp"] == "3" and r["ip.dst"] == "255.255.255.255"]
    assert [r["dhcp.option.requested_ip_address"] for r in reboots][:2] == [address, "10.68.5.5"], rows
    naks = [r for r in rows if r["dhcp.option.dhcp"] == "6"]
    assert naks == [
        {
            "eth.dst": "ff:ff:ff:ff:ff:ff",
            "ip.dst": "255.255.255.255",
            "dhcp.option.dhcp": "6",
            "dhcp.option.requested_ip_address": "",
            "dhcp.option.message": "10.68.5.5 is not on network 10.67.0.0/24",
        }
    ], rows


class RequestingDhcpcd(Dhcpcd):
    """dhcpcd asking for one address (``request ADDRESS``; the driver takes no extra conf lines)."""

    def __init__(self, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wanted = address

    def command(self, timeout: float) -> list[str]:
        argv = super().command(timeout)
        with self.conf.open("a") as conf:
            conf.write(f"request {self.wanted}\n")
        return argv


def test_dhcpcd_declines_an_address_in_use_and_gets_another(v4_lab: Topology, v4_server: Any) -> None:
    """dhcpcd ARP-probes the acknowledged address (RFC 5227); someone answers, so it sends DECLINE:
    the server quarantines the address (decline-probation) and offers another one, even though the
    client asks for the declined address again."""
    require_e2e("dhcpcd")
    server = v4_server
    taken = set(server.lease_by_address())
    conflict = next(f"10.67.0.{i}" for i in range(150, 200) if f"10.67.0.{i}" not in taken)
    srv = v4_lab["srv"]
    srv.ip("addr", "add", f"{conflict}/32", "dev", "srv0")  # the server's host answers ARP for it
    try:
        before = server.stats()
        with RequestingDhcpcd(v4_lab["cli"], family=4, address=conflict) as client:
            lease = client.obtain(timeout=40)
            assert lease.address is not None and str(lease.address.ip) != conflict
            assert POOL[0] <= lease.address.ip <= POOL[1]
            log = client.log()
            assert f"offered {conflict} from 10.67.0.1" in log and "sending DECLINE" in log
            rows = server.lease_by_address()
            declined = rows[conflict]
            assert declined["state"] == "declined"
            assert declined["expires"] - declined["starts"] == pytest.approx(
                86400, abs=1
            )  # decline-probation
            assert rows[str(lease.address.ip)]["state"] == "bound"
            assert rows[str(lease.address.ip)]["client"] == declined["client"]
            assert client.release(timeout=15)
        after = server.stats()
        assert after["received"].get("DHCPDECLINE", 0) == before["received"].get("DHCPDECLINE", 0) + 1
        assert server.lease_by_address()[conflict]["state"] == "declined"  # a release does not free it
    finally:
        srv.ip("addr", "del", f"{conflict}/32", "dev", "srv0", check=False)
