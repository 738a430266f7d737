"""Where replies go: Sender4 (RFC 2131 §4.1 broadcast / relay / unicast / raw L2) and Sender6."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from dhcpbridge.engine.records import Meta4, Meta6
from dhcpbridge.server.delivery import BROADCAST, Sender4, Sender6, is_nak4
from dhcpbridge.wire.v4.options import MessageType

SERVER = 0x0A430001  # 10.67.0.1
CLIENT = 0x0A430064  # 10.67.0.100
RELAY = 0x0A440002  # 10.68.0.2
MAC = bytes.fromhex("026700000001")


class Sock4:
    port = 67

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, int, int, int, int]] = []

    def send(self, data: bytes, ip: int, port: int, ifindex: int = 0, source: int = 0) -> None:
        self.sent.append((data, ip, port, ifindex, source))


class Raw:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    def send(self, *args: Any) -> None:
        self.sent.append(args)


def outcome4(dest_ip: int, dest_port: int = 68, dest_l2: bool = False, htype: int = 1) -> Any:
    request = SimpleNamespace(htype=htype, hlen=6, chaddr=MAC + bytes(10))
    tx = SimpleNamespace(
        dest_l2=dest_l2,
        dest_ip=dest_ip,
        dest_port=dest_port,
        server_id=SERVER,
        request=request,
        reply_type=MessageType.ACK,
    )
    return SimpleNamespace(data=b"reply", tx=tx)


def meta4(local_ip: int = SERVER, ifindex: int = 2) -> Meta4:
    return Meta4(0, 68, BROADCAST, local_ip, ifindex, "eth0")


def test_broadcast_leaves_by_the_receiving_interface() -> None:
    sock = Sock4()
    Sender4(sock, None)(outcome4(BROADCAST), meta4())  # type: ignore[arg-type]
    assert sock.sent == [(b"reply", BROADCAST, 68, 2, SERVER)]


def test_relay_and_renewal_unicast_use_no_interface() -> None:
    sock = Sock4()
    send = Sender4(sock, None)  # type: ignore[arg-type]
    send(outcome4(RELAY, 67), meta4())
    send(outcome4(CLIENT), meta4())
    assert sock.sent == [(b"reply", RELAY, 67, 0, SERVER), (b"reply", CLIENT, 68, 0, SERVER)]


def test_source_is_the_server_id_when_the_request_was_broadcast_to_us() -> None:
    sock = Sock4()
    Sender4(sock, None)(outcome4(CLIENT), meta4(local_ip=BROADCAST))  # type: ignore[arg-type]
    Sender4(sock, None)(outcome4(CLIENT), meta4(local_ip=0))  # type: ignore[arg-type]
    assert [s[4] for s in sock.sent] == [SERVER, SERVER]


def test_l2_unicast_uses_the_raw_socket_when_there_is_one() -> None:
    sock, raw = Sock4(), Raw()
    Sender4(sock, raw)(outcome4(CLIENT, dest_l2=True), meta4())  # type: ignore[arg-type]
    assert sock.sent == []
    assert raw.sent == [("eth0", MAC, SERVER, CLIENT, 67, 68, b"reply")]


def test_l2_unicast_without_raw_socket_or_ethernet_broadcasts() -> None:
    sock, raw = Sock4(), Raw()
    Sender4(sock, None)(outcome4(CLIENT, dest_l2=True), meta4())  # type: ignore[arg-type]
    Sender4(sock, raw)(outcome4(CLIENT, dest_l2=True, htype=6), meta4())  # type: ignore[arg-type]
    Sender4(sock, raw)(outcome4(CLIENT, dest_l2=True), meta4(ifindex=0))  # type: ignore[arg-type]
    assert raw.sent == []
    assert sock.sent == [
        (b"reply", BROADCAST, 68, 2, SERVER),
        (b"reply", BROADCAST, 68, 2, SERVER),
        (b"reply", BROADCAST, 68, 0, SERVER),
    ]


def test_is_nak4() -> None:
    out = outcome4(CLIENT)
    assert not is_nak4(out)
    out.tx.reply_type = MessageType.NAK
    assert is_nak4(out)
    assert not is_nak4(SimpleNamespace(tx=None))


def test_sender6_sends_where_the_engine_said() -> None:
    sent: list[tuple[bytes, Any]] = []
    sock = SimpleNamespace(sock=SimpleNamespace(sendto=lambda data, dest: sent.append((data, dest))))
    send = Sender6(sock)  # type: ignore[arg-type]
    meta = Meta6("fe80::1", 546, bytes(16), 2, "eth0")
    send(SimpleNamespace(data=b"direct", dest=("fe80::1", 546, 0, 2)), meta)
    send(SimpleNamespace(data=b"relayed", dest=("2001:db8::1", 547, 0, 0)), meta)
    assert sent == [(b"direct", ("fe80::1", 546, 0, 2)), (b"relayed", ("2001:db8::1", 547, 0, 0))]
