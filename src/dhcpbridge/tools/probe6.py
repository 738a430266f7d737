"""``dhcpbridge probe -6``: a diagnostic DHCPv6 client that walks SOLICIT -> ADVERTISE (-> REQUEST ->
REPLY, RENEW, RELEASE) and shows every decoded reply, like the v4 probe.

Two ways to reach a server: as a client on an interface (``--interface IF``, root: it sends from
its link-local address port 546 to ff02::1:2), or as a relay agent (``--server ADDR[:PORT]``): each
message goes out inside RELAY-FORW (``--relays N`` nested layers, to test deep chains) with the
link-address you give (it selects the server's subnet), and the Interface-ID and Remote-ID you
give added by the relay closest to the client. Without root the relay cannot use port 547 and
adds the RFC 8357 Relay Source Port option so the server answers its real port.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from ipaddress import IPv6Address
from typing import Any

from rich.table import Table

from dhcpbridge.tools import probe as common
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import (
    Message6,
    RelayMessage6,
    RelayMsg,
    encode6,
    message6_to_json,
    parse6,
    unwrap_relay,
)
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    ClientId,
    ElapsedTime,
    IAPrefix,
    InterfaceId,
    MessageType6,
    Option6,
    OptionRequest,
    RapidCommit,
    RawOption,
    RelaySourcePort,
    RemoteId,
)

ALL_RELAYS_AND_SERVERS = "ff02::1:2"
DEFAULT_ORO = (23, 24, 31, 32, 56, 82)
IAID_NA = 1
IAID_PD = 2


@dataclass
class Probe6Settings:
    duid: Duid
    server: tuple[str, int]  # where to send: ff02::1:2 port 547, or a server as a relay
    relay: bool = False
    relays: int = 1
    link_address: str = "::"
    peer_address: str = "fe80::1"
    interface_id: bytes | None = None
    remote_id: tuple[int, bytes] | None = None
    ia_na: bool = True
    ia_pd: bool = False
    pd_length: int = 0
    rapid_commit: bool = False
    extra: list[Option6] = field(default_factory=list)
    timeout: float = 2.0
    retries: int = 2


Exchange6 = common.Exchange[Message6]  # relay_reply: the RELAY-REPL around the reply, if any


class Probe6:
    """Builds the client's messages, (wraps them as a relay,) sends them, matches replies by
    transaction id."""

    def __init__(self, settings: Probe6Settings, sock: common.ProbeSocket) -> None:
        self.settings = settings
        self.sock = sock
        self.started = time.monotonic()

    def _message(self, kind: int, ias: list[Option6], server_id: bytes | None = None) -> Message6:
        s = self.settings
        opts: list[Option6] = [ClientId(s.duid)]
        if server_id is not None:
            opts.append(RawOption(2, server_id))
        opts += ias
        if kind in (MessageType6.SOLICIT, MessageType6.REQUEST, MessageType6.RENEW, MessageType6.REBIND):
            opts.append(OptionRequest(list(DEFAULT_ORO)))
        if kind == MessageType6.INFORMATION_REQUEST:
            opts.append(OptionRequest([23, 24, 32]))
        opts.append(ElapsedTime(min(0xFFFF, int((time.monotonic() - self.started) * 100))))
        if kind == MessageType6.SOLICIT and s.rapid_commit:
            opts.append(RapidCommit())
        opts += s.extra
        return Message6(kind, random.getrandbits(24), opts)

    def _wrap(self, msg: Message6) -> Message6 | RelayMessage6:
        s = self.settings
        if not s.relay:
            return msg
        out: Message6 | RelayMessage6 = msg
        for hop in range(s.relays):
            opts: list[Option6] = []
            if hop == 0:
                if s.interface_id is not None:
                    opts.append(InterfaceId(s.interface_id))
                if s.remote_id is not None:
                    opts.append(RemoteId(*s.remote_id))
            if hop == s.relays - 1 and self.sock.port != 547:
                opts.append(RelaySourcePort(0))
            opts.append(RelayMsg(out))
            link = IPv6Address(s.link_address) if hop == 0 else IPv6Address("::")
            peer = IPv6Address(s.peer_address) if hop == 0 else IPv6Address(self.sock.address.split("%")[0])
            out = RelayMessage6(12, hop, link, peer, opts)
        return out

    def _exchange(self, msg: Message6, expect: tuple[int, ...]) -> Exchange6:
        def match(data: bytes) -> tuple[Message6, Message6 | RelayMessage6 | None] | None:
            try:
                outer = parse6(data)
                inner, _ = unwrap_relay(outer)
            except FormError:
                return None
            if inner.transaction_id == msg.transaction_id and inner.msg_type in expect:
                return inner, (outer if outer is not inner else None)
            return None

        s = self.settings
        data = encode6(self._wrap(msg))
        return common.exchange(
            self.sock, msg, data, s.server, timeout=s.timeout, retries=s.retries, match=match
        )

    def _ias(self, reply: Message6 | None = None) -> list[Option6]:
        """Fresh IAs for a Solicit, or the reply's IAs echoed (lifetimes kept) for what follows."""
        s = self.settings
        if reply is not None:
            return [opt for opt in reply.options if opt.code in (3, 25)]
        ias: list[Option6] = []
        if s.ia_na:
            ias.append(IANA(IAID_NA))
        if s.ia_pd:
            hint = [IAPrefix(0, 0, s.pd_length, IPv6Address("::"))] if s.pd_length else []
            ias.append(IAPD(IAID_PD, options=list(hint)))
        return ias

    def solicit(self) -> Exchange6:
        expect = (MessageType6.ADVERTISE, MessageType6.REPLY)
        return self._exchange(self._message(MessageType6.SOLICIT, self._ias()), expect)

    def request(self, advertise: Message6) -> Exchange6:
        sid = advertise.raw(2)
        msg = self._message(MessageType6.REQUEST, self._ias(advertise), sid)
        return self._exchange(msg, (MessageType6.REPLY,))

    def renew(self, reply: Message6) -> Exchange6:
        msg = self._message(MessageType6.RENEW, self._ias(reply), reply.raw(2))
        return self._exchange(msg, (MessageType6.REPLY,))

    def rebind(self, reply: Message6) -> Exchange6:
        return self._exchange(self._message(MessageType6.REBIND, self._ias(reply)), (MessageType6.REPLY,))

    def release(self, reply: Message6) -> Exchange6:
        msg = self._message(MessageType6.RELEASE, self._ias(reply), reply.raw(2))
        return self._exchange(msg, (MessageType6.REPLY,))

    def information_request(self) -> Exchange6:
        return self._exchange(self._message(MessageType6.INFORMATION_REQUEST, []), (MessageType6.REPLY,))


