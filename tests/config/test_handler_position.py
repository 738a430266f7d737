"""``[[handler]] position``: user handlers run before or after (the default) the built-in ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources, load_handlers
from dhcpbridge.assemble.handlers import handlers_before
from dhcpbridge.config import ConfigError, loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int

HANDLERS = """
from dhcpbridge.engine.pipeline import Handler

SEEN = []

class Early(Handler):
    def pre(self, tx):
        SEEN.append(("early", tx.subnet is not None))

class Late(Handler):
    def pre(self, tx):
        SEEN.append(("late", tx.subnet is not None))
"""


def config(tmp_path: Path, module: str, *positions: str | None) -> Any:
    (tmp_path / f"{module}.py").write_text(HANDLERS)
    handlers = []
    for name, position in zip(("Early", "Late"), positions, strict=False):
        spec: dict[str, Any] = {"path": f"{module}:{name}", "search-path": "."}
        if position is not None:
            spec["position"] = position
        handlers.append(spec)
    doc = {
        "subnet4": [{"subnet": "10.68.0.0/16", "pools": ["10.68.1.0-10.68.1.255"]}],
        "handler": handlers,
    }
    return loader.from_dict(doc).with_base_dir(tmp_path)


def test_position_defaults_to_after_and_is_checked(tmp_path: Path) -> None:
    cfg = config(tmp_path, "pos_default", None, "after")
    assert [h.position for h in cfg.handler] == ["after", "after"]
    with pytest.raises(ConfigError, match=r"handler\[0\]\.position"):
        loader.from_dict({"handler": [{"path": "a.b:C", "position": "middle"}]})


def test_load_handlers_picks_a_position(tmp_path: Path) -> None:
    cfg = config(tmp_path, "pos_pick", "before", "after")
    assert [type(h).__name__ for h in load_handlers(cfg, 4)] == ["Late"]  # "after": what the server passes
    assert [type(h).__name__ for h in load_handlers(cfg, 4, "before")] == ["Early"]
    assert [type(h).__name__ for h in load_handlers(cfg, 6, None)] == ["Early", "Late"]
    assert [type(h).__name__ for h in handlers_before(cfg, 4)["before"]] == ["Early"]
    assert handlers_before(config(tmp_path, "pos_none", "after"), 4) == {}  # engines need no keyword


def test_without_before_handlers_the_engines_build_as_before(tmp_path: Path) -> None:
    cfg = config(tmp_path, "pos_after", "after", "after")
    sources = build_sources(cfg)
    build_engine4(cfg, MemoryStore(), HostInfo.build({}), Stats(), load_handlers(cfg, 4), sources)
    build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), sources, load_handlers(cfg, 6))


def test_before_handlers_run_before_the_built_in_ones(tmp_path: Path) -> None:
    cfg = config(tmp_path, "pos_run", "before", "after")
    engine = build_engine4(cfg, MemoryStore(), HostInfo.build({}), Stats(), load_handlers(cfg, 4))
    discover = Message4(
        xid=1, chaddr=bytes.fromhex("026700000005"), giaddr=ip4_int("10.68.0.2"), options={53: b"\x01"}
    )
    meta = Meta4(ip4_int("10.68.0.2"), 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "eth1")
    run_inline(engine.process(encode(discover), meta, 1_800_000_000.0))
    import pos_run  # type: ignore[import-not-found]  # written by config() into tmp_path

    # the built-in pre phase chooses the subnet: the early handler runs before it, the late one after
    assert pos_run.SEEN == [("early", False), ("late", True)]
