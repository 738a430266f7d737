"""Bad input: malformed DHCPv4 packets at a running ``dhcpbridge serve`` (``--log-level debug``).

First one packet of each hostile kind with its exact outcome (the drop reason, or the reply an
odd-but-valid message deserves); then 10,000 random and mutated packets (seeded, reproducible)
as relay-agent unicast and as broadcast frames on the server's link. The server must stay up,
count every packet as a reply or as a drop by reason (control socket and Prometheus agree), log
every drop, and still serve a real client afterwards."""

from __future__ import annotations

import collections
import ipaddress
import os
import re
import select
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.clients import Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e

PACKETS = 10_000
SEED = int(os.environ.get("DHCPBRIDGE_FUZZ_SEED", "20261125"))
METRICS = "127.0.0.1:9267"  # inside the server namespace
SERVER = ("10.68.0.1", 67)
RELAY = "10.68.0.2"
GIADDR = h.ip2int(RELAY)
# ciaddr/giaddr the packets may carry: replies go there, so only addresses inside our namespaces
ADDRESSES = [0, GIADDR, h.ip2int("10.68.1.7"), h.ip2int("10.68.200.9")]
ETH_P_IP = 0x0800


@pytest.fixture(scope="module")
def v4_fuzz_lab() -> Iterator[Topology]:
    require_e2e("udhcpc")
    with lab_topology() as topo:
        yield topo


@pytest.fixture(scope="module")
def v4_fuzz_server(v4_fuzz_lab: Topology) -> Iterator[Any]:
    server = h.V4Server(
        v4_fuzz_lab["srv"],
        v4_fuzz_lab.workdir / "dhcpbridge4",
        LAB_PLAN,
        server={"metrics": METRICS},
        log_level="debug",
    )
    with server:
        yield server


@pytest.fixture(scope="module")
def relay_sock(v4_fuzz_lab: Topology) -> Iterator[socket.socket]:
    sock = h.relay_socket(v4_fuzz_lab["rly"], RELAY)
    yield sock
    sock.close()


@pytest.fixture(scope="module")
def link_sock(v4_fuzz_lab: Topology) -> Iterator[socket.socket]:
    """A packet socket on rly0 (send only): broadcast frames as a client on srv1's link sends them."""
    sock = h.socket_in(v4_fuzz_lab["rly"], socket.AF_PACKET, socket.SOCK_DGRAM, 0)
    yield sock
    sock.close()


def broadcast(sock: socket.socket, payload: bytes) -> None:
    frame = h.ipv4_udp(0, 0xFFFFFFFF, 68, 67, payload)
    sock.sendto(frame, ("rly0", ETH_P_IP, 0, 0, b"\xff" * 6))


def handled(stats: dict[str, dict[str, int]]) -> int:
    """Packets the server finished with: a reply, a drop (by reason), or an internal error."""
    errors = stats["errors"]
    return (
        sum(stats["drops"].values())
        + sum(stats["sent"].values())
        + errors.get("encode", 0)
        + errors.get("engine", 0)
    )


def released_or_declined(server: Any) -> int:
    """Successful RELEASE/DECLINE: no reply and no drop, but a lease event in the debug log."""
    return sum(1 for r in server.events("lease") if r.get("change") in ("release", "decline"))


def mac(i: int) -> bytes:
    return b"\x02\xbd" + i.to_bytes(4, "big")


def relayed(msg_type: int | None, i: int, options: list[tuple[int, bytes]], **kw: Any) -> bytes:
    return h.build(msg_type, 0x1000 + i, mac(i), options, hops=1, giaddr=GIADDR, **kw)


