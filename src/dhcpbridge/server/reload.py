"""What a start and a reload share: which families a config serves, building the sources and the
engines for a config, and the notes a reload logs for settings that only a restart applies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dhcpbridge.assemble import build_engine4, build_engine6, load_handlers
from dhcpbridge.assemble.bridge import serves_v6_bridge
from dhcpbridge.assemble.sources import build_keyed_sources
from dhcpbridge.config import Config
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.engine.records import HostInfo, HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4
from dhcpbridge.engine.v6.engine import Engine6


def serves_v4(cfg: Config) -> bool:
    """DHCPv4 runs unless the config is DHCPv6-only (subnet6 and no subnet4)."""
    return bool(cfg.subnet4) or not cfg.subnet6


def interfaces6(cfg: Config) -> list[str]:
    return list(cfg.server6.interfaces if cfg.server6.interfaces is not None else cfg.server.interfaces)


def build_engines(
    cfg: Config,
    store: LeaseStore,
    host: HostInfo,
    host6: HostInfo6,
    stats: dict[str, Stats],
    v4: bool,
    v6: bool,
    reuse: Mapping[str, Any] | None = None,
) -> tuple[list[tuple[str, Any]], Engine4 | None, Engine6 | None]:
    """Sources by key (built once, shared by both families; unchanged ones with a life cycle
    taken from ``reuse``, the previous config's), user handlers and the engines."""
    keyed = build_keyed_sources(cfg, reuse)
    sources = [source for _, source in keyed]
    engine4 = engine6 = None
    if v4:
        engine4 = build_engine4(cfg, store, host, stats["v4"], load_handlers(cfg, 4), sources)
    if v6:
        engine6 = build_engine6(cfg, store, host6, stats["v6"], sources, load_handlers(cfg, 6))
    return keyed, engine4, engine6


def restart_notes(old: Config, new: Config, v4: bool, v6: bool) -> list[str]:
    """Changes in ``new`` that a reload cannot apply (the server serves ``v4``/``v6`` now)."""
    notes = []
    if new.leases.store != old.leases.store:
        notes.append("leases.store changed: takes effect after a restart")
    if (new.server.address, new.server.port) != (old.server.address, old.server.port):
        notes.append("server address/port changed: takes effect after a restart")
    if (serves_v4(new), bool(new.subnet6) or serves_v6_bridge(new)) != (v4, v6):
        notes.append("DHCPv4/DHCPv6 turned on or off: takes effect after a restart")
    if (new.server6.address, new.server6.port, interfaces6(new)) != (
        old.server6.address,
        old.server6.port,
        interfaces6(old),
    ):
        notes.append("server6 address/port/interfaces changed: takes effect after a restart")
    return notes


def subnet_names(engine: Engine4 | Engine6 | None) -> list[str]:
    return [s.name for s in engine.env.subnets.subnets] if engine is not None else []
