"""The server sockets on loopback: the shared receive loop drains without blocking and reports
where each datagram came from and arrived (IP_PKTINFO / IPV6_PKTINFO)."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any, NamedTuple

import psutil
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


class Snicaddr(NamedTuple):
    """An address as ``psutil.net_if_addrs`` lists it."""

    family: int
    address: str
    netmask: str | None
    broadcast: str | None
    ptp: str | None


class RecordingSocket(socket.socket):
    """A real socket whose ``sendmsg`` records (and can be made to fail once, as a kept source
    address that the interface no longer has does)."""

    def __init__(self) -> None:
        super().__init__(socket.AF_INET6, socket.SOCK_DGRAM)
        self.sent: list[tuple[bytes, int]] = []
        self.fail_next = False

    def sendmsg(self, buffers: Any, ancdata: Any = (), flags: int = 0, address: Any = None) -> int:
        if self.fail_next:
            self.fail_next = False
            raise OSError(99, "Cannot assign requested address")
        src, index = struct.unpack("=16sI", ancdata[0][2])
        self.sent.append((src, index))
        return len(buffers[0])


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")
def test_link_local_source_is_kept_per_interface_and_looked_up_again_when_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``send_from_link_local`` reads the interface's link-local address (psutil) on its first
    send there, not on every RECONFIGURE; when the kept one fails it looks again."""
    lookups: list[str] = []
    addr = Snicaddr(socket.AF_INET6, "fe80::67:1%lo", "ffff:ffff:ffff:ffff::", None, None)

    def net_if_addrs() -> dict[str, list[Any]]:
        lookups.append("x")
        return {"lo": [addr]}

    monkeypatch.setattr(psutil, "net_if_addrs", net_if_addrs)
    server = Udp6Socket("::1", 0, [], 1 << 16, multicast=False)
    recorder = RecordingSocket()
    real, server.sock = server.sock, recorder
    try:
        lo = socket.if_nametoindex("lo")
        assert server.send_from_link_local(b"r1", "::1", 546, "lo")
        assert server.send_from_link_local(b"r2", "::1", 546, "lo")
        assert len(lookups) == 1
        assert recorder.sent == [(socket.inet_pton(socket.AF_INET6, "fe80::67:1"), lo)] * 2
        recorder.fail_next = True
        assert server.send_from_link_local(b"r3", "::1", 546, "lo")  # failed once, looked up again
        assert len(lookups) == 2 and len(recorder.sent) == 3
        assert not server.send_from_link_local(b"r4", "::1", 546, "nosuch0")  # no link-local there
    finally:
        recorder.close()
        real.close()


def test_the_truncation_flag_is_a_plain_int() -> None:
    """``socket.MSG_TRUNC`` is an ``IntFlag``: ``flags & MSG_TRUNC`` on every datagram would run
    the enum's ``__and__`` in the interpreter (2.6 % of the CPU of a DHCPv6 exchange)."""
    from dhcpbridge.io import udp

    assert type(udp.MSG_TRUNC) is int
    assert udp.MSG_TRUNC == socket.MSG_TRUNC