LOOP = h.tlv(52, b"\x03") + h.tlv(52, b"\x01") + h.tlv(52, b"\x02")
# (name, packet, expected drop reason or None when a reply of type ``reply`` is due)
CASES: list[tuple[str, Callable[[], bytes], str | None, int]] = [
    (
        "overload loop: file and sname carry option 52 again",
        lambda: relayed(
            h.DISCOVER,
            1,
            [(52, b"\x03"), (55, h.PRL)],
            file=(LOOP + h.tlv(12, b"from-file") + LOOP).ljust(128, b"\0"),
            sname=(LOOP + h.tlv(52, b"\x03")).ljust(64, b"\0"),
        ),
        None,
        h.OFFER,
    ),
    ("option 52 = 4", lambda: relayed(h.DISCOVER, 2, [(52, b"\x04")]), "malformed:bad-overload", 0),
    (
        "option 52 of two bytes",
        lambda: relayed(h.DISCOVER, 3, [(52, b"\x01\x01")]),
        "malformed:bad-overload",
        0,
    ),
    ("truncated header", lambda: relayed(h.DISCOVER, 4, [])[:100], "malformed:short", 0),
    ("empty datagram", lambda: b"", "malformed:short", 0),
    (
        "wrong cookie, shorter than an RFC 951 message",
        lambda: (lambda p: p[:236] + b"c\x82Sd" + p[240:])(relayed(h.DISCOVER, 5, [], pad_to=0)),
        "malformed:no-cookie",
        0,
    ),
    (
        "wrong cookie, 300 bytes: an RFC 951 BOOTP request (no bootp = true here)",
        lambda: (lambda p: p[:236] + b"c\x82Sd" + p[240:])(relayed(h.DISCOVER, 22, [])),
        "bootp",
        0,
    ),
    (
        "option length past the end",
        lambda: relayed(h.DISCOVER, 6, [], end=False, pad_to=0) + b"\x0c\xf0abc",
        "malformed:option-overrun",
        0,
    ),
    (
        "length byte missing",
        lambda: relayed(h.DISCOVER, 7, [], end=False, pad_to=0) + b"\x0c",
        "malformed:truncated-option",
        0,
    ),
    ("hlen 17", lambda: relayed(h.DISCOVER, 8, [], hlen=17), "malformed:bad-hlen", 0),
    ("hlen 255", lambda: relayed(h.DISCOVER, 9, [], hlen=255), "malformed:bad-hlen", 0),
    ("op 3", lambda: relayed(h.DISCOVER, 10, [], op=3), "malformed:bad-op", 0),
    ("op 2 (a BOOTREPLY)", lambda: relayed(h.OFFER, 11, [], op=2), "not-a-request", 0),
    ("garbage option 82", lambda: relayed(h.DISCOVER, 12, [(82, b"\x01\x09ab")]), "bad-relay-agent-info", 0),
    ("BOOTP (no option 53)", lambda: relayed(None, 13, [(55, h.PRL)]), "bootp", 0),
    ("option 53 = 13", lambda: relayed(13, 14, []), "unsupported-type", 0),
    ("hlen 0 and no option 61", lambda: relayed(h.DISCOVER, 15, [], hlen=0), "no-client-identity", 0),
    ("option 61 of one byte", lambda: relayed(h.DISCOVER, 16, [(61, b"\x01")]), "bad-client-id", 0),
    ("option 50 of three bytes", lambda: relayed(h.DISCOVER, 17, [(50, b"\x0a\x44\x01")]), "bad-option", 0),
    (
        "RELEASE without ciaddr",
        lambda: relayed(h.RELEASE, 18, [(54, b"\x0a\x44\x00\x01")]),
        "malformed-release",
        0,
    ),
    (
        "RELEASE of an unknown lease",
        lambda: relayed(h.RELEASE, 19, [], ciaddr=h.ip2int("10.68.1.7")),
        "release-unknown",
        0,
    ),
    (
        "split option 12 (RFC 3396) over 255 bytes, 57 below the minimum",
        lambda: relayed(h.DISCOVER, 20, [(12, b"a" * 255), (12, b"b" * 100), (57, b"\x00\x10"), (55, h.PRL)]),
        None,
        h.OFFER,
    ),
    (
        "INFORM through the relay",
        lambda: relayed(h.INFORM, 21, [(55, h.PRL)], ciaddr=h.ip2int("10.68.1.7")),
        None,
        h.ACK,
    ),
]


