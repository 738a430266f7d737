"""Malformed and mutated DHCPv6 packets never crash the engine: every datagram ends as a reply that
parses, or as a counted drop with a reason. Seeds are real captures (tests/wire/vectors6) and
messages built here (every message type, relay chains, IA_PD hints, static assignments)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6, parse6
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    ClientId,
    IAAddr,
    IAPrefix,
    InterfaceId,
    MessageType6,
    OptionRequest,
    RapidCommit,
    RawOption,
    RemoteId,
)

VECTORS = Path(__file__).resolve().parents[1] / "wire" / "vectors6"
SERVER_DUID = bytes.fromhex("00030001026700000001")
CONFIG: dict[str, Any] = {
    "server6": {"server-duid": "ll:02:67:00:00:00:01"},
    "subnet6": [
        {
            "subnet": "fd67::/64",
            "pools": ["fd67::100:0/120"],
            "pd-pools": [{"prefix": "fd67:1000::/52", "delegated-length": 56}],
            "interface": "srv0",
            "rapid-commit": True,
            "options": {"dns-servers": ["fd67::1"], "unicast": "fd67::1"},
        },
        {"subnet": "fd69::/64", "pools": ["fd69::100:0/124"]},
    ],
    "static6": [
        {"id": "remote-id:9:0a0b", "prefix": "2001:db8:100::/56"},
        {"id": "interface-id-str:port-1", "address": "fd69::5"},
    ],
}
METAS = [
    Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0"),
    Meta6("fd68::2", 547, ipaddress.IPv6Address("fd68::1").packed, 3, "srv1"),
    Meta6("fd67::9", 546, ipaddress.IPv6Address("fd67::1").packed, 2, "srv0"),
]


def _vectors() -> list[bytes]:
    out = []
    for path in sorted(VECTORS.glob("*.hex")):
        lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
        out.append(bytes.fromhex("".join(lines)))
    return out


def _built() -> list[bytes]:
    client = ClientId(Duid.ll(1, bytes.fromhex("026900000002")))
    na = IANA(1, 0, 0, [IAAddr(ipaddress.IPv6Address("fd67::100:3"), 0, 0)])
    pd = IAPD(2, 0, 0, [IAPrefix(0, 0, 56, ipaddress.IPv6Address("fd67:1000:0:100::"))])
    msgs = []
    for kind in (1, 3, 4, 5, 6, 8, 9, 11):
        opts = [client, na, pd, OptionRequest([23, 24])]
        if kind in (3, 5, 8, 9):
            opts.insert(1, RawOption(2, SERVER_DUID))
        if kind == 1:
            opts.append(RapidCommit())
        if kind == 11:
            opts = [client, OptionRequest([23])]
        msgs.append(Message6(kind, kind, opts))
    out = [encode6(m) for m in msgs]
    inner: Message6 | RelayMessage6 = msgs[0]
    for hop in range(3):
        extra = [InterfaceId(b"port-1"), RemoteId(9, b"\x0a\x0b")] if hop == 0 else []
        inner = RelayMessage6(
            12, hop, ipaddress.IPv6Address("fd69::1" if hop == 0 else "::"), ipaddress.IPv6Address("fe80::1"),
            [*extra, RelayMsg(inner)],
        )  # fmt: skip
        out.append(encode6(inner))
    return out


SEEDS = _vectors() + _built()
ENGINE: Any = None


def engine() -> Any:
    global ENGINE
    if ENGINE is None:
        cfg = loader.from_dict(CONFIG)
        ENGINE = build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), build_sources(cfg))
    return ENGINE


def check(data: bytes, meta: Meta6) -> None:
    out = run_inline(engine().process(data, meta, 1_800_000_000.0))
    if out.data is None:
        return  # silence is fine (a drop has a reason; an unanswerable message has none)
    reply = parse6(out.data)  # whatever we send must parse
    assert reply.msg_type in (MessageType6.ADVERTISE, MessageType6.REPLY, MessageType6.RELAY_REPL)
    assert out.dest is not None and out.dest[1] in (546, 547, meta.src_port)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete", "length"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[pos] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 8))]
        else:  # rewrite a 16-bit length-looking field
            if pos + 2 <= len(data):
                data[pos : pos + 2] = draw(st.integers(0, 0xFFFF)).to_bytes(2, "big")
    return bytes(data)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.sampled_from(METAS))
def test_mutated_packets_never_crash(data: bytes, meta: Meta6) -> None:
    check(data, meta)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(METAS))
def test_random_bytes_never_crash(data: bytes, meta: Meta6) -> None:
    check(data, meta)


def test_seeds_are_served() -> None:
    """Every message built here gets an answer (so the mutations start from real work)."""
    for data in _built():
        out = run_inline(engine().process(data, METAS[0], 1_800_000_000.0))
        assert out.data is not None, (out.drop_reason, parse6(data))


def test_deeply_nested_relays_are_refused_cleanly() -> None:
    msg: Message6 | RelayMessage6 = Message6(1, 1, [ClientId(Duid.ll(1, bytes(6))), IANA(1)])
    for hop in range(40):
        msg = RelayMessage6(
            12, hop % 256, ipaddress.IPv6Address("fd69::1"), ipaddress.IPv6Address("::"), [RelayMsg(msg)]
        )
    out = run_inline(engine().process(encode6(msg), METAS[1], 1_800_000_000.0))
    assert out.data is None and out.drop_reason == "malformed:relay-depth"
    try:
        parse6(encode6(msg))
    except FormError as exc:
        assert exc.reason == "relay-depth"
