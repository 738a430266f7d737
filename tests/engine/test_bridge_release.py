"""Bridge-only mode with ``store = "none"`` (issue 13 §1): a RELEASE or DECLINE has nothing to
free here, so it becomes a lease event for the HTTP source that has an ``on-commit`` hook (the
source of truth frees the address); without such a hook it is dropped with a reason that says
why (``release-not-kept`` / ``decline-not-kept``), not as an unknown lease."""

from __future__ import annotations

import ipaddress
from typing import Any

from dhcpbridge.assemble import build_engine4, build_engine6
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import open_store
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int
from dhcpbridge.wire.v6.message import Message6, encode6
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, IAAddr, ServerId

NOW = 1_800_000_000.0
SERVER = ip4_int("10.67.0.1")
CLIENT = ip4_int("10.67.0.50")


def config(hook: bool) -> dict[str, Any]:
    source: dict[str, Any] = {"type": "http", "url": "http://127.0.0.1:9/q", "name": "truth"}
    if hook:
        source["on-commit"] = "http://127.0.0.1:9/events"
    return {"leases": {"store": "none"}, "source": [source], "server6": {}}


def send4(hook: bool, kind: int, **opts: bytes) -> Any:
    cfg = from_dict(config(hook))
    host = HostInfo.build({"eth0": (SERVER,)}, networks={"eth0": ((ip4_int("10.67.0.0"), 24),)})
    engine = build_engine4(cfg, open_store("none"), host, Stats(), sources=[])
    options = {53: bytes((kind,)), 54: SERVER.to_bytes(4, "big"), **{int(k[1:]): v for k, v in opts.items()}}
    ciaddr = CLIENT if kind == 7 else 0
    msg = Message4(
        xid=3, htype=1, hlen=6, ciaddr=ciaddr, chaddr=bytes.fromhex("026700000002"), options=options
    )
    return run_inline(engine.process(encode(msg), Meta4(CLIENT, 68, SERVER, SERVER, 2, "eth0"), NOW))


def test_v4_release_goes_to_the_on_commit_source() -> None:
    out = send4(True, 7)
    assert out.drop_reason is None and out.data is None  # RELEASE has no reply
    [event] = out.effects
    assert event.event == "release" and event.lease.source == "truth"  # HttpSource.notify takes it
    assert event.lease.address == CLIENT and event.lease.state == LeaseState.RELEASED


def test_v4_decline_goes_to_the_on_commit_source() -> None:
    out = send4(True, 4, o50=CLIENT.to_bytes(4, "big"))
    [event] = out.effects
    assert event.event == "decline" and event.lease.source == "truth"
    assert event.lease.state == LeaseState.DECLINED and event.lease.expires == NOW + 86400


def test_v4_without_a_hook_the_drop_says_why() -> None:
    assert send4(False, 7).drop_reason == "release-not-kept"
    assert send4(False, 4, o50=CLIENT.to_bytes(4, "big")).drop_reason == "decline-not-kept"


def test_v6_release_goes_to_the_on_commit_source() -> None:
    cfg = from_dict(config(True))
    srv = int(ipaddress.IPv6Address("fd67::1"))
    engine = build_engine6(cfg, open_store("none"), HostInfo6({"srv0": (srv,)}), Stats(), [])
    addr = int(ipaddress.IPv6Address("fd67::50"))
    opts = [
        ClientId(Duid(Duid.ll(1, bytes.fromhex("026700000002")).raw)),
        ServerId(Duid(engine.env.server_duid)),
        IANA(1, options=[IAAddr(ipaddress.IPv6Address(addr), 0, 0)]),
        ElapsedTime(0),
    ]
    meta = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
    out = run_inline(engine.process(encode6(Message6(8, 5, opts)), meta, NOW))
    assert out.data is not None, out.drop_reason
    [event] = out.effects
    assert event.event == "release" and event.lease.source == "truth"
    assert event.lease.address == addr and event.lease.kind == LeaseKind.NA