@pytest.mark.parametrize(("name", "make", "reason", "reply_type"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_bad_packet_has_its_outcome(
    v4_fuzz_server: Any,
    relay_sock: socket.socket,
    name: str,
    make: Callable[[], bytes],
    reason: str | None,
    reply_type: int,
) -> None:
    server = v4_fuzz_server
    packet = make()
    xid = int.from_bytes(packet[4:8], "big") if len(packet) >= 8 else 0
    before = server.stats()
    if reason is None:
        reply = h.exchange(relay_sock, packet, SERVER, xid, wanted=(reply_type,), tries=2)
        assert reply is not None, server.log()[-2000:]
        assert reply.type == reply_type
        if name.startswith("overload loop"):
            assert h.ip2int("10.68.1.0") <= reply.yiaddr <= h.ip2int("10.68.255.254")
        return
    relay_sock.sendto(packet, SERVER)
    assert wait_for(lambda: server.stats()["drops"].get(reason, 0) > before["drops"].get(reason, 0), 10), (
        server.stats(),
        server.log()[-2000:],
    )
    after = server.stats()
    assert handled(after) == handled(before) + 1  # that drop and nothing else
    # the log line is written by the log thread after the drop is counted: wait for it
    assert wait_for(lambda: any(r.get("reason") == reason for r in server.events("drop")), 10), (
        f"drop {reason} not logged"
    )


def metrics(topo: Topology) -> dict[tuple[str, str], float]:
    """The Prometheus endpoint inside the server namespace: {(metric, label values): value}."""
    code = f"import urllib.request as u; print(u.urlopen('http://{METRICS}/metrics', timeout=10).read().decode())"
    text = topo["srv"].run([sys.executable, "-c", code], timeout=30).stdout
    out: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        m = re.match(r'^(dhcpbridge_\w+)\{family="v4",\w+="([^"]*)"\} (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def test_ten_thousand_bad_packets_are_all_accounted_for(
    v4_fuzz_lab: Topology, v4_fuzz_server: Any, relay_sock: socket.socket, link_sock: socket.socket
) -> None:
    """10,000 packets (~30 % broadcast frames on srv1's link, the rest relay-agent unicast), paced by
    the server's own counters so that no datagram is lost in a socket buffer: each one ends as a
    reply, a drop by reason or a lease event (a RELEASE/DECLINE that happened to match)."""
    server = v4_fuzz_server
    base = server.stats()
    base_events = released_or_declined(server)
    base_drop_lines = collections.Counter(r["reason"] for r in server.events("drop"))
    kinds: collections.Counter[str] = collections.Counter()
    started = time.monotonic()
    sent = 0
    packets = h.bad_packets(PACKETS, SEED, mac_prefix=b"\x02\xbe", giaddr=GIADDR, addresses=ADDRESSES)
    for bad in packets:
        if bad.broadcast:
            broadcast(link_sock, bad.data)
        else:
            relay_sock.sendto(bad.data, SERVER)
        kinds[bad.kind] += 1
        sent += 1
        if sent % 250 == 0:  # pace by the server's own progress: never overrun its socket buffer
            assert wait_for(lambda n=sent: handled(server.stats()) - handled(base) >= n - 500, 60), (
                f"server stalled after {sent} packets (seed {SEED})",
                server.alive(),
            )
        # replies to the relay address: keep our own receive buffer empty
        while select.select([relay_sock], [], [], 0)[0]:
            relay_sock.recv(4096)
    assert sent == PACKETS
    assert len(kinds) == 17 and min(kinds.values()) > 300, kinds  # every kind of mutation, many times
    assert time.monotonic() - started < 150, "sending took too long"

    def all_counted() -> bool:
        stats = server.stats()
        return handled(stats) - handled(base) + released_or_declined(server) - base_events >= PACKETS

    assert wait_for(all_counted, 60), (server.stats(), f"seed {SEED}")
    assert server.alive(), server.log()[-3000:]
    stats = server.stats()
    assert h.udp_socket_drops(v4_fuzz_lab["srv"]) == 0  # the kernel delivered every packet
    events = released_or_declined(server) - base_events
    assert handled(stats) - handled(base) + events == PACKETS, (stats, events, f"seed {SEED}")
    assert stats["errors"].get("engine", 0) == 0, server.events("engine failure")[:3]
    assert stats["errors"].get("encode", 0) == 0
    drops = collections.Counter(stats["drops"]) - collections.Counter(base["drops"])
    replies = collections.Counter(stats["sent"]) - collections.Counter(base["sent"])
    assert sum(replies.values()) > 0 and sum(drops.values()) > PACKETS // 2, (drops, replies)
    for reason in (
        "malformed:short",
        "malformed:no-cookie",
        "malformed:bad-hlen",
        "malformed:option-overrun",
    ):
        assert drops[reason] > 0, drops

    # every drop logged, by reason (debug level logs each one)
    drop_lines = collections.Counter(r["reason"] for r in server.events("drop")) - base_drop_lines
    assert drop_lines == drops, (drop_lines, drops)
    assert "Traceback" not in server.log()

    # Prometheus says the same as the control socket
    scraped = metrics(v4_fuzz_lab)
    for reason, count in stats["drops"].items():
        assert scraped[("dhcpbridge_dropped_total", reason)] == count, reason
    for kind, count in stats["sent"].items():
        assert scraped[("dhcpbridge_sent_total", kind)] == count, kind

    # and a real client still gets a lease on the other link
    with Udhcpc(v4_fuzz_lab["cli"]) as client:
        lease = client.obtain(timeout=30)
        assert lease.address is not None
        assert ipaddress.ip_address("10.67.0.100") <= lease.address.ip <= ipaddress.ip_address("10.67.0.199")
        assert lease.lease_time == 7200
        assert server.lease_by_address()[str(lease.address.ip)]["state"] == "bound"
    assert server.alive()
