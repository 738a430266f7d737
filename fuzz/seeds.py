"""The seed corpus: real packets from the captured vectors in ``tests/wire`` plus a few built ones.

The vectors (``tests/wire/vectors4/*.hex``, ``tests/wire/vectors6/*.hex``) are UDP payloads that
``extract_vectors.py`` took from pcapng lab captures (dhclient, udhcpc, dhcpcd, perfdhcp against
Kea, ISC dhcpd and dnsmasq); each file names its capture and frame. They are written out as
corpus files at run time, so the corpus always follows the vectors.
"""

from __future__ import annotations

import hashlib
import ipaddress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VECTORS4 = ROOT / "tests" / "wire" / "vectors4"
VECTORS6 = ROOT / "tests" / "wire" / "vectors6"


def _hex_file(path: Path) -> bytes:
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    return bytes.fromhex("".join(ln for ln in lines if ln and not ln.startswith("#")))


def vectors(directory: Path) -> list[bytes]:
    """The payloads of every ``*.hex`` vector in ``directory``, in name order."""
    return [_hex_file(p) for p in sorted(directory.glob("*.hex"))]


def _relay_chains() -> list[bytes]:
    """Built RELAY-FORW chains (1-3 layers, Interface-ID, Remote-ID, ERO) around a SOLICIT; the
    captures hold only single-layer perfdhcp relays."""
    from dhcpbridge.wire.duid import Duid
    from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6
    from dhcpbridge.wire.v6.options import (
        IANA,
        IAPD,
        ClientId,
        InterfaceId,
        OptionRequest,
        RawOption,
        RemoteId,
    )

    inner: Message6 | RelayMessage6 = Message6(
        1,
        0x1234,
        [ClientId(Duid.ll(1, bytes.fromhex("026900000002"))), IANA(1), IAPD(2), OptionRequest([23])],
    )
    out = []
    for hop in range(3):
        extra = (
            [InterfaceId(b"port-1"), RemoteId(9, b"\x0a\x0b"), RawOption(43, b"\x00\x12")] if hop == 0 else []
        )
        link = ipaddress.IPv6Address("fd69::1" if hop == 0 else "::")
        inner = RelayMessage6(12, hop, link, ipaddress.IPv6Address("fe80::1"), [*extra, RelayMsg(inner)])
        out.append(encode6(inner))
    return out


def seeds(target: str) -> list[bytes]:
    """The seed inputs of ``target`` (engine targets take a leading byte choosing the receive path)."""
    v4 = vectors(VECTORS4)
    v6 = vectors(VECTORS6)
    if target == "wire4":
        return v4
    if target == "wire6":
        return v6 + _relay_chains()
    if target == "relay6":
        return [p for p in v6 if p[:1] in (b"\x0c", b"\x0d")] + _relay_chains()
    if target == "engine4":
        return [bytes((path,)) + p for p in v4 for path in (0, 1)]
    if target == "engine6":
        return [bytes((0,)) + p for p in v6] + [bytes((1,)) + p for p in _relay_chains()]
    if target == "canary":
        return [b"canary!"]
    raise KeyError(target)


def write(target: str, directory: Path) -> int:
    """Write the seeds of ``target`` into ``directory`` (named by content hash); returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    items = seeds(target)
    for data in items:
        (directory / f"seed-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
    return len(items)
