"""Putting replies on the wire: where a v4 reply goes (RFC 2131 §4.1: broadcast, relay, unicast,
or a raw L2 frame to a client that has no address yet) and where a v6 reply goes (the client on
its link, or the outermost relay)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any, Final, Protocol

from dhcpbridge.engine.records import Meta4, Meta6
from dhcpbridge.wire.v4.options import MessageType

BROADCAST: Final = 0xFFFFFFFF


class Sock4(Protocol):
    """Where v4 replies go out (``io.udp4.Udp4Socket``; a Protocol, so tests may hand in fakes
    to this compiled module)."""

    @property
    def port(self) -> int: ...

    def send(self, data: bytes, ip: int, port: int, ifindex: int = 0, source: int = 0) -> None: ...


class Raw(Protocol):
    """Raw L2 frames to clients without an address yet (``io.rawl2.RawSender``)."""

    def send(
        self, ifname: str, mac: bytes, src: int, dst: int, sport: int, dport: int, payload: bytes
    ) -> None: ...


class Sock6(Protocol):
    """Where v6 replies go out (``io.udp6.Udp6Socket``: its ``socket.socket``)."""

    @property
    def sock(self) -> socket.socket: ...


class Sender4:
    """Puts a v4 reply on the wire the way RFC 2131 §4.1 and the engine's ``Destination`` say."""

    def __init__(self, sock: Sock4, raw: Raw | None) -> None:
        self.sock = sock
        self.raw = raw

    def __call__(self, outcome: Any, meta: Meta4) -> None:
        tx = outcome.tx
        sock = self.sock
        assert tx is not None and outcome.data is not None
        source = meta.local_ip if meta.local_ip and meta.local_ip != BROADCAST else tx.server_id
        if tx.dest_l2:
            req = tx.request
            if self.raw is not None and req.htype == 1 and req.hlen == 6 and meta.ifindex:
                self.raw.send(
                    meta.ifname,
                    req.chaddr[:6],
                    tx.server_id,
                    tx.dest_ip,
                    sock.port,
                    tx.dest_port,
                    outcome.data,
                )
                return
            sock.send(outcome.data, BROADCAST, tx.dest_port, meta.ifindex, source)
        elif tx.dest_ip == BROADCAST:
            sock.send(outcome.data, BROADCAST, tx.dest_port, meta.ifindex, source)
        else:
            sock.send(outcome.data, tx.dest_ip, tx.dest_port, 0, source)


class Sender6:
    """Puts a v6 reply on the wire where the engine said: the client's address port 546 on the
    receiving interface, or the outermost relay's address port 547."""

    def __init__(self, sock: Sock6) -> None:
        self.sendto: Callable[[bytes, Any], int] = sock.sock.sendto  # bound once: one call less per reply

    def __call__(self, outcome: Any, meta: Meta6) -> None:
        self.sendto(outcome.data, outcome.dest)  # both set when there is data


def is_nak4(outcome: Any) -> bool:
    """A v4 outcome whose reply is a DHCPNAK (logged at info level)."""
    return bool(outcome.tx is not None and outcome.tx.reply_type == MessageType.NAK)
