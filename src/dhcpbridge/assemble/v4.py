"""Turns a validated ``Config`` into the engine's parts: subnets, the source chain, user handlers.

Used by the runtime at start and on reload, and by ``check-config`` (which builds everything but
the sockets and the store, so a config that passes the check also starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dhcpbridge.assemble.errors import AssemblyError
from dhcpbridge.config.model import Config, HttpSourceConfig
from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.ports import LeaseStore, Source
from dhcpbridge.engine.records import HostInfo
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.subnet import SubnetIndex, build_subnet, encode_options
from dhcpbridge.sources.pools import PoolSource
from dhcpbridge.sources.static import ReservationError, StaticSource, load_file


def build_sources(config: Config) -> list[Source]:
    sources: list[Source] = []
    errors: list[str] = []
    for i, spec in enumerate(config.source):
        if isinstance(spec, HttpSourceConfig):
            from dhcpbridge.sources.http import HttpSource

            nets: list[Any] = [s.subnet for s in config.subnet4]
            nets += [s.subnet for s in getattr(config, "subnet6", [])]
            try:
                sources.append(HttpSource(spec, nets, config.resolve_path(".")))
            except (ValueError, OSError) as exc:
                errors.append(f"source[{i}]: {exc}")
        elif spec.type == "reservations":
            reservations = list(config.reservation)
            for name in spec.files:
                try:
                    reservations += load_file(config.resolve_path(name))
                except ReservationError as exc:
                    errors += [f"source[{i}].files: {e}" for e in exc.errors]
            sources.append(StaticSource(reservations))
        elif spec.type == "pools":
            sources.append(PoolSource())
        elif spec.type == "static6":
            from dhcpbridge.assemble.v6 import build_static6

            try:
                static6 = build_static6(config, spec.files)
            except AssemblyError as exc:
                errors += [f"source[{i}].files: {e}" if spec.files else e for e in exc.errors]
            else:
                if static6 is not None:
                    sources.append(static6)

    if errors:
        raise AssemblyError(errors)
    return sources


def build_env4(
    config: Config, store: LeaseStore, host: HostInfo, stats: Stats, sources: Sequence[Source] | None = None
) -> Env4:
    """``sources``: the chain's sources when already built (shared with the v6 engine)."""
    global_options = encode_options(config.options)
    subnets = [build_subnet(i, s, global_options, config) for i, s in enumerate(config.subnet4)]
    built = build_sources(config) if sources is None else sources
    chain = SourceChain([s for s in built if 4 in getattr(s, "families", (4, 6))])
    server_ids = {s.server_id for s in subnets if s.server_id}
    if config.server.server_id:
        server_ids.add(int(config.server.server_id))
    return Env4(
        subnets=SubnetIndex(subnets),
        sources=chain,
        store=store,
        host=host,
        stats=stats,
        server_id=int(config.server.server_id) if config.server.server_id else None,
        server_ids=frozenset(server_ids),
        offer_hold=config.server.offer_hold,
        decline_probation=config.server.decline_probation,
        client_port=config.server.client_port,
        relay_port=config.server.relay_port,
        reserved=chain.reserved(),
    )


def build_engine4(
    config: Config,
    store: LeaseStore,
    host: HostInfo,
    stats: Stats,
    extra: Sequence[Handler[Any]] = (),
    sources: Sequence[Source] | None = None,
) -> Engine4:
    return Engine4(build_env4(config, store, host, stats, sources), extra)
