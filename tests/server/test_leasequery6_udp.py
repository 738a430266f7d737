"""RFC 5007 leasequery through a running server on loopback: a relayed client gets an address
(the relay asks for the reply on its own port, RFC 8357), then a requester at ::1 asks by that
address with a unicast LEASEQUERY and gets the LEASEQUERY-REPLY on its own port. No real DHCPv6
leasequery client ships in Debian (nor can perfdhcp send one), so the bytes are built here."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from pathlib import Path

from dhcpbridge.config import load
from dhcpbridge.server import Server
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientData, IAAddr

CONFIG = """\
[server6]
address = "::1"
port = {port}
interfaces = []
leasequery-requesters = ["::1"]

[leases]
store = "memory://"

[[subnet6]]
subnet = "fd74::/64"
pools = ["fd74::100-fd74::1ff"]
relay-link-addresses = ["fd74::1"]
rapid-commit = true
"""

CLIENT_DUID = bytes.fromhex("00030001027400000001")
REQUESTER_DUID = bytes.fromhex("00030001027400000099")


def opt(code: int, body: bytes) -> bytes:
    return struct.pack("!HH", code, len(body)) + body


def free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        port: int = s.getsockname()[1]
        return port


async def exchange(sock: socket.socket, data: bytes, port: int) -> bytes:
    loop = asyncio.get_running_loop()
    await loop.sock_sendto(sock, data, ("::1", port))
    reply, _ = await asyncio.wait_for(loop.sock_recvfrom(sock, 65535), 5)
    return reply


async def test_leasequery_by_address_over_udp(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG.format(port=port))
    server = Server(load(path), path)
    await server.start()
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("::1", 0))
    sock.setblocking(False)
    try:
        # SOLICIT with Rapid Commit and an IA_NA, in a RELAY-FORW from ::1 with a Relay Source Port
        solicit = bytes((1,)) + b"\x00\x00\x01" + opt(1, CLIENT_DUID) + opt(3, bytes(12)) + opt(14, b"")
        forw = (
            bytes((12, 0))
            + ipaddress.IPv6Address("fd74::1").packed
            + ipaddress.IPv6Address("fe80::74:1").packed
            + opt(135, b"\x00\x00")
            + opt(9, solicit)
        )
        repl = parse6(await exchange(sock, forw, port))
        assert isinstance(repl, RelayMessage6) and repl.message is not None
        ia = repl.message.get(IANA)
        assert repl.message.msg_type == 7 and ia is not None
        addr = ia.addresses[0].address
        # LEASEQUERY by that address: query-type 1, link-address ::, an IAADDR
        query = opt(44, b"\x01" + bytes(16) + opt(5, addr.packed + bytes(8)))
        lq = bytes((14,)) + b"\x00\x00\x02" + opt(1, REQUESTER_DUID) + query
        reply = parse6(await exchange(sock, lq, port))
        assert isinstance(reply, Message6) and reply.msg_type == 15 and reply.transaction_id == 2
        assert reply.raw(1) == REQUESTER_DUID and reply.status is None
        data = reply.get(ClientData)
        assert data is not None and data.raw(1) == CLIENT_DUID
        assert [a.address for a in data.get_all(IAAddr)] == [addr]
    finally:
        sock.close()
        await server.stop()
