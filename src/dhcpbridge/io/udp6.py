"""The DHCPv6 UDP socket: port 547 on ``[::]``, joined to All_DHCP_Relay_Agents_and_Servers
(ff02::1:2) and All_DHCP_Servers (ff05::1:3) on each served interface (none in relay-only mode), IPV6_RECVPKTINFO for the
receiving interface and destination; drains datagrams without blocking and sends to a chosen
address, port and scope (a client's link-local address needs the interface it came from).

Also reads what DHCPv6 needs to know about the host's interfaces (``host_info6``). Draining is
``io.udp.UdpSocket``'s.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import psutil

from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.io.udp import UdpSocket, bind_or_adopt

ALL_RELAYS_AND_SERVERS = "ff02::1:2"
ALL_SERVERS = "ff05::1:3"
IPV6_RECVPKTINFO = getattr(socket, "IPV6_RECVPKTINFO", 49)
IPV6_PKTINFO = getattr(socket, "IPV6_PKTINFO", 50)
_PKTINFO6 = struct.Struct("=16sI")  # struct in6_pktinfo: address, ifindex
_PKTINFO6_SIZE = _PKTINFO6.size
_ANC_SIZE = socket.CMSG_SPACE(_PKTINFO6_SIZE)
_IPPROTO_IPV6 = socket.IPPROTO_IPV6
_MREQ = struct.Struct("=16sI")  # struct ipv6_mreq: group, ifindex
_NO_DST = bytes(16)
_OPTIONS = (
    (_IPPROTO_IPV6, socket.IPV6_V6ONLY, 1),
    (_IPPROTO_IPV6, IPV6_RECVPKTINFO, 1),
    (_IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0),
)


class Udp6Socket(UdpSocket[Meta6]):
    """See the module docstring. ``interfaces`` empty: join the groups on every interface that can."""

    def __init__(
        self,
        address: str,
        port: int,
        interfaces: list[str],
        receive_buffer: int = 8 << 20,
        inherited: int = -1,
        multicast: bool = True,
    ) -> None:
        """Bind exclusively (no SO_REUSEADDR, see ``io.udp4``), or adopt the bound (and joined)
        socket ``inherited`` of a ``[server] workers`` supervisor. ``multicast`` False
        (``[server6] multicast = false``, relay-only): join no group, unicast / relayed only."""
        self.not_joined: dict[str, str] = {}
        self._link_locals: dict[str, tuple[bytes, int]] = {}  # name -> (link-local, index)
        sock, self.receive_buffer = bind_or_adopt(
            socket.AF_INET6, address, port, receive_buffer, inherited, _OPTIONS
        )
        if inherited >= 0:
            # the supervisor joined the groups (none when relay-only)
            self.joined: list[str] = list(interfaces) if multicast else []
        else:
            try:
                self.joined = self._join(sock, interfaces) if multicast else []
            except OSError:
                sock.close()
                raise
        super().__init__(sock, _ANC_SIZE)

    def _join(self, sock: socket.socket, interfaces: list[str]) -> list[str]:
        """Join the DHCPv6 groups on each interface; where that fails (``lo`` has no multicast)
        the interface still gets relayed (unicast) traffic, and ``not_joined`` says so."""
        names = interfaces or [name for _, name in socket.if_nameindex() if name != "lo"]
        joined = []
        for name in names:
            try:
                index = socket.if_nametoindex(name)
                for group in (ALL_RELAYS_AND_SERVERS, ALL_SERVERS):
                    mreq = _MREQ.pack(socket.inet_pton(socket.AF_INET6, group), index)
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
            except OSError as exc:
                if interfaces:
                    self.not_joined[name] = exc.strerror or str(exc)
                continue
            joined.append(name)
        return joined

    def meta(self, anc: list[tuple[int, int, bytes]], addr: Any) -> Meta6:
        dst = _NO_DST
        ifindex = addr[3]
        for level, kind, cdata in anc:
            if kind == IPV6_PKTINFO and level == _IPPROTO_IPV6 and len(cdata) >= _PKTINFO6_SIZE:
                dst, ifindex = _PKTINFO6.unpack_from(cdata)
        name = self._names.get(ifindex) or self.ifname(ifindex)
        return Meta6(addr[0].partition("%")[0], addr[1], dst, ifindex, name)

    def send(self, data: bytes, dest: tuple[str, int, int, int]) -> None:
        """Send ``data`` to (address, port, flowinfo, scope id)."""
        self.sock.sendto(data, dest)

    def send_from_link_local(self, data: bytes, dest: str, port: int, ifname: str) -> bool:
        """Send ``data`` to ``dest`` out of ``ifname`` from that interface's link-local address
        (IPV6_PKTINFO), as a client on the link expects a RECONFIGURE; False when it has none.
        The address and index are kept per interface: looked up (psutil) on the first send there,
        and again when the kept ones no longer work (the interface was renumbered or recreated)."""
        for attempt in range(2):
            kept = self._link_locals.get(ifname)
            if kept is None:
                src = link_local(ifname)
                if src is None:
                    return False
                kept = self._link_locals[ifname] = (
                    socket.inet_pton(socket.AF_INET6, src),
                    socket.if_nametoindex(ifname),
                )
            info = _PKTINFO6.pack(kept[0], kept[1])
            try:
                self.sock.sendmsg([data], [(_IPPROTO_IPV6, IPV6_PKTINFO, info)], 0, (dest, port, 0, 0))
                return True
            except OSError:
                del self._link_locals[ifname]
                if attempt:
                    raise
        return False


def link_local(ifname: str) -> str | None:
    """The first link-local IPv6 address of ``ifname`` (psutil), without its zone; None if none."""
    for a in psutil.net_if_addrs().get(ifname, ()):
        if a.family == socket.AF_INET6 and a.address.lower().startswith("fe80:"):
            return a.address.partition("%")[0]
    return None


def host_info6(served: list[str]) -> HostInfo6:
    """Global IPv6 addresses and MACs of the host's interfaces (psutil), and the served ones."""
    addresses: dict[str, tuple[int, ...]] = {}
    macs: dict[str, bytes] = {}
    networks: dict[str, tuple[tuple[int, int], ...]] = {}
    af_link = getattr(psutil, "AF_LINK", getattr(socket, "AF_PACKET", 17))
    for name, addrs in psutil.net_if_addrs().items():
        v6: list[int] = []
        for a in addrs:
            if a.family == socket.AF_INET6 and a.address:
                value = int.from_bytes(socket.inet_pton(socket.AF_INET6, a.address.partition("%")[0]), "big")
                if value >> 118 != 0x3FA and value != 1:  # neither link-local nor ::1
                    v6.append(value)
                    length = _prefixlen6(a.netmask)
                    net = value >> (128 - length) << (128 - length)
                    networks[name] = (*networks.get(name, ()), (net, length))
            elif a.family == af_link and a.address:
                try:
                    macs[name] = bytes.fromhex(a.address.replace(":", "").replace("-", ""))
                except ValueError:
                    pass
        addresses[name] = tuple(v6)
    return HostInfo6(addresses, frozenset(served), macs, networks)


def _prefixlen6(netmask: str | None) -> int:
    """The prefix length of a psutil IPv6 netmask (``ffff:ffff:ffff:ffff::``); 128 when absent."""
    if not netmask:
        return 128
    try:
        mask = int.from_bytes(socket.inet_pton(socket.AF_INET6, netmask), "big")
    except OSError:
        return 128
    return 128 - ((~mask) & ((1 << 128) - 1)).bit_length()
