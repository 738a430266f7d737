"""``dhcpbridge reconfigure`` through a running server's control socket, a unicast exchange on
loopback: a client (relayed from 127.0.0.1, RFC 8357 relay port) says it is FORCERENEW-capable
(option 145), gets its lease on 127.0.0.0/8 and the nonce in the ACK; the control command makes
the server send it a FORCERENEW (RFC 3203) at its leased address whose HMAC-MD5 verifies under
that nonce (RFC 6704). A client that did not say so is refused. The same for DHCPv6: Reconfigure
Accept, the key in the REPLY, a RECONFIGURE (RFC 8415 §18.2.11, §20.4) to the client behind the
relay it came by, in a RELAY-REPL to that relay (§19.3). dhclient supports neither well, so the client is this test."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
from pathlib import Path

import pytest

from dhcpbridge import control
from dhcpbridge.config import load
from dhcpbridge.engine.v6.links import network_of
from dhcpbridge.server import Server
from dhcpbridge.server.reconfigure import link_of
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, ip4_str, parse
from dhcpbridge.wire.v4.options import encode_suboptions
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, encode6, parse6

CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
client-port = {client_port}
interfaces = []
raw-socket = false
reconfigure-key-file = "reconfigure.key"

[leases]
store = "memory://"

[[subnet4]]
subnet = "127.0.0.0/8"
pools = ["{client}-{client}"]
relay-addresses = ["127.0.0.1"]
"""


