"""``dhcpbridge probe``: a diagnostic DHCPv4 client that walks DISCOVER -> OFFER (-> REQUEST -> ACK,
renewal, RELEASE) and shows every decoded reply.

Two ways to reach a server: as a relay agent (``--server ADDR[:PORT] --giaddr ADDR``: sends from
giaddr like a relay, hops=1, option 82 with the circuit-id/remote-id you give; when it cannot use
port 67 it adds the RFC 8357 relay-source-port sub-option so the server answers its real port), or
as a client broadcasting on an interface (``--interface IF``, root).
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from dhcpbridge.tools import probe as common
from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4 import options as options4
from dhcpbridge.wire.v4.message import BOOTREPLY, FLAG_BROADCAST, Message4, encode, ip4_int, ip4_str, parse
from dhcpbridge.wire.v4.options import MESSAGE_NAMES, MessageType, RelaySub, encode_suboptions

DEFAULT_PRL = bytes([1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 119, 121])


def parse_option_arg(text: str) -> tuple[int, bytes]:
    """``CODE=VALUE`` or ``NAME=VALUE``: typed by the registry; unknown codes take hex (``0x..``) or text."""
    key, sep, value = text.partition("=")
    if not sep:
        raise ValueError(f"{text!r} is not CODE=VALUE")
    definition = options4.lookup(key)
    if definition is None and key.strip().isdigit():
        if value.lower().startswith("0x"):
            return options4.encode_config_option(key, {"hex": value})
        return options4.encode_config_option(key, {"type": "string", "value": value})
    if definition is not None and definition.protocol:
        return definition.code, values.encode(definition.kind, value)
    return options4.encode_config_option(key, value)


def parse_mac(text: str) -> bytes:
    mac = values.parse_hex(text)
    if len(mac) != 6:
        raise ValueError(f"{text!r} is not a 6-byte MAC address")
    return mac


def random_mac() -> bytes:
    return bytes([0x02, *os.urandom(5)])


Exchange4 = common.Exchange[Message4]


@dataclass
class ProbeSettings:
    mac: bytes
    server: tuple[str, int]
    giaddr: int = 0
    hostname: str | None = None
    request_ip: int = 0
    client_id: bytes | None = None
    circuit_id: bytes | None = None
    remote_id: bytes | None = None
    extra: dict[int, bytes] = field(default_factory=dict)
    broadcast_flag: bool = False
    timeout: float = 2.0
    retries: int = 2


class Probe:
    """Builds the client's messages, sends them, and matches replies by xid and chaddr."""

    def __init__(self, settings: ProbeSettings, sock: common.ProbeSocket) -> None:
        self.settings = settings
        self.sock = sock
        self.relay_port = sock.port

    def _message(self, kind: MessageType, xid: int, opts: dict[int, bytes], ciaddr: int = 0) -> Message4:
        s = self.settings
        options: dict[int, bytes] = {53: bytes((kind,))}
        if s.client_id:
            options[61] = s.client_id
        options.update(opts)
        if kind in (MessageType.DISCOVER, MessageType.REQUEST, MessageType.INFORM):
            options[55] = DEFAULT_PRL
            options[57] = (1500).to_bytes(2, "big")
            if s.hostname:
                options[12] = s.hostname.encode()
            options.update(s.extra)
        if s.giaddr:
            subs: dict[int, bytes] = {}
            if s.circuit_id:
                subs[RelaySub.CIRCUIT_ID] = s.circuit_id
            if s.remote_id:
                subs[RelaySub.REMOTE_ID] = s.remote_id
            if self.relay_port != 67:
                subs[RelaySub.RELAY_SOURCE_PORT] = b""
            if subs:
                options[82] = encode_suboptions(subs)
        return Message4(
            xid=xid,
            hops=1 if s.giaddr else 0,
            flags=FLAG_BROADCAST if s.broadcast_flag else 0,
            ciaddr=ciaddr,
            giaddr=s.giaddr,
            chaddr=s.mac,
            options=options,
        )

    def _exchange(self, msg: Message4, expect: tuple[int, ...]) -> Exchange4:
        def match(data: bytes) -> tuple[Message4, None] | None:
            try:
                reply = parse(data)
            except FormError:
                return None
            if (
                reply.op == BOOTREPLY
                and reply.xid == msg.xid
                and reply.mac == msg.mac
                and reply.msg_type in expect
            ):
                return reply, None
            return None

        s = self.settings
        return common.exchange(
            self.sock,
            msg,
            encode(msg),
            s.server,
            timeout=s.timeout,
            retries=s.retries,
            match=match if expect else None,
        )

    def discover(self) -> Exchange4:
        opts = {50: self.settings.request_ip.to_bytes(4, "big")} if self.settings.request_ip else {}
        return self._exchange(self._message(MessageType.DISCOVER, _xid(), opts), (MessageType.OFFER,))

    def request(self, offer: Message4) -> Exchange4:
        sid = offer.options.get(54, b"")
        opts = {50: offer.yiaddr.to_bytes(4, "big"), 54: sid}
        return self._exchange(
            self._message(MessageType.REQUEST, offer.xid, opts), (MessageType.ACK, MessageType.NAK)
        )

    def renew(self, ack: Message4) -> Exchange4:
        """REQUEST with ciaddr set: RENEWING when direct; through a relay it is a REBINDING broadcast."""
        return self._exchange(
            self._message(MessageType.REQUEST, _xid(), {}, ciaddr=ack.yiaddr),
            (MessageType.ACK, MessageType.NAK),
        )

    def release(self, ack: Message4) -> Exchange4:
        sid = ack.options.get(54, b"")
        msg = self._message(MessageType.RELEASE, _xid(), {54: sid}, ciaddr=ack.yiaddr)
        return self._exchange(msg, ())


