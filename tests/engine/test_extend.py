"""The README's handler example, run as written against real engines of both families: it imports
only ``dhcpbridge.extend``, and its greeting option lands in DHCPv4 and DHCPv6 replies alike.
Also: ``before`` handlers run before the built-in ones of each phase, ``extra`` ones after."""

from __future__ import annotations

import ast
import ipaddress
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dhcpbridge.extend
from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.core import Outcome
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4
from dhcpbridge.engine.v6.engine import Engine6
from dhcpbridge.extend import Handler, Transaction4, Transaction6
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, MessageType6, OptionRequest

V4 = Any  # the harness class lives in conftest.py

README = Path(__file__).resolve().parents[2] / "README.md"
MAC = "02:67:00:00:00:21"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Your own handlers (v4 and v6)")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section(), re.S)


def example() -> dict[str, Any]:
    """The README's Python block, executed as a module of its own."""
    (code,) = blocks("python")
    namespace: dict[str, Any] = {"__name__": "myhandlers"}
    exec(compile(code, "README.md:myhandlers", "exec"), namespace)
    return namespace


def test_the_example_imports_only_the_public_api() -> None:
    (code,) = blocks("python")
    modules = {
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(ast.parse(code))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert {m for m in modules if m and m.startswith("dhcpbridge")} == {"dhcpbridge.extend"}
    (config,) = blocks("toml")
    handler = tomllib.loads(config)["handler"][0]
    assert handler["path"].split(":")[1] in example()
    assert set(dhcpbridge.extend.__all__) >= {"Handler", "CannotRespond", "Transaction4", "Transaction6"}


def v4_engine(v4: Callable[..., V4], *extra: Handler[Any], before: tuple[Handler[Any], ...] = ()) -> V4:
    h = v4()
    h.engine = Engine4(h.engine.env, extra, before)
    return h


def test_the_example_adds_its_option_to_a_v4_offer(v4: Callable[..., V4]) -> None:
    greet = example()["Greet"](text="hi")
    h = v4_engine(v4, greet)
    offer = h.discover(MAC)
    assert offer.options[224] == b"hi"
    assert list(offer.options)[-1] == 82 or 82 not in offer.options


def test_the_example_keeps_option_82_last(v4: Callable[..., V4]) -> None:
    h = v4_engine(v4, example()["Greet"]())
    msg = h.msg(1, MAC, giaddr="10.68.0.2", options={82: b"\x01\x03abc"})
    offer = h.reply(h.send(msg))
    assert offer.options[224] == b"hello" and list(offer.options)[-1] == 82


def test_the_example_drops_a_blocked_v4_vendor(v4: Callable[..., V4]) -> None:
    h = v4_engine(v4, example()["Greet"](block="02:67:00"))
    out = h.send(h.msg(1, MAC))
    assert out.data is None and out.drop_reason == "blocked-vendor"


V6_CONFIG = {
    "server6": {"server-duid": "ll:02:67:00:00:00:01"},
    "subnet6": [{"subnet": "fd67::/64", "pools": ["fd67::100:0/120"], "interface": "srv0"}],
}
META6 = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")


def v6_solicit(*extra: Handler[Any], before: tuple[Handler[Any], ...] = ()) -> Outcome[Transaction6]:
    cfg = loader.from_dict(V6_CONFIG)
    host = HostInfo6({"srv0": (int(ipaddress.IPv6Address("fd67::1")),)})
    built = build_engine6(cfg, MemoryStore(), host, Stats(), build_sources(cfg))
    engine = Engine6(built.env, extra, before)
    duid = Duid.ll(1, bytes.fromhex("026700000021")).raw
    msg = Message6(MessageType6.SOLICIT, 7, [ClientId(Duid(duid)), ElapsedTime(0), IANA(1)])
    return run_inline(engine.process(encode6(msg), META6, 1_800_000_000.0))


def test_the_example_adds_its_option_to_a_v6_advertise() -> None:
    out = v6_solicit(example()["Greet"](text="hi", code6=65001))
    assert out.data is not None
    reply = parse6(out.data)
    assert isinstance(reply, Message6)
    assert reply.msg_type == MessageType6.ADVERTISE and reply.raw(65001) == b"hi"


def test_the_example_drops_a_blocked_v6_vendor() -> None:
    out = v6_solicit(example()["Greet"](block="02:67:00:00"))
    assert out.data is None and out.drop_reason == "blocked-vendor"


def test_reply_options_replace_an_option_of_the_same_code(v4: Callable[..., V4]) -> None:
    class Router(Handler[Transaction4]):
        def post(self, tx: Transaction4) -> None:
            tx.reply_options[3] = bytes([10, 67, 0, 254])

    offer = v4_engine(v4, Router()).discover(MAC)
    assert offer.options[3] == bytes([10, 67, 0, 254])


class Seen(Handler[Any]):
    """Records, per phase, whether the built-in handlers of that phase had run yet."""

    def __init__(self) -> None:
        self.seen: dict[str, bool] = {}

    def pre(self, tx: Any) -> None:
        self.seen["pre"] = tx.subnet is not None  # SelectSubnet (pre) sets it

    def handle(self, tx: Any) -> None:
        self.seen["handle"] = tx.answer is not None  # AskSources (handle) sets it

    def post(self, tx: Any) -> None:
        self.seen["post"] = tx.reply is not None  # the reply is built at the latest in post


@pytest.mark.parametrize("family", [4, 6])
def test_before_handlers_run_before_the_builtins_and_extra_after(family: int, v4: Callable[..., V4]) -> None:
    first, last = Seen(), Seen()
    if family == 4:
        h = v4_engine(v4, last, before=(first,))
        assert h.discover(MAC).msg_type == 2
    else:
        assert v6_solicit(last, before=(first,)).data is not None
    assert first.seen == {"pre": False, "handle": False, "post": family == 4}  # v4 builds in handle
    assert last.seen == {"pre": True, "handle": True, "post": True}


def test_v6_reply_options_replace_an_option_of_the_same_code() -> None:
    class Dns(Handler[Transaction6]):
        def post(self, tx: Transaction6) -> None:
            tx.reply_options[23] = ipaddress.IPv6Address("fd67::53").packed

    cfg = dict(V6_CONFIG, subnet6=[dict(V6_CONFIG["subnet6"][0], options={"dns-servers": ["fd67::1"]})])
    host = HostInfo6({"srv0": (int(ipaddress.IPv6Address("fd67::1")),)})
    built = build_engine6(
        loader.from_dict(cfg), MemoryStore(), host, Stats(), build_sources(loader.from_dict(cfg))
    )
    engine = Engine6(built.env, [Dns()])
    duid = Duid.ll(1, bytes.fromhex("026700000022")).raw
    opts = [ClientId(Duid(duid)), ElapsedTime(0), IANA(1), OptionRequest([23])]
    data = encode6(Message6(MessageType6.SOLICIT, 8, opts))
    out = run_inline(engine.process(data, META6, 1_800_000_000.0))
    assert out.data is not None
    reply = parse6(out.data)
    assert isinstance(reply, Message6)
    assert [o.to_wire() for o in reply.options if o.code == 23] == [ipaddress.IPv6Address("fd67::53").packed]
