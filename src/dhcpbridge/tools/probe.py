"""What the DHCPv4 and DHCPv6 probes share: the client/relay socket, sending a message until its
reply arrives, and printing each step of the walk (a table, or one JSON line per step).

The families differ in their messages and in how a reply matches; ``probe4`` and ``probe6`` hold
that part and hand it to these functions.
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from rich.console import Console
from rich.table import Table

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)

M = TypeVar("M")


class ProbeSocket:
    """A blocking UDP socket with a receive deadline; IPv6 when ``bind_addr`` is an IPv6 address.

    With ``interface`` it is bound to that device (root): v4 broadcasts there, v6 sends its
    multicast and link-local traffic there.
    """

    def __init__(self, bind_addr: str, bind_port: int, interface: str | None = None) -> None:
        self.v6 = ":" in bind_addr
        self.ifindex = 0
        sock = socket.socket(socket.AF_INET6 if self.v6 else socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if not self.v6:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            if interface:
                sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode() + b"\0")
                if self.v6:
                    self.ifindex = socket.if_nametoindex(interface)
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.ifindex)
            if self.v6:
                sock.bind((bind_addr, bind_port, 0, self.ifindex if bind_addr.startswith("fe80") else 0))
            else:
                sock.bind((bind_addr, bind_port))
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.address: str = sock.getsockname()[0]
        self.port: int = sock.getsockname()[1]

    def send(self, data: bytes, host: str, port: int) -> None:
        if self.v6:
            scope = self.ifindex if host.lower().startswith(("fe80", "ff02")) else 0
            self.sock.sendto(data, (host, port, 0, scope))
        else:
            self.sock.sendto(data, (host, port))

    def receive(self, deadline: float) -> bytes | None:
        """The next datagram before ``deadline`` (time.monotonic()), or None."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.sock], [], [], left)
            if ready:
                return self.sock.recvfrom(65535)[0]

    def close(self) -> None:
        self.sock.close()


def is_root() -> bool:
    return os.geteuid() == 0


def source_for(host: str) -> str:
    """The local address the kernel would use towards ``host`` (IPv4 or IPv6)."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((host, 9))
        return str(s.getsockname()[0]).split("%")[0]
    finally:
        s.close()


def relay_socket(address: str, server_port: int, source_port: int | None = None) -> ProbeSocket:
    """A relay agent's socket on ``address``: the server port as root, else (or when it is taken)
    an ephemeral one, for which the probe adds the RFC 8357 relay source port. An explicit
    ``source_port`` is used as given."""
    port = source_port if source_port is not None else (server_port if is_root() else 0)
    try:
        return ProbeSocket(address, port)
    except OSError:
        if source_port is not None:
            raise
        return ProbeSocket(address, 0)


def check_target(interface: str | None, server: str | None) -> None:
    if bool(interface) == bool(server):
        raise ValueError("give exactly one of --interface IF or --server ADDR[:PORT]")


@dataclass
class Exchange(Generic[M]):
    """One message sent and the reply that matched it (None: no reply, or none expected)."""

    sent: M
    reply: M | None
    elapsed_ms: float
    relay_reply: Any = None  # v6: the RELAY-REPL around the reply, when there was one


def exchange(
    sock: ProbeSocket,
    sent: M,
    data: bytes,
    target: tuple[str, int],
    *,
    timeout: float,
    retries: int,
    match: Callable[[bytes], tuple[M, Any] | None] | None,
) -> Exchange[M]:
    """Send ``data`` (up to ``retries`` more times) until ``match`` accepts a datagram as the reply
    (it returns the reply and what wrapped it, or None); without ``match`` no reply is awaited."""
    start = time.monotonic()
    for _ in range(retries + 1):
        sock.send(data, *target)
        if match is None:
            return Exchange(sent, None, 0.0)
        deadline = time.monotonic() + timeout
        while (got := sock.receive(deadline)) is not None:
            found = match(got)
            if found is not None:
                return Exchange(sent, found[0], (time.monotonic() - start) * 1000, found[1])
    return Exchange(sent, None, (time.monotonic() - start) * 1000)


def table(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """Field/value rows as a titled table; values that are not text are shown as JSON."""
    out = Table(title=title, show_header=False, title_justify="left")
    out.add_column("field", style="cyan")
    out.add_column("value")
    for key, value in rows:
        out.add_row(key, value if isinstance(value, str) else json.dumps(value))
    return out


class Steps(Generic[M]):
    """Prints each step of a walk: its reply as a table (or a JSON line), or that none came."""

    def __init__(
        self,
        *,
        as_json: bool,
        describe: Callable[[M], dict[str, Any]],
        render: Callable[[M, str], Table],
    ) -> None:
        self.as_json = as_json
        self.describe = describe
        self.render = render
        self.out = Console()
        self.err = Console(stderr=True)

    def show(self, label: str, ex: Exchange[M]) -> M | None:
        """Print the step; the reply, or None when there was none."""
        if self.as_json:
            print(json.dumps({"step": label, "reply": self.describe(ex.reply) if ex.reply else None}))
        elif ex.reply is None:
            self.err.print(f"[red]{label}: no reply[/red]")
        else:
            self.out.print(self.render(ex.reply, f"{label} ({ex.elapsed_ms:.1f} ms)"))
        return ex.reply

    def note(self, text: str) -> None:
        if not self.as_json:
            self.out.print(text)
