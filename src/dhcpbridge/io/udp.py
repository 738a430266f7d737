"""What the DHCPv4 and DHCPv6 server sockets share: the receive loop that drains datagrams with
their ancillary data without blocking, interface names by index (cached), the big receive
buffer, ``fileno``/``close``, and the size cap: a datagram longer than ``max_datagram`` is
dropped before anything parses it (the kernel flags it ``MSG_TRUNC``; counted in ``oversized``,
which the server moves into its drop counters). Each family's subclass says how big its ancillary data is and turns
one datagram's ancillary data and peer address into its ``Meta4``/``Meta6`` (``meta``).

asyncio's datagram transports cannot return ancillary data, so the server registers
``fileno()`` with ``loop.add_reader`` and calls ``receive`` to drain the socket.
"""

from __future__ import annotations

import socket
from typing import Any, Final, Generic, TypeVar

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
MAX_DATAGRAM = 65535
# a plain int: ``socket.MSG_TRUNC`` is an IntFlag member, and ``int & IntFlag`` runs the enum's
# ``__and__`` in the interpreter (2.6 % of the server's CPU per DHCPv6 exchange, perf, 2026-12-08)
MSG_TRUNC: Final = int(socket.MSG_TRUNC)
MetaT = TypeVar("MetaT")


def grow_buffer(sock: socket.socket, size: int) -> int:
    """A big receive buffer absorbs bursts while a batch is committed (SO_RCVBUFFORCE needs root)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, size)
    except OSError:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))


def bind_or_adopt(
    family: int,
    address: str,
    port: int,
    receive_buffer: int,
    inherited: int,
    options: tuple[tuple[int, int, int], ...],
) -> tuple[socket.socket, int]:
    """The server's UDP socket and its receive buffer size. With ``inherited`` >= 0: the socket of
    that file descriptor, which a ``[server] workers`` supervisor bound, adopted as it is. Else a
    new socket of ``family`` with ``options`` set (level, option, value), a grown receive buffer,
    bound to ``address:port`` exclusively (no SO_REUSEADDR: a second server on the port fails
    with EADDRINUSE) and closed again if any of that fails. Non-blocking either way."""
    if inherited >= 0:
        sock = socket.socket(fileno=inherited)
        sock.setblocking(False)
        return sock, int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        for level, option, value in options:
            sock.setsockopt(level, option, value)
        size = grow_buffer(sock, receive_buffer)
        sock.bind((address, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock, size


class UdpSocket(Generic[MetaT]):
    """A bound, non-blocking UDP socket (``sock``) drained by ``receive``; see the module docstring."""

    def __init__(self, sock: socket.socket, anc_size: int) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.anc_size = anc_size
        self._names: dict[int, str] = {}
        self.max_datagram = MAX_DATAGRAM  # longer datagrams are dropped unread (``oversized``)
        self.oversized = 0

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

    def meta(self, anc: list[tuple[int, int, bytes]], addr: Any) -> MetaT:
        """What the engine needs to know of one datagram besides its bytes."""
        raise NotImplementedError

    def receive(self, limit: int) -> list[tuple[bytes, MetaT]]:
        """Up to ``limit`` datagrams that are waiting now (never blocks)."""
        out: list[tuple[bytes, MetaT]] = []
        append = out.append
        recvmsg = self.sock.recvmsg
        anc_size = self.anc_size
        size = self.max_datagram
        for _ in range(limit):
            try:
                data, anc, flags, addr = recvmsg(size, anc_size)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # e.g. ICMP errors surfaced on the socket: nothing to read for them
            if flags & MSG_TRUNC:
                self.oversized += 1
                continue
            append((data, self.meta(anc, addr)))
        return out

    def close(self) -> None:
        self.sock.close()