def leases_of(reply: Message6) -> dict[str, list[str]]:
    """Addresses and prefixes a reply grants (non-zero valid lifetime)."""
    out: dict[str, list[str]] = {"addresses": [], "prefixes": []}
    try:
        for ia in reply.ia_na:
            out["addresses"] += [str(a.address) for a in ia.addresses if a.valid]
        for pd in reply.ia_pd:
            out["prefixes"] += [f"{p.prefix}/{p.prefix_length}" for p in pd.prefixes if p.valid]
    except FormError:
        pass
    return out


def status_of(reply: Message6) -> str | None:
    """The top-level status name, or the first IA status, None when all is well."""
    try:
        top = reply.status
        if top is not None and top.status != 0:
            return top.name
        ias: list[IANA | IAPD] = [*reply.ia_na, *reply.ia_pd]
        for ia in ias:
            st = ia.status
            if st is not None and st.status != 0:
                return st.name
    except FormError:
        return "malformed"
    return None


def describe6(msg: Message6) -> dict[str, Any]:
    return message6_to_json(msg)


def random_duid() -> Duid:
    return Duid.ll(1, bytes([0x02, *os.urandom(5)]))


def parse_remote_id(text: str) -> tuple[int, bytes]:
    """``ENTERPRISE:VALUE``: VALUE is hex when written ``0x...``, else text."""
    ent, sep, value = text.partition(":")
    if not sep or not value:
        raise ValueError(f"{text!r} is not ENTERPRISE:VALUE (e.g. 4491:0x0a0b or 9:cust42)")
    data = bytes.fromhex(value[2:]) if value.lower().startswith("0x") else value.encode()
    return int(ent, 0), data


def parse_server6(text: str, default_port: int = 547) -> tuple[str, int]:
    """``ADDR``, ``[ADDR]:PORT``."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else default_port
    else:
        host, port = text, default_port
    IPv6Address(host.split("%")[0])
    return host, port


def link_local_of(interface: str) -> str:
    """The interface's link-local address (for binding port 546 there)."""
    with open("/proc/net/if_inet6", encoding="ascii") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 6 and parts[5] == interface and parts[0].startswith("fe80"):
                return str(IPv6Address(bytes.fromhex(parts[0])))
    raise ValueError(f"{interface} has no IPv6 link-local address")


