"""``[server]`` and ``[leases]`` settings of ``dhcpbridge serve`` seen from outside: the broadcast flag
and ``raw-socket = false`` on the wire, the bind ``address``, the info-level drop log (a burst per
reason, then a summary of what was suppressed) and the reaper expiring an abandoned lease."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.capture import Capture
from dhcpbridge.testing.clients import ClientError, Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e

SERVER = "10.67.0.1"
CLIENT_MAC = "02:67:00:00:00:02"
SHORT = LAB_PLAN.with_lifetimes(valid4=10, renew4=5, rebind4=8)  # the shortest lease the config allows


@pytest.fixture
def lab() -> Iterator[Topology]:
    """A fresh lab per test: each test runs its own server on port 67 in ``srv``."""
    require_e2e("udhcpc", "tshark")
    with lab_topology() as topo:
        yield topo


class BroadcastUdhcpc(Udhcpc):
    """udhcpc -B: asks for broadcast replies (the driver takes no extra arguments)."""

    def command(self, timeout: float) -> list[str]:
        return [*super().command(timeout), "-B"]


def replies(cap: Capture) -> list[dict[str, str]]:
    keys = ("eth.dst", "ip.dst", "dhcp.option.dhcp", "dhcp.flags.bc")
    rows = cap.fields(*keys, display_filter=f"dhcp && ip.src == {SERVER}")
    return [dict(zip(keys, r, strict=False)) for r in rows]


BROADCAST_OFFER_ACK = [
    {"eth.dst": "ff:ff:ff:ff:ff:ff", "ip.dst": "255.255.255.255", "dhcp.option.dhcp": t, "dhcp.flags.bc": bc}
    for t, bc in (("2", ""), ("5", ""))
]


def expect_broadcast(rows: list[dict[str, str]], flag: str) -> None:
    assert rows == [{**r, "dhcp.flags.bc": flag} for r in BROADCAST_OFFER_ACK], rows


def test_broadcast_flag_gets_broadcast_replies(lab: Topology) -> None:
    """RFC 2131 4.1: a client that sets the broadcast bit gets OFFER and ACK by broadcast (with the
    flag copied), even though the server could unicast them at the link layer."""
    require_e2e("udhcpc", "tshark")
    with h.V4Server(lab["srv"], lab.workdir / "srv", LAB_PLAN) as server:
        with Capture(lab["srv"], "srv0") as cap, BroadcastUdhcpc(lab["cli"]) as client:
            lease = client.obtain(timeout=30)
            assert lease.address is not None and lease.server_id == SERVER
        assert server.stats()["sent"] == {"DHCPOFFER": 1, "DHCPACK": 1}
    expect_broadcast(replies(cap), "1")


def test_without_raw_socket_replies_are_broadcast(lab: Topology) -> None:
    """``raw-socket = false``: no AF_PACKET frames; OFFER/ACK to a client without an address go to
    255.255.255.255 on the receiving interface, and the client takes them."""
    require_e2e("udhcpc", "tshark")
    server = h.V4Server(lab["srv"], lab.workdir / "srv", LAB_PLAN, server={"raw-socket": False})
    with server, Capture(lab["srv"], "srv0") as cap, Udhcpc(lab["cli"]) as client:
        lease = client.obtain(timeout=30)
        assert lease.address is not None
        assert server.lease_by_address()[str(lease.address.ip)]["state"] == "bound"
    expect_broadcast(replies(cap), "0")


def test_a_unicast_bind_address_still_serves_its_interfaces_or_is_refused(lab: Topology) -> None:
    require_e2e("udhcpc")
    server = h.V4Server(lab["srv"], lab.workdir / "srv", LAB_PLAN, server={"address": SERVER})
    try:
        server.start()
    except Exception:
        return  # refusing the combination is a fine answer too
    with server:
        warned = [r for r in server.records() if r.get("level") in ("warning", "error")]
        try:
            with Udhcpc(lab["cli"]) as client:
                served = client.obtain(timeout=6).address is not None
        except ClientError:
            served = False
        assert served or any("address" in str(r) for r in warned), server.log()[-2000:]


def test_drop_log_is_rate_limited_per_reason_and_summarised(lab: Topology) -> None:
    """At info level each drop reason logs at most 10 lines per 10 s window; the first drop after
    the window logs how many were suppressed. The counters count every drop regardless."""
    require_e2e()
    reason = "malformed:no-cookie"
    # 26 packets of one client in a burst: the per-client rate limit ([limits]) is off here
    no_client_limit = {"limits": {"client-rate": 0}}
    with h.V4Server(lab["srv"], lab.workdir / "srv", LAB_PLAN, extra=no_client_limit) as server:
        sock = h.relay_socket(lab["rly"], "10.68.0.2")
        try:
            good = h.build(h.DISCOVER, 1, b"\x02\xdd\x00\x00\x00\x01", hops=1, giaddr=h.ip2int("10.68.0.2"))
            bad = good[:236] + b"\0\0\0\0" + good[240:299]  # no cookie, shorter than RFC 951 BOOTP
            first = time.monotonic()
            for _ in range(25):
                sock.sendto(bad, ("10.68.0.1", 67))
            assert wait_for(lambda: server.stats()["drops"].get(reason) == 25, 15), server.stats()
            # log lines are written by a thread (logs.start_queue): wait for them, not only the counter
            drop_lines = lambda: [r for r in server.events("drop") if r.get("reason") == reason]  # noqa: E731
            assert wait_for(lambda: len(drop_lines()) >= 10, 5)
            time.sleep(0.5)  # and no line beyond the burst comes later
            lines = drop_lines()
            assert len(lines) == 10
            assert lines[0]["level"] == "info" and lines[0]["interface"] == "srv1"
            assert not server.events("drops suppressed")
            time.sleep(max(0.0, 11.0 - (time.monotonic() - first)))  # the window (10 s) is over
            sock.sendto(bad, ("10.68.0.1", 67))
            assert wait_for(lambda: bool(server.events("drops suppressed")), 15), server.log()[-2000:]
        finally:
            sock.close()
        summary = server.events("drops suppressed")
        assert len(summary) == 1
        assert (summary[0]["family"], summary[0]["counts"], summary[0]["window_s"]) == (
            "v4",
            {reason: 15},
            10.0,
        )
        assert len([r for r in server.events("drop") if r.get("reason") == reason]) == 11
        assert server.stats()["drops"] == {reason: 26}


def test_an_abandoned_lease_expires_and_its_address_is_reusable(lab: Topology) -> None:
    """A client that leaves without RELEASE: the reaper marks its lease expired after the lease
    time (logged, counted in the lease gauges), and the store keeps the record."""
    require_e2e("udhcpc")
    server = h.V4Server(lab["srv"], lab.workdir / "srv", SHORT, leases={"reap-interval": 0.5})
    with server:
        with Udhcpc(lab["cli"], release_on_exit=False) as client:
            lease = client.obtain(timeout=30)
            assert lease.address is not None and lease.lease_time == 10
            client.stop()  # gone without a RELEASE
        address = str(lease.address.ip)
        row = server.lease_by_address()[address]
        assert row["state"] == "bound"
        assert wait_for(lambda: server.lease_by_address()[address]["state"] == "expired", 25), (
            server.lease_by_address()
        )
        assert time.time() >= row["expires"]  # not before its time
        expired = server.events("leases expired")
        assert expired and expired[0]["count"] == 1
        assert any(
            r.get("change") == "expire" and r.get("address") == address for r in server.events("lease")
        )
        stats = server.control({"cmd": "stats"})
        assert stats["leases"].get("v4_expired") == 1 and "v4_bound" not in stats["leases"]
        # the same client comes back: its expired record does not stand in its way
        with Udhcpc(lab["cli"]) as again:
            back = again.obtain(timeout=30)
            assert back.address == lease.address
            assert server.lease_by_address()[address]["state"] == "bound"
