"""A non-blocking DHCPv4 UDP socket: drains datagrams with IP_PKTINFO, sends with a chosen
source address and outgoing interface (so broadcasts leave by the interface the request came in).

asyncio's datagram transports cannot return ancillary data, so the runtime registers
``fileno()`` with ``loop.add_reader`` and calls ``receive`` to drain the socket.
"""

from __future__ import annotations

import socket
import struct

from dhcpbridge.engine.records import Meta4

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Python 3.11 lacks the constant on Linux
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
_PKTINFO = struct.Struct("=I4s4s")  # struct in_pktinfo: ifindex, spec_dst, addr
_ANC_SIZE = socket.CMSG_SPACE(_PKTINFO.size)
_U32 = struct.Struct("!I")
MAX_DATAGRAM = 65535


class Udp4Socket:
    """See the module docstring."""

    def __init__(self, address: str, port: int, receive_buffer: int = 8 << 20) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
            self.receive_buffer = self._grow_buffer(sock, receive_buffer)
            sock.bind((address, port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.port = sock.getsockname()[1]
        self._names: dict[int, str] = {}

    @staticmethod
    def _grow_buffer(sock: socket.socket, size: int) -> int:
        """A big receive buffer absorbs bursts while a batch is committed (SO_RCVBUFFORCE needs root)."""
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    def fileno(self) -> int:
        return self.sock.fileno()

    def ifname(self, ifindex: int) -> str:
        name = self._names.get(ifindex)
        if name is None:
            try:
                name = socket.if_indextoname(ifindex)
            except OSError:
                name = f"if{ifindex}"
            self._names[ifindex] = name
        return name

    def receive(self, limit: int) -> list[tuple[bytes, Meta4]]:
        """Up to ``limit`` datagrams that are waiting now (never blocks)."""
        out: list[tuple[bytes, Meta4]] = []
        recvmsg = self.sock.recvmsg
        unpack = _PKTINFO.unpack_from
        for _ in range(limit):
            try:
                data, anc, _flags, addr = recvmsg(MAX_DATAGRAM, _ANC_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # e.g. ICMP errors surfaced on the socket: nothing to read for them
            ifindex = spec_dst = dst = 0
            for level, kind, cdata in anc:
                if level == socket.IPPROTO_IP and kind == IP_PKTINFO and len(cdata) >= _PKTINFO.size:
                    ifindex, spec, to = unpack(cdata)
                    spec_dst = _U32.unpack(spec)[0]
                    dst = _U32.unpack(to)[0]
            src = _U32.unpack(socket.inet_aton(addr[0]))[0]
            out.append((data, Meta4(src, addr[1], dst, spec_dst, ifindex, self.ifname(ifindex))))
        return out

    def send(self, data: bytes, ip: int, port: int, ifindex: int = 0, source: int = 0) -> None:
        """Send ``data``; with ``ifindex``/``source`` the kernel uses that interface and address."""
        dest = (socket.inet_ntoa(_U32.pack(ip)), port)
        if ifindex or source:
            anc = [(socket.IPPROTO_IP, IP_PKTINFO, _PKTINFO.pack(ifindex, _U32.pack(source), b"\0\0\0\0"))]
            self.sock.sendmsg([data], anc, 0, dest)
        else:
            self.sock.sendto(data, dest)

    def close(self) -> None:
        self.sock.close()
