"""The DHCPv4 server socket: IP_PKTINFO tells the receiving interface and addresses of each
datagram; replies are sent with a chosen source address and outgoing interface (so broadcasts
leave by the interface the request came in). Draining is ``io.udp.UdpSocket``'s.

The port is bound without SO_REUSEADDR: another process on the same address and port (a second
DHCP server) makes the bind fail instead of splitting the traffic silently. The workers of one
server share the socket their supervisor bound (``inherited``).
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from dhcpbridge.engine.records import Meta4
from dhcpbridge.io.udp import UdpSocket, bind_or_adopt

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Python 3.11 lacks the constant on Linux
_PKTINFO = struct.Struct("=I4s4s")  # struct in_pktinfo: ifindex, spec_dst, addr
_ANC_SIZE = socket.CMSG_SPACE(_PKTINFO.size)
_U32 = struct.Struct("!I")
_OPTIONS = ((socket.SOL_SOCKET, socket.SO_BROADCAST, 1), (socket.IPPROTO_IP, IP_PKTINFO, 1))


class Udp4Socket(UdpSocket[Meta4]):
    """See the module docstring."""

    def __init__(self, address: str, port: int, receive_buffer: int = 8 << 20, inherited: int = -1) -> None:
        """Bind ``address:port`` exclusively, or adopt the socket ``inherited`` (see
        ``io.udp.bind_or_adopt``)."""
        sock, self.receive_buffer = bind_or_adopt(
            socket.AF_INET, address, port, receive_buffer, inherited, _OPTIONS
        )
        super().__init__(sock, _ANC_SIZE)

    def meta(self, anc: list[tuple[int, int, bytes]], addr: Any) -> Meta4:
        ifindex = spec_dst = dst = 0
        for level, kind, cdata in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(cdata) >= _PKTINFO.size:
                ifindex, spec, to = _PKTINFO.unpack_from(cdata)
                spec_dst = _U32.unpack(spec)[0]
                dst = _U32.unpack(to)[0]
        src = _U32.unpack(socket.inet_aton(addr[0]))[0]
        return Meta4(src, addr[1], dst, spec_dst, ifindex, self.ifname(ifindex))

    def send(self, data: bytes, ip: int, port: int, ifindex: int = 0, source: int = 0) -> None:
        """Send ``data``; with ``ifindex``/``source`` the kernel uses that interface and address."""
        dest = (socket.inet_ntoa(_U32.pack(ip)), port)
        if ifindex or source:
            anc = [(socket.IPPROTO_IP, IP_PKTINFO, _PKTINFO.pack(ifindex, _U32.pack(source), b"\0\0\0\0"))]
            self.sock.sendmsg([data], anc, 0, dest)
        else:
            self.sock.sendto(data, dest)
