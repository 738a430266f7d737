"""User handlers from a dotted path in the config (``[[handler]]``), for both families: the example
of docs/v6.md, taken from the document itself, adds an option to every v4 and v6 reply and can
refuse requests; hooks run after the built-in ones of each phase."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.assemble import AssemblyError, build_engine4, build_engine6, build_sources, load_handlers
from dhcpbridge.config import loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, parse
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, MessageType6, OptionRequest, VendorClass

DOC = Path(__file__).resolve().parents[2] / "docs" / "v6.md"
META6 = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
GIADDR = ip4_int("10.68.0.2")
META4 = Meta4(GIADDR, 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "srv1")


def example_module(tmp_path: Path, name: str) -> None:
    """The handler module shown in docs/v6.md, written where the config's search-path points."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    [code] = [b for b in blocks if "class AddOption" in b]
    assert len(code.strip().splitlines()) <= 25  # "a 20-line example"
    (tmp_path / f"{name}.py").write_text(code)


def config(tmp_path: Path, handlers: list[dict[str, Any]]) -> Any:
    doc = {
        "server6": {"server-duid": "ll:02:67:00:00:00:01"},
        "subnet4": [{"subnet": "10.68.0.0/16", "pools": ["10.68.1.0-10.68.1.255"]}],
        "subnet6": [{"subnet": "fd67::/64", "pools": ["fd67::100:0/120"], "interface": "srv0"}],
        "handler": handlers,
    }
    return loader.from_dict(doc).with_base_dir(tmp_path)


def engines(cfg: Any) -> tuple[Any, Any]:
    store = MemoryStore()
    sources = build_sources(cfg)
    e4 = build_engine4(cfg, store, HostInfo.build({}), Stats(), load_handlers(cfg, 4), sources)
    e6 = build_engine6(cfg, store, HostInfo6({}), Stats(), sources, load_handlers(cfg, 6))
    return e4, e6


def solicit(*extra: Any) -> bytes:
    return encode6(Message6(MessageType6.SOLICIT, 9, [ClientId(Duid.ll(1, bytes(6))), IANA(1), *extra]))


def discover() -> bytes:
    opts = {53: b"\x01", 55: bytes([1, 3])}
    return encode(Message4(xid=7, hops=1, giaddr=GIADDR, chaddr=bytes.fromhex("020000000001"), options=opts))


def test_the_documented_example_adds_an_option_to_every_reply(tmp_path: Path) -> None:
    example_module(tmp_path, "myhandlers_a")
    cfg = config(
        tmp_path,
        [{"path": "myhandlers_a:AddOption", "search-path": ".", "options": {"code": 65001, "text": "hi"}}],
    )
    e4, e6 = engines(cfg)
    out6 = run_inline(e6.process(solicit(OptionRequest([23])), META6, 1e9))
    reply6 = parse6(out6.data)
    assert isinstance(reply6, Message6) and reply6.msg_type == MessageType6.ADVERTISE
    assert reply6.raw(65001) == b"hi" and reply6.options[-1].code == 65001  # after the built-in options
    assert reply6.ia_na[0].addresses  # the built-in work is intact
    out4 = run_inline(e4.process(discover(), META4, 1e9))
    offer = parse(out4.data)
    assert offer.options[224] == b"hi" and offer.yiaddr


def test_the_example_refuses_a_vendor_and_the_drop_is_counted(tmp_path: Path) -> None:
    example_module(tmp_path, "myhandlers_b")
    cfg = config(tmp_path, [{"path": "myhandlers_b:AddOption", "search-path": ".", "family": 6}])
    _, e6 = engines(cfg)
    out = run_inline(e6.process(solicit(VendorClass(9, [b"blocked-box"])), META6, 1e9))
    assert out.data is None and out.drop_reason == "blocked-vendor"
    assert e6.env.stats.drops["blocked-vendor"] == 1
    assert e6.env.store.index.all() == []  # pre hooks run before any allocation


def test_family_4_handler_stays_out_of_v6(tmp_path: Path) -> None:
    example_module(tmp_path, "myhandlers_c")
    cfg = config(tmp_path, [{"path": "myhandlers_c:AddOption", "search-path": ".", "family": 4}])
    e4, e6 = engines(cfg)
    assert parse6(run_inline(e6.process(solicit(), META6, 1e9)).data).raw(65001) is None
    assert parse(run_inline(e4.process(discover(), META4, 1e9)).data).options[224] == b"hello"


def test_async_handlers_are_awaited_and_mark_the_engine(tmp_path: Path) -> None:
    (tmp_path / "async_handlers.py").write_text(
        "from dhcpbridge.engine.pipeline import Handler\n"
        "class Count(Handler):\n"
        "    seen = []\n"
        "    async def handle(self, tx):\n"
        "        self.seen.append(tx.msg_type)\n"
    )
    cfg = config(tmp_path, [{"path": "async_handlers:Count", "search-path": ".", "family": 6}])
    _, e6 = engines(cfg)
    assert e6.extra_async  # the runtime then uses tasks instead of inline processing
    run_inline(e6.process(solicit(), META6, 1e9))
    handler = e6.pipeline.handlers[-1]
    assert handler.seen == ["SOLICIT"]


def test_a_broken_handler_is_an_assembly_error(tmp_path: Path) -> None:
    (tmp_path / "broken_handlers.py").write_text(
        "from dhcpbridge.engine.pipeline import Handler\n"
        "class NotAHandler:\n    pass\n"
        "class Boom(Handler):\n    def __init__(self):\n        raise RuntimeError('no database')\n"
    )
    for path, why in (
        ("broken_handlers:NotAHandler", "is not a dhcpbridge.engine.pipeline.Handler subclass"),
        ("broken_handlers:Missing", "has no 'Missing'"),
        ("broken_handlers:Boom", "failed to start: RuntimeError: no database"),
    ):
        cfg = config(tmp_path, [{"path": path, "search-path": "."}])
        with pytest.raises(AssemblyError) as err:
            load_handlers(cfg, 6)
        assert err.value.errors[0].startswith("handler[0]") and why in err.value.errors[0]
