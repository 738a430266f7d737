"""``store = "none"``: a client's RELEASE reaches the answer service's ``on-commit`` hook over
real HTTP as a ``release`` notification that follows the contract (the engine's event, handed to
the HTTP source's listener as the server does)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from dhcpbridge.assemble import build_engine4
from dhcpbridge.config.loader import from_dict
from dhcpbridge.contract.schema import validate_notification
from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import open_store
from dhcpbridge.sources.http import HttpSource
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int


def _http_tests() -> ModuleType:
    """tests/sources/test_http.py (its Service fixture; modules cannot import each other)."""
    name = "dhcpbridge_tests_sources_http"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("test_http.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


service = _http_tests().service  # the aiohttp answer service fixture

SERVER = ip4_int("10.67.0.1")
CLIENT = ip4_int("10.67.0.55")


async def test_release_is_posted_to_on_commit(service: tuple[object, str]) -> None:
    svc, base = service
    cfg = from_dict(
        {
            "leases": {"store": "none"},
            "source": [{"type": "http", "url": f"{base}/v1/question", "on-commit": f"{base}/v1/commit"}],
        }
    )
    host = HostInfo.build({"eth0": (SERVER,)}, networks={"eth0": ((ip4_int("10.67.0.0"), 24),)})
    engine = build_engine4(cfg, open_store("none"), host, Stats(), sources=[])
    [src_cfg] = cfg.source
    source = HttpSource(src_cfg, [], base_dir=Path("."))  # type: ignore[arg-type]
    engine.env.sources = SourceChain([source])
    msg = Message4(
        xid=5,
        ciaddr=CLIENT,
        chaddr=bytes.fromhex("026700000005"),
        options={53: b"\x07", 54: SERVER.to_bytes(4, "big")},
    )
    try:
        out = await engine.process(encode(msg), Meta4(CLIENT, 68, SERVER, SERVER, 2, "eth0"), 1_800_000_000.0)
        assert out.drop_reason is None
        for event in out.effects:
            source.notify(event)
        for _ in range(100):
            if svc.notifications:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.02)
    finally:
        await source.close()
    [note] = svc.notifications  # type: ignore[attr-defined]
    validate_notification(note)
    assert note["event"] == "release" and note["lease"]["client_ip"] == "10.67.0.55"
