"""Unicast replies to DHCPv4 clients that have no address yet, as link-layer frames (AF_PACKET).

RFC 2131 §4.1: when neither giaddr, ciaddr nor the broadcast bit is set, the reply goes to the
client's hardware address and yiaddr. A plain ``sendto(yiaddr)`` would stall on ARP for an
address nobody owns yet, so the frame is built here: IPv4 + UDP headers with real checksums, sent
through a cooked (SOCK_DGRAM) packet socket that adds the Ethernet header for the given MAC.
The socket is opened with protocol 0: it only sends (the EtherType of each frame is named per
``sendto``), so the kernel never queues it a copy of the host's IPv4 traffic that nobody reads.
Needs CAP_NET_RAW; ``RawSender.open`` returns None without it and the server broadcasts instead.
"""

from __future__ import annotations

import socket
import struct

ETH_P_IP = 0x0800
_IP = struct.Struct("!BBHHHBBH4s4s")
_UDP = struct.Struct("!HHHH")


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_ipv4_udp(src: int, dst: int, sport: int, dport: int, payload: bytes, ident: int = 0) -> bytes:
    """An IPv4 packet carrying one UDP datagram, both checksums filled in."""
    src_b, dst_b = src.to_bytes(4, "big"), dst.to_bytes(4, "big")
    udp_len = 8 + len(payload)
    pseudo = src_b + dst_b + struct.pack("!BBH", 0, socket.IPPROTO_UDP, udp_len)
    udp_sum = checksum(pseudo + _UDP.pack(sport, dport, udp_len, 0) + payload) or 0xFFFF
    udp = _UDP.pack(sport, dport, udp_len, udp_sum)
    header = _IP.pack(0x45, 0x10, 20 + udp_len, ident & 0xFFFF, 0, 64, socket.IPPROTO_UDP, 0, src_b, dst_b)
    header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
    return header + udp + payload


class RawSender:
    """One packet socket for every interface (the interface is named per send)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._ident = 0

    @classmethod
    def open(cls) -> RawSender | None:
        try:
            # protocol 0: send-only, receives nothing (ETH_P_IP would get a copy of every IPv4 frame)
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, 0)
        except (OSError, AttributeError):
            return None
        sock.setblocking(False)
        return cls(sock)

    def send(
        self, ifname: str, mac: bytes, src: int, dst: int, sport: int, dport: int, payload: bytes
    ) -> None:
        self._ident = (self._ident + 1) & 0xFFFF
        packet = build_ipv4_udp(src, dst, sport, dport, payload, self._ident)
        self.sock.sendto(packet, (ifname, ETH_P_IP, 0, 0, mac))

    def close(self) -> None:
        self.sock.close()
