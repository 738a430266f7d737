"""ISC dhcpd's lease file (``dhcpd.leases``, dhcpd.leases(5)), DHCPv4 ``lease`` blocks and the
DHCPv6 ``ia-na`` / ``ia-pd`` blocks of ``dhcpd -6``, read into ``Lease`` records.

The file is a journal: dhcpd appends a block at every change and rewrites the file now and
then, so an address appears many times and the last block wins. Times are UTC
(``starts 5 2026/12/05 23:50:01;``), or ``epoch N;`` with ``db-time-format local``, or
``never``. ``binding state``: active/bootp -> BOUND, abandoned -> DECLINED, released ->
RELEASED, expired/free/reset/backup -> EXPIRED (kept with the client for address affinity;
a free block without any client identity forgets the address). Client key: ``uid``
(option 61) when present, else hardware type + address, as the engine makes it. In DHCPv6
blocks the IAID is the first 4 bytes of the IA string, in the byte order of
``authoring-byte-order`` (dhcpd wrote host order).
"""

from __future__ import annotations

import calendar
import ipaddress
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.files.common import NEVER, LastWins, LeaseFileError, ReadResult, clean_hostname

_TOKEN = re.compile(r'\s+|#[^\n]*|"(?:\\.|[^"\\])*"|[{};]|[^\s{};"#]+', re.S)
_HTYPES = {"ethernet": 1, "token-ring": 6, "fddi": 8, "infiniband": 32}
_STATES = {
    "active": LeaseState.BOUND,
    "bootp": LeaseState.BOUND,
    "abandoned": LeaseState.DECLINED,
    "released": LeaseState.RELEASED,
    "expired": LeaseState.EXPIRED,
    "free": LeaseState.EXPIRED,
    "reset": LeaseState.EXPIRED,
    "backup": LeaseState.EXPIRED,
}


@dataclass
class _Node:
    """A statement (``words ;``) or a block (``words { children }``) with its first line."""

    words: list[str]
    line: int
    children: list[_Node] | None = None

    def find(self, *names: str) -> _Node | None:
        """The last child statement whose leading words are ``names``."""
        found = None
        for child in self.children or ():
            if child.words[: len(names)] == list(names):
                found = child
        return found

    def blocks(self, name: str) -> Iterator[_Node]:
        for child in self.children or ():
            if child.children is not None and child.words and child.words[0] == name:
                yield child


@dataclass
class _Parser:
    text: str
    warnings: list[str] = field(default_factory=list)
    count: int = 0  # tokens read (comments and blanks are none)

    def tokens(self) -> Iterator[tuple[str, int]]:
        line = 1
        for match in _TOKEN.finditer(self.text):
            tok = match.group()
            if not tok.isspace() and not tok.startswith("#"):
                self.count += 1
                yield tok, line
            line += tok.count("\n")

    def parse(self) -> list[_Node]:
        """The top-level statements and blocks; an unclosed block at the end (a file cut while
        dhcpd wrote it) is dropped with a warning."""
        stack: list[_Node] = [_Node([], 0, [])]
        words: list[str] = []
        start = 0
        for tok, line in self.tokens():
            if not words:
                start = line
            if tok == ";":
                if words:
                    assert stack[-1].children is not None
                    stack[-1].children.append(_Node(words, start))
                words = []
            elif tok == "{":
                node = _Node(words, start, [])
                assert stack[-1].children is not None
                stack[-1].children.append(node)
                stack.append(node)
                words = []
            elif tok == "}":
                if len(stack) == 1:
                    self.warnings.append(f"line {line}: '}}' without a block")
                else:
                    stack.pop()
                words = []
            else:
                words.append(tok)
        if len(stack) > 1:
            self.warnings.append(f"line {stack[1].line}: block not closed at the end of the file (skipped)")
            assert stack[0].children is not None
            stack[0].children.remove(stack[1])
        return stack[0].children or []