def bound(host: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((host, 0))
    sock.setblocking(False)
    return sock


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def receive(sock: socket.socket) -> Message4:
    data, _ = await asyncio.wait_for(asyncio.get_running_loop().sock_recvfrom(sock, 4096), 5)
    return parse(data)


async def lease(relay: socket.socket, port: int, mac: bytes, options: dict[int, bytes]) -> Message4:
    """DISCOVER + REQUEST as a relay at 127.0.0.1 (replies to its own port, RFC 8357)."""
    loop = asyncio.get_running_loop()
    relayed = {82: encode_suboptions({19: b""}), **options}
    giaddr = ip4_int("127.0.0.1")
    discover = Message4(xid=1, hops=1, giaddr=giaddr, chaddr=mac, options={53: b"\x01", **relayed})
    await loop.sock_sendto(relay, encode(discover), ("127.0.0.1", port))
    offer = await receive(relay)
    req = {53: b"\x03", 50: offer.yiaddr.to_bytes(4, "big"), 54: offer.options[54], **relayed}
    await loop.sock_sendto(
        relay, encode(Message4(xid=2, hops=1, giaddr=giaddr, chaddr=mac, options=req)), ("127.0.0.1", port)
    )
    ack = await receive(relay)
    assert ack.msg_type == 5
    return ack


async def test_forcerenew_from_the_control_socket(tmp_path: Path) -> None:
    client_addr = "127.0.0.75"
    client = bound(client_addr)  # the client at its leased address, on the configured client port
    relay = bound("127.0.0.1")
    port = free_port()
    (tmp_path / "reconfigure.key").write_bytes(b"a secret of the lab, 32 bytes..")
    path = tmp_path / "dhcpbridge.toml"
    ctl = tmp_path / "control.sock"
    path.write_text(CONFIG.format(port=port, client_port=client.getsockname()[1], client=client_addr))
    config = load(path)
    server = Server(config, path, control.addons(ctl))
    await server.start()
    try:
        mac = bytes.fromhex("027500000075")
        ack = await lease(relay, port, mac, {145: b"\x01"})
        assert ip4_str(ack.yiaddr) == client_addr
        nonce = ack.options[90][12:]
        sent = await control.call(ctl, {"cmd": "reconfigure", "address": client_addr})
        assert sent["sent"] == "FORCERENEW" and sent["to"] == f"{client_addr}:{client.getsockname()[1]}"
        data, _ = await asyncio.wait_for(asyncio.get_running_loop().sock_recvfrom(client, 4096), 5)
        msg = parse(data)
        assert msg.msg_type == 9 and msg.chaddr[:6] == mac and msg.options[54] == ack.options[54]
        digest = msg.options[90][12:]
        assert msg.options[90][11] == 2  # an HMAC-MD5 digest
        assert hmac.new(nonce, data.replace(digest, bytes(16)), hashlib.md5).digest() == digest
        with pytest.raises(ValueError, match=r"no lease for 127\.0\.0\.76 is bound"):
            await control.call(ctl, {"cmd": "reconfigure", "address": "127.0.0.76"})
        # the same client named by its MAC (any separators): one FORCERENEW per bound v4 lease
        sent = await control.call(ctl, {"cmd": "reconfigure", "client": "02-75-00-00-00-75"})
        assert sent["client"] == "02-75-00-00-00-75" and sent["refused"] == []
        (one,) = sent["sent"]
        assert one["sent"] == "FORCERENEW" and one["lease"] == client_addr
        data, _ = await asyncio.wait_for(asyncio.get_running_loop().sock_recvfrom(client, 4096), 5)
        assert parse(data).msg_type == 9 and parse(data).chaddr[:6] == mac
        with pytest.raises(ValueError, match="no lease is bound to client 02:75:00:00:00:99"):
            await control.call(ctl, {"cmd": "reconfigure", "client": "02:75:00:00:00:99"})
        with pytest.raises(ValueError, match=r"a client \(a lease address, a MAC or a DUID\): .* is not hex"):
            await control.call(ctl, {"cmd": "reconfigure", "client": "client-7"})
    finally:
        client.close()
        relay.close()
        await server.stop()


async def test_a_client_that_did_not_accept_forcerenew_is_refused(tmp_path: Path) -> None:
    client_addr = "127.0.0.77"
    client = bound(client_addr)
    relay = bound("127.0.0.1")
    port = free_port()
    (tmp_path / "reconfigure.key").write_bytes(b"a secret of the lab, 32 bytes..")
    path = tmp_path / "dhcpbridge.toml"
    ctl = tmp_path / "control.sock"
    path.write_text(CONFIG.format(port=port, client_port=client.getsockname()[1], client=client_addr))
    config = load(path)
    server = Server(config, path, control.addons(ctl))
    await server.start()
    try:
        ack = await lease(relay, port, bytes.fromhex("027500000077"), {})
        assert 90 not in ack.options
        with pytest.raises(ValueError, match="did not say it accepts FORCERENEW"):
            await control.call(ctl, {"cmd": "reconfigure", "address": client_addr})
    finally:
        client.close()
        relay.close()
        await server.stop()


CONFIG6 = """\
[server]
interfaces = []
reconfigure-key-file = "reconfigure.key"

[server6]
address = "::1"
port = {port}
client-port = {client_port}

[leases]
store = "memory://"

[[subnet6]]
subnet = "::1/128"                   # the client's address is ::1 itself: the RECONFIGURE
pools = ["::1-::1"]                  # reaches it on loopback
relay-link-addresses = ["::1"]
rapid-commit = true
"""


def opt6(code: int, body: bytes) -> bytes:
    return code.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


async def test_reconfigure_from_the_control_socket(tmp_path: Path) -> None:
    client = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    client.bind(("::1", 0))
    client.setblocking(False)
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        port = s.getsockname()[1]
    (tmp_path / "reconfigure.key").write_bytes(b"a secret of the lab, 32 bytes..")
    path = tmp_path / "dhcpbridge.toml"
    ctl = tmp_path / "control.sock"
    path.write_text(CONFIG6.format(port=port, client_port=client.getsockname()[1]))
    server = Server(load(path), path, control.addons(ctl))
    await server.start()
    loop = asyncio.get_running_loop()
    try:
        duid = bytes.fromhex("00030001027500000006")
        # SOLICIT with Rapid Commit, Reconfigure Accept and an IA_NA, relayed from ::1 (RFC 8357 port)
        solicit = b"\x01\x00\x00\x01" + opt6(1, duid) + opt6(3, bytes(12)) + opt6(14, b"") + opt6(20, b"")
        forw = (
            b"\x0c\x00"
            + socket.inet_pton(socket.AF_INET6, "::1")
            + socket.inet_pton(socket.AF_INET6, "fe80::1")
        )
        forw += opt6(135, b"\x00\x00") + opt6(9, solicit)
        await loop.sock_sendto(client, forw, ("::1", port))
        repl, _ = await asyncio.wait_for(loop.sock_recvfrom(client, 4096), 5)
        inner = parse6(repl)
        assert isinstance(inner, RelayMessage6) and inner.message is not None
        reply = inner.message
        auth = reply.raw(11)
        assert reply.msg_type == 7 and reply.has(20) and auth is not None
        key = auth[12:]
        sent = await control.call(ctl, {"cmd": "reconfigure", "address": "::1"})
        assert sent["sent"] == "RECONFIGURE" and sent["to"] == f"[::1]:{client.getsockname()[1]}"
        assert sent["via"] == "relay"
        # through the relay it came by (RFC 8415 §19.3): a RELAY-REPL to the relay's source port
        # (RFC 8357, its option echoed) for the client at fe80::1, the signed RECONFIGURE inside
        wrapped, _ = await asyncio.wait_for(loop.sock_recvfrom(client, 4096), 5)
        outer = parse6(wrapped)
        assert isinstance(outer, RelayMessage6) and outer.msg_type == 13 and outer.has(135)
        assert str(outer.peer_address) == "fe80::1" and str(outer.link_address) == "::1"
        msg = outer.message
        assert isinstance(msg, Message6) and msg.msg_type == 10 and msg.raw(1) == duid
        data = encode6(msg)
        assert msg.raw(19) == b"\x05"  # renew
        sig = msg.raw(11)
        assert sig is not None and sig[11] == 2
        digest = sig[12:]
        assert hmac.new(key, data.replace(digest, bytes(16)), hashlib.md5).digest() == digest
        # named by its DUID, and by the MAC inside its DUID-LL: one RECONFIGURE to the same client
        for name in ("00:03:00:01:02:75:00:00:00:06", "0275.0000.0006"):
            sent = await control.call(ctl, {"cmd": "reconfigure", "client": name})
            (one,) = sent["sent"]
            assert one["sent"] == "RECONFIGURE" and one["lease"] == "::1", sent
            data, _ = await asyncio.wait_for(loop.sock_recvfrom(client, 4096), 5)
            outer = parse6(data)
            assert isinstance(outer, RelayMessage6) and isinstance(outer.message, Message6)
            assert outer.message.msg_type == 10 and outer.message.raw(1) == duid
    finally:
        client.close()
        await server.stop()


def test_reconfigure_goes_out_of_the_link_that_holds_the_client() -> None:
    """The interface whose network holds the client's address: there the RECONFIGURE leaves from
    our link-local address (dhcpcd takes no other); a routed client has none."""
    net = int.from_bytes(socket.inet_pton(socket.AF_INET6, "fd67::"), "big")
    other = int.from_bytes(socket.inet_pton(socket.AF_INET6, "fd68::"), "big")
    networks = {"srv0": ((net, 64),), "srv1": ((other, 64), (net + (1 << 64), 64))}
    client = int.from_bytes(socket.inet_pton(socket.AF_INET6, "fd67::1:2"), "big")
    assert link_of(networks, client) == "srv0"
    assert link_of(networks, net + (1 << 64) + 5) == "srv1"
    assert link_of(networks, int.from_bytes(socket.inet_pton(socket.AF_INET6, "fd69::5"), "big")) is None


def test_network_of_is_the_one_loop_for_links_and_reconfigure() -> None:
    """``engine.v6.links.network_of``: the first network holding an address (bridge-only links
    and the RECONFIGURE's link both use it)."""
    net = int.from_bytes(socket.inet_pton(socket.AF_INET6, "fd67::"), "big")
    nets = ((net + (1 << 80), 48), (net, 64), (net, 48))
    assert network_of(nets, net + 5) == (net, 64)
    assert network_of(nets, net + (1 << 80) + 7) == (net + (1 << 80), 48)
    assert network_of(nets, 5) is None and network_of((), net) is None