# --- the command ------------------------------------------------------------------------------


def render(msg: Message6, title: str) -> Table:
    info = describe6(msg)
    rows: list[tuple[str, Any]] = [("type", info["type"]), ("transaction-id", info["transaction_id"])]
    granted = leases_of(msg)
    rows += [(kind, ", ".join(granted[kind])) for kind in ("addresses", "prefixes") if granted[kind]]
    status = status_of(msg)
    if status:
        rows.append(("status", status))
    rows += [(f"{opt['code']} {opt['name']}", opt["value"]) for opt in info["options"]]
    return common.table(title, rows)


def run(
    settings: Probe6Settings,
    sock: common.ProbeSocket,
    *,
    full: bool,
    renew: bool,
    rebind: bool,
    release: bool,
    info: bool,
    as_json: bool,
) -> bool:
    """Walk the exchange and print every reply; True when every step got the reply it wanted."""
    steps = common.Steps(as_json=as_json, describe=describe6, render=render)
    runner = Probe6(settings, sock)

    def fine(reply: Message6 | None) -> bool:
        return reply is not None and status_of(reply) is None

    if info:
        return steps.show("INFORMATION-REQUEST -> REPLY", runner.information_request()) is not None
    first = runner.solicit()
    committed = first.reply is not None and first.reply.msg_type == MessageType6.REPLY
    reply = steps.show("SOLICIT -> REPLY (rapid commit)" if committed else "SOLICIT -> ADVERTISE", first)
    if reply is None:
        return False
    if not (full or renew or rebind or release):
        return status_of(reply) is None
    if not committed:
        reply = steps.show("REQUEST -> REPLY", runner.request(reply))
        if reply is None or not fine(reply):
            return False
    for wanted, label, step in ((renew, "RENEW", runner.renew), (rebind, "REBIND", runner.rebind)):
        if wanted:
            reply = steps.show(f"{label} -> REPLY", step(reply))
            if reply is None or not fine(reply):
                return False
    return not release or steps.show("RELEASE -> REPLY", runner.release(reply)) is not None


def main(
    *,
    interface: str | None,
    server: str | None,
    duid: str | None,
    link_address: str | None,
    relay_address: str | None,
    relays: int,
    source_port: int | None = None,
    interface_id: str | None,
    remote_id: str | None,
    ia_na: bool,
    ia_pd: bool,
    pd_length: int,
    rapid_commit: bool,
    full: bool,
    renew: bool,
    rebind: bool,
    release: bool,
    info: bool,
    timeout: float,
    as_json: bool,
    circuit_id: str | None = None,
    **_v4_only: object,
) -> int:
    """``dhcpbridge probe -6``; ``ValueError`` / ``OSError`` for bad arguments (the CLI shows them).
    ``--circuit-id`` stands for ``--interface-id`` when that is not given; the v4-only options are
    ignored."""
    from dhcpbridge.sources.static import relay_id
    from dhcpbridge.wire.duid import parse_duid_text

    common.check_target(interface, server)
    if not 1 <= relays <= 32:
        raise ValueError("--relays must be 1..32")
    settings = Probe6Settings(
        duid=parse_duid_text(duid) if duid else random_duid(),
        server=parse_server6(server) if server else (ALL_RELAYS_AND_SERVERS, 547),
        relay=bool(server),
        relays=relays,
        interface_id=relay_id(given_id) if (given_id := interface_id or circuit_id) else None,
        remote_id=parse_remote_id(remote_id) if remote_id else None,
        ia_na=ia_na,
        ia_pd=ia_pd,
        pd_length=pd_length,
        rapid_commit=rapid_commit,
        timeout=timeout,
    )
    if server:
        source = relay_address or common.source_for(settings.server[0])
        settings.link_address = link_address or source
        mac = settings.duid.link_layer_address or b"\x02\x00\x00\x00\x00\x01"
        settings.peer_address = str(IPv6Address(b"\xfe\x80" + bytes(6) + _eui64(mac)))
        sock = common.relay_socket(source, 547, source_port)
    else:
        assert interface is not None
        sock = common.ProbeSocket(link_local_of(interface), 546, interface)
    try:
        ok = run(
            settings, sock, full=full, renew=renew, rebind=rebind, release=release, info=info, as_json=as_json
        )
    finally:
        sock.close()
    return 0 if ok else 1


def _eui64(mac: bytes) -> bytes:
    if len(mac) != 6:
        return bytes(8)
    return bytes([mac[0] ^ 0x02, *mac[1:3], 0xFF, 0xFE, *mac[3:]])
