"""Turns a validated ``Config`` into the DHCPv6 engine's parts (links, server DUID, options), the
``static6`` source, and the user handlers of both families.

Used by the runtime at start and on reload (with the same source objects as the v4 engine, so a
source with a life cycle exists once), and by ``check-config``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from dhcpbridge.assemble.errors import AssemblyError
from dhcpbridge.config.model import Config
from dhcpbridge.config.model6 import parse_range6
from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.pipeline import Handler, load_handler
from dhcpbridge.engine.ports import LeaseStore, Source
from dhcpbridge.engine.records import HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v6.engine import Engine6
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.subnet import OptionSet, Subnet6Index, build_subnet6, encode_options6
from dhcpbridge.sources.static import StaticSource
from dhcpbridge.sources.static6 import Static6Error, Static6Source
from dhcpbridge.wire.duid import Duid, parse_duid_text, server_duid_from_mac


def _flat(options: OptionSet) -> dict[int, bytes]:
    return {code: b"".join(o.data for o in items[:1]) for code, items in options.items()}


def pool_filter(config: Config) -> Any:
    """A membership test for every IA_NA and PD pool of the config (what static assignments must
    be kept out of)."""
    ranges: list[tuple[int, int]] = []
    for s in config.subnet6:
        for text in s.pools:
            first, last = parse_range6(text)
            ranges.append((int(first), int(last)))
        for p in s.pd_pools:
            ranges.append((int(p.prefix.network_address), int(p.prefix.broadcast_address)))

    def keep(value: int) -> bool:
        return any(first <= value <= last for first, last in ranges)

    return keep


def build_static6(config: Config, files: Sequence[str]) -> Static6Source | None:
    """The ``static6`` source from ``[[static6]]`` and ``files``; None when there is nothing in it."""
    if not config.static6 and not files:
        return None

    def options(raw: dict[str, Any]) -> dict[int, bytes]:
        return _flat(encode_options6(raw))

    try:
        return Static6Source.open(
            config.static6, [config.resolve_path(f) for f in files], options, pool_filter(config)
        )
    except Static6Error as exc:
        raise AssemblyError(exc.errors) from None


def server_duid(config: Config, host: HostInfo6) -> bytes:
    """``[server6] server-duid``, else a DUID-LL of the first served interface with a MAC (stable
    across restarts), else one from the host's machine id (DUID-UUID)."""
    text = config.server6.server_duid
    if text:
        return parse_duid_text(text).raw
    names = config.server6.interfaces or config.server.interfaces or sorted(host.macs)
    for name in names:
        mac = host.macs.get(name, b"")
        if len(mac) == 6 and any(mac):
            return server_duid_from_mac(mac).raw
    try:
        with open("/etc/machine-id", encoding="ascii") as handle:
            return Duid.from_uuid(handle.read().strip()).raw
    except (OSError, ValueError):
        return Duid.en(32473, b"dhcpbridge").raw  # RFC 5612 documentation enterprise number


def build_env6(
    config: Config, store: LeaseStore, host: HostInfo6, stats: Stats, sources: Sequence[Source]
) -> Env6:
    global_options = encode_options6(config.server6.options)
    subnets = [build_subnet6(i, s, global_options) for i, s in enumerate(config.subnet6)]
    # sources that answer one family only stay out of the other's chain (the v4 reservations
    # source answers "no answer" to every v6 query: asking it would only cost time)
    chain = SourceChain(
        [s for s in sources if 6 in getattr(s, "families", (4, 6)) and not isinstance(s, StaticSource)]
    )
    return Env6(
        subnets=Subnet6Index(subnets),
        sources=chain,
        store=store,
        host=host,
        stats=stats,
        server_duid=server_duid(config, host),
        options=global_options,
        offer_hold=config.server.offer_hold,
        decline_probation=config.server.decline_probation,
        client_port=config.server6.client_port,
        relay_port=config.server6.relay_port,
        reserved=chain.reserved(),
    )


def build_engine6(
    config: Config,
    store: LeaseStore,
    host: HostInfo6,
    stats: Stats,
    sources: Sequence[Source],
    extra: Sequence[Handler[Any]] = (),
) -> Engine6:
    return Engine6(build_env6(config, store, host, stats, sources), extra)


def load_handlers(config: Config, family: int) -> list[Handler[Any]]:
    """Instantiate the ``[[handler]]`` classes for ``family`` (4 or 6), in file order."""
    out: list[Handler[Any]] = []
    errors: list[str] = []
    for i, spec in enumerate(config.handler):
        if spec.family is not None and spec.family != family:
            continue
        if spec.search_path:
            where = str(config.resolve_path(spec.search_path))
            if where not in sys.path:
                sys.path.insert(0, where)
        try:
            out.append(load_handler(spec.path, spec.options))
        except (ValueError, TypeError) as exc:
            errors.append(f"handler[{i}].path: {exc}")
        except Exception as exc:  # the user's constructor failed: report it, never crash the check
            errors.append(f"handler[{i}]: {spec.path} failed to start: {type(exc).__name__}: {exc}")
    if errors:
        raise AssemblyError(errors)
    return out


__all__ = [
    "AssemblyError",
    "build_engine6",
    "build_env6",
    "build_static6",
    "load_handlers",
    "server_duid",
]
