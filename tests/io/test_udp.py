"""The server sockets on loopback: the shared receive loop drains without blocking and reports
where each datagram came from and arrived (IP_PKTINFO / IPV6_PKTINFO)."""

from __future__ import annotations

import socket
import time

import pytest

from dhcpbridge.io.udp import UdpSocket, grow_buffer
from dhcpbridge.io.udp4 import Udp4Socket
from dhcpbridge.io.udp6 import Udp6Socket

LOOPBACK = 0x7F000001


def wait_readable(sock: UdpSocket[object], count: int) -> list[tuple[bytes, object]]:
    got: list[tuple[bytes, object]] = []
    deadline = time.monotonic() + 2.0
    while len(got) < count and time.monotonic() < deadline:
        got += sock.receive(16)
        time.sleep(0.001)
    return got


def test_udp4_receive_drains_with_pktinfo() -> None:
    server = Udp4Socket("127.0.0.1", 0, 1 << 16)
    try:
        assert server.receive(8) == []  # nothing waiting: returns at once
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.bind(("127.0.0.1", 0))
            for i in range(3):
                client.sendto(b"dhcp%d" % i, ("127.0.0.1", server.port))
            got = wait_readable(server, 3)
            assert [data for data, _ in got] == [b"dhcp0", b"dhcp1", b"dhcp2"]
            meta = got[0][1]
            assert meta.src_ip == LOOPBACK and meta.src_port == client.getsockname()[1]  # type: ignore[attr-defined]
            assert meta.dst_ip == LOOPBACK and meta.local_ip == LOOPBACK  # type: ignore[attr-defined]
            assert meta.ifname == "lo" and meta.ifindex == socket.if_nametoindex("lo")  # type: ignore[attr-defined]
    finally:
        server.close()


def test_udp4_receive_respects_the_limit() -> None:
    server = Udp4Socket("127.0.0.1", 0, 1 << 16)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for i in range(5):
                client.sendto(b"x%d" % i, ("127.0.0.1", server.port))
            time.sleep(0.05)
            assert len(server.receive(2)) == 2
            assert len(server.receive(10)) == 3
    finally:
        server.close()


def test_udp4_send_with_source_and_interface() -> None:
    server = Udp4Socket("127.0.0.1", 0, 1 << 16)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.bind(("127.0.0.1", 0))
            client.settimeout(2.0)
            port = client.getsockname()[1]
            server.send(b"plain", LOOPBACK, port)
            server.send(b"pinned", LOOPBACK, port, socket.if_nametoindex("lo"), LOOPBACK)
            assert client.recvfrom(100) == (b"plain", ("127.0.0.1", server.port))
            assert client.recvfrom(100) == (b"pinned", ("127.0.0.1", server.port))
    finally:
        server.close()


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_udp6_receive_drains_with_pktinfo() -> None:
    server = Udp6Socket("::1", 0, ["lo"], 1 << 16)
    try:
        assert "lo" in server.not_joined or "lo" in server.joined
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as client:
            client.bind(("::1", 0))
            client.sendto(b"solicit", ("::1", server.port))
            got = wait_readable(server, 1)
            assert [data for data, _ in got] == [b"solicit"]
            meta = got[0][1]
            assert meta.src == "::1" and meta.src_port == client.getsockname()[1]  # type: ignore[attr-defined]
            assert meta.dst == socket.inet_pton(socket.AF_INET6, "::1")  # type: ignore[attr-defined]
            assert meta.ifname == "lo"  # type: ignore[attr-defined]
            server.send(b"reply", ("::1", client.getsockname()[1], 0, 0))
            client.settimeout(2.0)
            assert client.recvfrom(100)[0] == b"reply"
    finally:
        server.close()


def test_ifname_falls_back_and_caches() -> None:
    server = Udp4Socket("127.0.0.1", 0, 1 << 16)
    try:
        assert server.ifname(socket.if_nametoindex("lo")) == "lo"
        assert server.ifname(999_999) == "if999999"
    finally:
        server.close()


def test_grow_buffer_reports_the_size() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        assert grow_buffer(s, 1 << 17) >= 1 << 16


@pytest.mark.parametrize("family", [4, 6])
def test_a_datagram_over_the_size_cap_is_dropped_unread_and_counted(family: int) -> None:
    server: UdpSocket[object] = (
        Udp4Socket("127.0.0.1", 0, 1 << 16) if family == 4 else Udp6Socket("::1", 0, ["lo"], 1 << 16)  # type: ignore[assignment]
    )
    server.max_datagram = 2048
    host = "127.0.0.1" if family == 4 else "::1"
    try:
        with socket.socket(socket.AF_INET if family == 4 else socket.AF_INET6, socket.SOCK_DGRAM) as client:
            client.sendto(b"a" * 2048, (host, server.port))  # at the cap: accepted
            client.sendto(b"b" * 2049, (host, server.port))  # one byte over: dropped
            client.sendto(b"c" * 60000, (host, server.port))  # a 60 KB datagram: dropped
            client.sendto(b"d" * 300, (host, server.port))
            time.sleep(0.05)
            got = wait_readable(server, 2)
            assert [(data[:1], len(data)) for data, _ in got] == [(b"a", 2048), (b"d", 300)]
            assert server.oversized == 2
    finally:
        server.close()
