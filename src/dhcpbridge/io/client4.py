"""Client-side DHCPv4 sockets for the probe: as a relay agent towards a server address, or as a
client broadcasting on an interface (root: port 68 and SO_BINDTODEVICE)."""

from __future__ import annotations

import select
import socket
import time

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


class ProbeSocket:
    """A blocking UDP socket with a receive deadline."""

    def __init__(self, bind_addr: str, bind_port: int, interface: str | None = None) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            if interface:
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode() + b"\0")
            sock.bind((bind_addr, bind_port))
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.address, self.port = sock.getsockname()

    def send(self, data: bytes, host: str, port: int) -> None:
        self.sock.sendto(data, (host, port))

    def receive(self, deadline: float) -> tuple[bytes, tuple[str, int]] | None:
        """The next datagram before ``deadline`` (time.monotonic()), or None."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                data, addr = self.sock.recvfrom(65535)
                return data, addr

    def close(self) -> None:
        self.sock.close()
