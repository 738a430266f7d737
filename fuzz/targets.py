"""The fuzz targets: one ``check(data)`` per target, each raising only on a real defect.

The rule each target enforces is the project's: wire decoders raise nothing but ``FormError`` on
bad bytes, and the engine turns any datagram into a reply that parses or a counted drop. So a
target swallows exactly ``FormError`` (for the decoders) and nothing for the engines; any other
exception (or a failed assertion about the round trip) is a crash found.

- ``wire4``: ``parse`` a DHCPv4 message; what parses re-encodes to the same message and every
  option value renders for display.
- ``wire6``: ``parse6`` a DHCPv6 message; what parses re-encodes to the same bytes' message, every
  option with a typed class decodes (or raises ``FormError``) and re-decodes the same, and the
  whole message renders as JSON.
- ``relay6``: ``parse6`` + ``unwrap_relay``; a reply wrapped back with ``wrap_relay_reply``
  encodes, parses and unwraps to the same chain.
- ``engine4`` / ``engine6``: ``Engine.process(bytes)`` over a memory store; the first input byte
  picks the receive path (direct, relayed, unicast, ...), the rest is the datagram. A reply must
  parse; a silent outcome is a counted drop (or a message that needs no answer).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.display import decode_for_display
from dhcpbridge.wire.v4.message import encode, ip4_int, parse
from dhcpbridge.wire.v6.message import (
    Message6,
    RelayMessage6,
    encode6,
    message6_to_json,
    parse6,
    reply_skeleton,
    unwrap_relay,
    wrap_relay_reply,
)
from dhcpbridge.wire.v6.options import RawOption
from dhcpbridge.wire.v6.options.base import OPTION_CLASSES

#: How many inputs one engine sees before a fresh one replaces it (keeps a long run's memory flat).
ENGINE_LIFETIME = 20_000
NOW = 1_800_000_000.0

CONFIG4: dict[str, Any] = {
    "server": {"authoritative": False},
    "leases": {"store": "memory://"},
    "subnet4": [
        {
            "subnet": "10.67.0.0/24",
            "pools": ["10.67.0.100-10.67.0.199"],
            "interface": "eth0",
            "lease-time": 3600,
            "options": {"routers": ["10.67.0.1"], "domain-name-servers": ["10.67.0.1"], "domain-name": "lab"},
        },
        {
            "subnet": "10.68.0.0/16",
            "pools": ["10.68.1.0-10.68.1.255"],
            "relay-addresses": ["10.68.0.2"],
            "options": {"routers": ["10.68.0.1"]},
        },
    ],
    "reservation": [{"mac": "02:67:00:00:00:0a", "ip": "10.67.0.10", "hostname": "printer"}],
}
CONFIG6: dict[str, Any] = {
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
SERVER4 = ip4_int("10.67.0.1")
SERVER4_1 = ip4_int("10.68.0.1")
#: Receive paths of the v4 engine: broadcast on eth0, from the configured relay, unicast from a
#: client, from an unknown "relay" on a high port, broadcast on an interface we do not know.
METAS4 = (
    Meta4(0, 68, 0xFFFFFFFF, SERVER4, 2, "eth0"),
    Meta4(ip4_int("10.68.0.2"), 67, SERVER4_1, SERVER4_1, 3, "eth1"),
    Meta4(ip4_int("10.67.0.150"), 68, SERVER4, SERVER4, 2, "eth0"),
    Meta4(ip4_int("203.0.113.9"), 4444, SERVER4, SERVER4, 2, "eth0"),
    Meta4(0, 68, 0xFFFFFFFF, 0, 9, "eth9"),
)
_FF02_1_2 = bytes.fromhex("ff020000000000000000000000010002")
#: Receive paths of the v6 engine: a client's multicast, a relay, a client's unicast, an unknown
#: interface, and a relay on a non-standard source port.
METAS6 = (
    Meta6("fe80::2", 546, _FF02_1_2, 2, "srv0"),
    Meta6("fd68::2", 547, bytes.fromhex("fd680000000000000000000000000001"), 3, "srv1"),
    Meta6("fd67::9", 546, bytes.fromhex("fd670000000000000000000000000001"), 2, "srv0"),
    Meta6("fe80::3", 546, _FF02_1_2, 9, "srv9"),
    Meta6("fd68::2", 40000, bytes.fromhex("fd680000000000000000000000000001"), 3, "srv1"),
)
SERVER_ID = RawOption(2, bytes.fromhex("00030001026700000001"))


# ---------------------------------------------------------------------------------------------
# Decoders
# ---------------------------------------------------------------------------------------------


def check_wire4(data: bytes) -> None:
    try:
        msg = parse(data)
    except FormError:
        return
    again = parse(encode(msg))
    assert again == msg, f"v4 round trip changed the message:\n{msg!r}\n{again!r}"
    for code, value in msg.options.items():
        json.dumps(decode_for_display(code, value))


#: Options holding DNS names, whose text form is lossy today: a label with a '.', whitespace or
#: bytes outside ASCII has no faithful text (found by this target; known defect, see
#: tests/wire/test_fuzz_regressions.py). For them the target checks only that re-encoding and
#: re-decoding (twice) raise nothing but ValueError: the text does not even settle after one
#: round (e.g. names with \x0c or \x04 bytes).
LOSSY_NAMES = frozenset({24, 39, 56})


def _check_options6(options: list[Any]) -> None:
    for opt in options:
        cls = OPTION_CLASSES.get(opt.code)
        if cls is None or not isinstance(opt, RawOption):
            continue
        try:
            typed = cls.from_wire(opt.data)
        except FormError:
            continue
        if opt.code in LOSSY_NAMES:
            try:
                cls.from_wire(cls.from_wire(typed.to_wire()).to_wire())
            except ValueError:  # FormError included; any other exception is still a crash
                pass
            continue
        again = cls.from_wire(typed.to_wire())
        assert again == typed, f"option {opt.code} round trip changed it: {typed!r} -> {again!r}"


def check_wire6(data: bytes) -> None:
    try:
        msg = parse6(data)
    except FormError:
        return
    again = parse6(encode6(msg))
    assert again == msg, f"v6 round trip changed the message:\n{msg!r}\n{again!r}"
    layer: Message6 | RelayMessage6 | None = msg
    while layer is not None:
        _check_options6(layer.options)
        layer = layer.message if isinstance(layer, RelayMessage6) else None
    json.dumps(message6_to_json(msg))


def check_relay6(data: bytes) -> None:
    try:
        msg = parse6(data)
        inner, chain = unwrap_relay(msg)
    except FormError:
        return
    assert all(isinstance(layer, RelayMessage6) for layer in chain)
    for layer in chain:
        layer.interface_id  # noqa: B018 (read as the engine reads it)
    reply = wrap_relay_reply(reply_skeleton(inner, 7, SERVER_ID), chain)
    back, back_chain = unwrap_relay(parse6(encode6(reply)))
    assert back.msg_type == 7 and back.transaction_id == inner.transaction_id
    assert len(back_chain) == len(chain)
    for forw, repl in zip(chain, back_chain, strict=True):
        assert repl.msg_type == 13 and repl.hop_count == forw.hop_count
        assert (repl.link_address, repl.peer_address) == (forw.link_address, forw.peer_address)
        assert repl.interface_id == forw.interface_id


# ---------------------------------------------------------------------------------------------
# Engines
# ---------------------------------------------------------------------------------------------


class _Engines:
    """The engines under test, rebuilt every ``ENGINE_LIFETIME`` inputs."""

    def __init__(self) -> None:
        self.v4: Any = None
        self.v6: Any = None
        self.uses4 = 0
        self.uses6 = 0

    def engine4(self) -> Any:
        self.uses4 += 1
        if self.v4 is None or self.uses4 % ENGINE_LIFETIME == 0:
            cfg = loader.from_dict(CONFIG4)
            host = HostInfo.build({"eth0": (SERVER4,), "eth1": (SERVER4_1,), "lo": (ip4_int("127.0.0.1"),)})
            self.v4 = build_engine4(cfg, MemoryStore(), host, Stats())
        return self.v4

    def engine6(self) -> Any:
        self.uses6 += 1
        if self.v6 is None or self.uses6 % ENGINE_LIFETIME == 0:
            cfg = loader.from_dict(CONFIG6)
            self.v6 = build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), build_sources(cfg))
        return self.v6


ENGINES = _Engines()


def check_engine4(data: bytes) -> None:
    if not data:
        return
    meta = METAS4[data[0] % len(METAS4)]
    out = run_inline(ENGINES.engine4().process(data[1:], meta, NOW))
    if out.data is None:
        assert out.drop_reason is not None or out.tx is not None
        return
    reply = parse(out.data)
    assert reply.op == 2, reply


def check_engine6(data: bytes) -> None:
    if not data:
        return
    meta = METAS6[data[0] % len(METAS6)]
    out = run_inline(ENGINES.engine6().process(data[1:], meta, NOW))
    if out.data is None:
        return
    reply = parse6(out.data)
    assert reply.msg_type in (2, 7, 13), reply
    assert out.dest is not None and out.dest[1] in (546, 547, meta.src_port), out.dest


def check_canary(data: bytes) -> None:
    """Not a target of the server: it crashes on its seed, so tests can show that the runner
    catches, saves and reports a crash (``make fuzz`` does not run it)."""
    if data.startswith(b"canary"):
        raise RuntimeError("the canary target crashes on purpose")


TARGETS: dict[str, Callable[[bytes], None]] = {
    "wire4": check_wire4,
    "wire6": check_wire6,
    "relay6": check_relay6,
    "engine4": check_engine4,
    "engine6": check_engine6,
    "canary": check_canary,
}
