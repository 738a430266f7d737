"""A validated ``Config`` -> the DHCPv4 engine: its environment (subnets, the source chain, server
ids, settings) and the user handlers around the built-in ones.

Used by the server at start and on reload, and by ``check-config`` (which builds everything but
the sockets and the store, so a config that passes the check also starts).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dhcpbridge.assemble.bridge import bridge_env4
from dhcpbridge.assemble.classes import build_classes
from dhcpbridge.assemble.env import shared_env
from dhcpbridge.assemble.handlers import handlers_before
from dhcpbridge.assemble.sources import build_sources
from dhcpbridge.assemble.subnets4 import build_subnets4
from dhcpbridge.config.model import Config
from dhcpbridge.engine.limits import DeclineLimiter, LeaseCaps
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.ports import LeaseStore, Source
from dhcpbridge.engine.records import HostInfo
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.subnet import SubnetIndex


def build_env4(
    config: Config, store: LeaseStore, host: HostInfo, stats: Stats, sources: Sequence[Source] | None = None
) -> Env4:
    """``sources``: the chain's sources when already built (shared with the v6 engine)."""
    subnets = build_subnets4(config)
    built = build_sources(config) if sources is None else sources
    server_id = int(config.server.server_id) if config.server.server_id else None
    server_ids = {s.server_id for s in subnets if s.server_id}
    if server_id:
        server_ids.add(server_id)
    return Env4(
        subnets=SubnetIndex(subnets),
        server_id=server_id,
        server_ids=frozenset(server_ids),
        **shared_env(config, 4, built, store, host, stats),
        declines=decline_limiter(config),
        caps=lease_caps(config),
        trusted_relays=tuple((int(n.network_address), int(n.netmask)) for n in config.server.trusted_relays),
        leasequery_requesters=tuple(
            (int(n.network_address), int(n.netmask)) for n in config.server.leasequery_requesters
        ),
        **bridge_env4(config),
        classes=build_classes(config),
        class_lease_times={c.name: c.lease_time for c in config.class_ if c.lease_time},
        bootp=any(s.bootp for s in subnets),
    )


def decline_limiter(config: Config) -> DeclineLimiter:
    """The DECLINE rate limits of ``[server]`` (one limiter per family)."""
    cfg = config.server
    return DeclineLimiter(
        cfg.decline_rate, cfg.decline_burst, cfg.decline_client_burst, cfg.decline_client_interval
    )


def lease_caps(config: Config) -> LeaseCaps:
    """The ``[limits]`` caps of dynamic leases per relay circuit and MAC prefix (one per family)."""
    cfg = config.limits
    return LeaseCaps(
        cfg.leases_per_circuit, cfg.leases_per_mac_prefix, cfg.mac_prefix_length, cfg.max_buckets
    )


def build_engine4(
    config: Config,
    store: LeaseStore,
    host: HostInfo,
    stats: Stats,
    extra: Sequence[Handler[Any]] = (),
    sources: Sequence[Source] | None = None,
    before: Sequence[Handler[Any]] | None = None,
) -> Engine4:
    """``extra``: user handlers after the built-in ones (``load_handlers(config, 4)``), ``before``:
    those before them (default: the config's ``position = "before"`` handlers)."""
    env = build_env4(config, store, host, stats, sources)
    return Engine4(env, extra, **handlers_before(config, 4, before))