def _xid() -> int:
    return random.getrandbits(32)


def describe(msg: Message4) -> dict[str, Any]:
    """A decoded, JSON-friendly view of a message (header fields and named options)."""
    out: dict[str, Any] = {
        "type": MESSAGE_NAMES.get(msg.msg_type, "BOOTP"),
        "xid": f"{msg.xid:#010x}",
        "chaddr": msg.mac.hex(":"),
        "ciaddr": ip4_str(msg.ciaddr),
        "yiaddr": ip4_str(msg.yiaddr),
        "siaddr": ip4_str(msg.siaddr),
        "giaddr": ip4_str(msg.giaddr),
        "flags": "broadcast" if msg.flags & FLAG_BROADCAST else "unicast",
    }
    if msg.sname.strip(b"\0"):
        out["sname"] = msg.sname.rstrip(b"\0").decode("ascii", "replace")
    if msg.file.strip(b"\0"):
        out["file"] = msg.file.rstrip(b"\0").decode("ascii", "replace")
    out["options"] = {
        f"{code} {options4.option_name(code)}": options4.decode_for_display(code, value)
        for code, value in msg.options.items()
    }
    return out


def parse_server(text: str, default_port: int = 67) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, default_port
    ip4_int(host)
    return host, int(port)


def render(msg: Message4, title: str) -> Table:
    info = describe(msg)
    header = ("type", "yiaddr", "ciaddr", "siaddr", "giaddr", "chaddr", "flags", "sname", "file")
    return common.table(title, [*((k, info[k]) for k in header if k in info), *info["options"].items()])


def walk(runner: Probe, *, full: bool, renew: bool, release: bool, as_json: bool) -> bool:
    """DISCOVER (-> REQUEST -> renewal -> RELEASE), printing every reply; True when each step got
    the reply it wanted."""
    steps = common.Steps(as_json=as_json, describe=describe, render=render)
    offer = steps.show("DISCOVER -> OFFER", runner.discover())
    if offer is None:
        return False
    if not (full or renew or release):
        return True
    ack = steps.show("REQUEST -> ACK", runner.request(offer))
    if ack is None or ack.msg_type != MessageType.ACK:
        return False
    if renew:
        again = steps.show("RENEW -> ACK", runner.renew(ack))
        if again is None or again.msg_type != MessageType.ACK:
            return False
    if release:
        runner.release(ack)
        steps.note("RELEASE sent")
    return True


def main(
    *,
    interface: str | None,
    server: str | None,
    giaddr: str | None,
    mac: str | None,
    client_id: str | None,
    hostname: str | None,
    request_ip: str | None,
    circuit_id: str | None,
    remote_id: str | None,
    extra: tuple[str, ...],
    full: bool,
    renew: bool,
    release: bool,
    timeout: float,
    as_json: bool,
    **_v6_only: object,
) -> int:
    """``dhcpbridge probe``; ``ValueError`` / ``OSError`` for bad arguments (the CLI shows them).
    The v6-only options are ignored."""
    from dhcpbridge.sources.static import relay_id

    common.check_target(interface, server)
    settings = ProbeSettings(
        mac=parse_mac(mac) if mac else random_mac(),
        server=parse_server(server) if server else ("255.255.255.255", 67),
        hostname=hostname,
        request_ip=ip4_int(request_ip) if request_ip else 0,
        client_id=values.parse_hex(client_id) if client_id else None,
        circuit_id=relay_id(circuit_id) if circuit_id else None,
        remote_id=relay_id(remote_id) if remote_id else None,
        extra=dict(parse_option_arg(o) for o in extra),
        broadcast_flag=bool(interface),
        timeout=timeout,
    )
    if server:
        relay = giaddr or common.source_for(settings.server[0])
        settings.giaddr = ip4_int(relay)
        sock = common.relay_socket(relay, 67)
    else:
        sock = common.ProbeSocket("0.0.0.0", 68, interface)
    try:
        ok = walk(Probe(settings, sock), full=full, renew=renew, release=release, as_json=as_json)
    finally:
        sock.close()
    return 0 if ok else 1
