"""The raw L2 sender is send-only: opened with protocol 0, the kernel queues it no copy of the
host's IPv4 traffic (that it still delivers frames is shown by the e2e client tests, whose
OFFERs to clients without an address go through it)."""

from __future__ import annotations

import socket
import time

import pytest

from dhcpbridge.io.rawl2 import RawSender


@pytest.fixture
def raw() -> RawSender:
    sender = RawSender.open()
    if sender is None:
        pytest.skip("needs CAP_NET_RAW (AF_PACKET)")
    yield sender  # type: ignore[misc]
    sender.close()


def test_raw_socket_is_send_only_and_sees_no_ipv4_traffic(raw: RawSender) -> None:
    assert raw.sock.proto == 0
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
    ):
        rx.bind(("127.0.0.1", 0))
        for i in range(5):
            tx.sendto(b"ipv4 traffic %d" % i, rx.getsockname())
        for _ in range(5):
            rx.recv(64)
        time.sleep(0.05)
        with pytest.raises(BlockingIOError):  # ETH_P_IP queued a copy of each of these frames
            raw.sock.recv(2048, socket.MSG_DONTWAIT)