def unquote(token: str) -> bytes:
    """A dhcpd string (``"\\001\\002g"``: octal escapes, ``\\"``) as bytes."""
    body = token[1:-1] if token.startswith('"') else token
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            octal = re.match(r"[0-7]{1,3}", body[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            nxt = body[i + 1]
            out += {"n": b"\n", "t": b"\t", "r": b"\r"}.get(nxt, nxt.encode("latin-1"))
            i += 2
            continue
        out += ch.encode("latin-1", "replace")
        i += 1
    return bytes(out)


def _bytes_value(words: list[str]) -> bytes:
    """``uid "..."`` or ``uid 01:02:...`` (the two ways dhcpd writes a binary value)."""
    value = words[-1]
    if value.startswith('"'):
        return unquote(value)
    return bytes(int(p, 16) for p in value.split(":"))


def parse_time(words: list[str]) -> float:
    """``[W] YYYY/MM/DD HH:MM:SS`` (UTC), ``epoch N``, or ``never``; ValueError otherwise."""
    if words and words[0] == "never":
        return NEVER
    if words and words[0] == "epoch":
        return float(words[1])
    date, clock = words[-2], words[-1]
    stamp = time.strptime(f"{date} {clock}", "%Y/%m/%d %H:%M:%S")
    return float(calendar.timegm(stamp))


def _time(node: _Node, name: str) -> float | None:
    found = node.find(name)
    return parse_time(found.words[1:]) if found is not None else None


def _state(node: _Node) -> LeaseState:
    found = node.find("binding", "state")
    if found is not None:
        return _STATES.get(found.words[2], LeaseState.EXPIRED)
    if node.find("abandoned") is not None:  # dhcpd 2 / 3.0 wrote a bare "abandoned;"
        return LeaseState.DECLINED
    return LeaseState.BOUND


def _hostname(node: _Node) -> str:
    found = node.find("client-hostname")
    if found is not None:
        return clean_hostname(unquote(found.words[-1]).decode("utf-8", "replace"))
    found = node.find("set", "ddns-fwd-name")
    if found is not None:
        return clean_hostname(unquote(found.words[-1]).decode("utf-8", "replace"))
    return ""


def _lease4(node: _Node, table: LastWins) -> None:
    address = int(ipaddress.IPv4Address(node.words[1]))
    hwaddr = b""
    client = b""
    hardware = node.find("hardware")
    if hardware is not None:
        hwaddr = bytes(int(p, 16) for p in hardware.words[2].split(":"))
        client = bytes((_HTYPES.get(hardware.words[1], 1),)) + hwaddr
    uid = node.find("uid")
    if uid is not None:
        client = _bytes_value(uid.words)
    state = _state(node)
    if not client and state != LeaseState.DECLINED:
        table.remove(LeaseKind.V4, address)  # a free address nobody held: nothing to keep
        return
    starts = _time(node, "starts") or _time(node, "cltt") or 0.0
    table.add(_lease(node, address, client, state, starts, LeaseKind.V4, 32, hwaddr))


def _lease(
    node: _Node,
    address: int,
    client: bytes,
    state: LeaseState,
    starts: float,
    kind: LeaseKind,
    length: int,
    hwaddr: bytes = b"",
) -> Lease:
    """The record of a ``lease`` block or an ``iaaddr`` / ``iaprefix`` entry (its ``ends``, its
    hostname)."""
    ends = _time(node, "ends")
    return Lease(
        address=address,
        client=client,
        state=state,
        starts=starts,
        expires=NEVER if ends is None else ends,
        kind=kind,
        prefix_len=length,
        hwaddr=hwaddr,
        hostname=_hostname(node),
        source="dhcpd",
    )


def _ia(node: _Node, table: LastWins, little_endian: bool) -> None:
    """``ia-na`` / ``ia-pd`` ``"IAID+DUID" { cltt ...; iaaddr|iaprefix X { ... } }``."""
    raw = unquote(node.words[1])
    if len(raw) < 5:
        raise ValueError("IA identity shorter than IAID + DUID")
    iaid = raw[3::-1] if little_endian else raw[:4]
    client = iaid + raw[4:]
    cltt = _time(node, "cltt") or 0.0
    kind = LeaseKind.NA if node.words[0] == "ia-na" else LeaseKind.PD
    inner = "iaaddr" if kind == LeaseKind.NA else "iaprefix"
    for entry in node.blocks(inner):
        if kind == LeaseKind.NA:
            address, length = int(ipaddress.IPv6Address(entry.words[1])), 128
        else:
            net = ipaddress.IPv6Network(entry.words[1], strict=False)
            address, length = int(net.network_address), net.prefixlen
        table.add(_lease(entry, address, client, _state(entry), cltt, kind, length))


def read_dhcpd(text: str) -> ReadResult:
    """Every lease of a ``dhcpd.leases`` text (v4 and v6 blocks), the last block of an address
    winning; blocks that cannot be read are skipped with a warning naming their line."""
    parser = _Parser(text)
    nodes = parser.parse()
    warnings = parser.warnings
    if parser.count and not any(node.words for node in nodes):
        raise LeaseFileError("no dhcpd.leases statements found")
    table = LastWins()
    little_endian = False
    for node in nodes:
        head = node.words[0] if node.words else ""
        try:
            if head == "authoring-byte-order":
                little_endian = node.words[1:] == ["little-endian"]
            elif head == "lease" and node.children is not None:
                _lease4(node, table)
            elif head in ("ia-na", "ia-pd") and node.children is not None:
                _ia(node, table, little_endian)
        except (ValueError, IndexError) as exc:
            warnings.append(f"line {node.line}: {head} block skipped: {exc}")
    return table.result(warnings)
