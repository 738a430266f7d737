"""Restart durability: ``kill -9`` of ``dhcpbridge serve`` in the middle of a DORA load, restart on the
same SQLite file, and every ACK a client saw is still in the store - same client, same address;
clients renewing after the restart keep their addresses.

The load comes from our own relay agent (:class:`v4_helpers.RelayLoader`, giaddr 10.68.0.2 in the
relay namespace): many distinct MACs doing DISCOVER/OFFER/REQUEST/ACK, retransmitting while the
server is down, recording every ACK (mac -> yiaddr)."""

from __future__ import annotations

import ipaddress
import random
import time

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.clients import Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import lab_topology
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e

CLIENTS = 5000
RELAYED_NET = ipaddress.ip_network("10.68.0.0/16")
BOUND = 1


def test_kill9_mid_load_loses_no_acknowledged_lease() -> None:
    require_e2e("udhcpc")
    with lab_topology() as topo:
        server = h.V4Server(topo["srv"], topo.workdir / "dhcpbridge4", LAB_PLAN)  # 2 h leases
        sock = h.relay_socket(topo["rly"], "10.68.0.2")
        loader = h.RelayLoader(
            sock, ("10.68.0.1", 67), "10.68.0.2", count=CLIENTS, window=64, max_seconds=120
        )
        server.start()
        try:
            with Udhcpc(topo["cli"]) as real:
                first = real.obtain(timeout=30)
                assert first.address is not None

                loader.start()
                assert wait_for(lambda: loader.acked >= CLIENTS // 3, 60), (loader.acked, loader.errors)
                server.kill9()
                killed_at = time.monotonic()
                seen = dict(loader.acks)  # every ACK that left before the crash (ACKs are not buffered)
                assert len(seen) < CLIENTS, "the load finished before the kill"

                # the file as the crash left it, read-only while no server runs
                on_disk = {row["address"]: row for row in server.db_rows()}
                for mac, yiaddr in seen.items():
                    row = on_disk.get(h.int2ip(yiaddr))
                    assert row is not None, f"ACKed {h.int2ip(yiaddr)} for {mac.hex(':')} is not on disk"
                    assert (bytes(row["hwaddr"]), bytes(row["client"]), row["state"]) == (
                        mac,
                        b"\x01" + mac,
                        BOUND,
                    )

                time.sleep(max(0.0, 1.5 - (time.monotonic() - killed_at)))  # clients retransmit into the void
                server.start()
                assert loader.join(120), "the load did not finish"
                assert not loader.errors, loader.errors
                assert not loader.conflicts, loader.conflicts  # nobody got two different addresses
                assert not loader.unanswered, len(loader.unanswered)
                assert len(loader.acks) == CLIENTS
                assert len(set(loader.acks.values())) == CLIENTS  # no address given twice
                restarted = server.events("serving")
                assert len(restarted) == 2 and restarted[1]["leases"] >= len(seen) + 1

                # after the restart: every ACK any client saw, in ``dhcpbridge leases list --json``
                rows = server.lease_by_address()
                for mac, yiaddr in loader.acks.items():
                    row = rows[h.int2ip(yiaddr)]
                    assert ipaddress.ip_address(row["address"]) in RELAYED_NET
                    assert (row["state"], row["hwaddr"], row["client"]) == (
                        "bound",
                        mac.hex(":"),
                        "01:" + mac.hex(":"),
                    )
                    assert (row["relay"], row["subnet"]) == ("10.68.0.2", "10.68.0.0/16")

                # clients ACKed before the crash renew (REQUEST with ciaddr, relayed) and keep their address
                for mac in random.Random(7).sample(sorted(seen), 25):
                    xid = random.getrandbits(32)
                    packet = h.build(
                        h.REQUEST,
                        xid,
                        mac,
                        [(55, h.PRL)],
                        hops=1,
                        ciaddr=seen[mac],
                        giaddr=h.ip2int("10.68.0.2"),
                    )
                    reply = h.exchange(sock, packet, ("10.68.0.1", 67), xid)
                    assert reply is not None and reply.type == h.ACK, mac.hex(":")
                    assert reply.yiaddr == seen[mac]
                    assert (
                        rows[h.int2ip(seen[mac])]["expires"]
                        < server.control_leases()[h.int2ip(seen[mac])]["expires"]
                    )

                # and so does the real client that was bound before the crash (unicast RENEW)
                renewed = real.renew(timeout=30)
                assert renewed.address == first.address
                row = server.lease_by_address()[str(first.address.ip)]
                assert (row["state"], row["client"]) == ("bound", "01:02:67:00:00:00:02")

            # SIGTERM: a clean stop after flushing, with the counters in the last log line
            assert server.stop() == 0
            stopped = server.events("stopped")
            assert len(stopped) == 1 and stopped[0]["stats"]["v4"]["sent"]["DHCPACK"] >= CLIENTS - len(seen)
        finally:
            loader.stop()
            sock.close()
            server.stop()
        assert "Traceback" not in server.log(), server.log()[-3000:]


def test_leases_list_shows_a_few_hundred_leases_of_a_running_server() -> None:
    """``dhcpbridge leases list`` through the control socket with more than 64 KiB of reply.
    (Regression: the CLI read the reply with asyncio's default line limit and failed.)"""
    require_e2e()
    with lab_topology() as topo:
        server = h.V4Server(topo["srv"], topo.workdir / "dhcpbridge4", LAB_PLAN)
        sock = h.relay_socket(topo["rly"], "10.68.0.2")
        loader = h.RelayLoader(sock, ("10.68.0.1", 67), "10.68.0.2", count=400, max_seconds=60)
        try:
            with server:
                loader.start()
                assert loader.join(60) and len(loader.acks) == 400, loader.errors
                assert len(server.control_leases()) == 400
                rows = server.lease_by_address()  # dhcpbridge leases list --config FILE --json
                assert {h.int2ip(a) for a in loader.acks.values()} == set(rows)
        finally:
            loader.stop()
            sock.close()
