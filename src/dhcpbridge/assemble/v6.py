"""A validated ``Config`` -> the DHCPv6 engine: its environment (links, the source chain, the
server DUID, ``[server6]`` options and settings) and the user handlers around the built-in ones.

Used by the server at start and on reload (with the same source objects as the v4 engine, so a
source with a life cycle exists once), and by ``check-config``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dhcpbridge.assemble.bridge import bridge_env6
from dhcpbridge.assemble.classes import build_classes
from dhcpbridge.assemble.env import shared_env
from dhcpbridge.assemble.handlers import handlers_before
from dhcpbridge.assemble.shared import link_shared
from dhcpbridge.assemble.subnets6 import build_subnet6
from dhcpbridge.assemble.v4 import decline_limiter, lease_caps
from dhcpbridge.config.model import Config
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.ports import LeaseStore, Source
from dhcpbridge.engine.records import HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v6.engine import Engine6
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.subnet import Subnet6Index
from dhcpbridge.leases.base import CapsDuidLeases
from dhcpbridge.sources.options import encode_options6
from dhcpbridge.wire.duid import Duid, parse_duid_text, server_duid_from_mac


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
    if isinstance(store, CapsDuidLeases):  # a shared store counts a DUID's leases in its claims
        store.limit_leases_per_duid(config.server6.max_leases_per_duid)
    subnets = [build_subnet6(i, s, global_options) for i, s in enumerate(config.subnet6)]
    link_shared(config, {s.subnet: built for s, built in zip(config.subnet6, subnets, strict=True)})
    return Env6(
        subnets=Subnet6Index(subnets),
        server_duid=server_duid(config, host),
        options=global_options,
        **shared_env(config, 6, sources, store, host, stats),
        multicast=config.server6.multicast,
        max_ia_na=config.server6.max_ia_na,
        max_ia_pd=config.server6.max_ia_pd,
        max_leases_per_duid=config.server6.max_leases_per_duid,
        declines=decline_limiter(config),
        caps=lease_caps(config),
        **bridge_env6(config),
        classes=build_classes(config),
        class_lifetimes={
            c.name: (c.valid_lifetime or 0, c.preferred_lifetime or 0)
            for c in config.class_
            if c.valid_lifetime or c.preferred_lifetime
        },
        leasequery_requesters=tuple(
            (int(n.network_address), int(n.netmask)) for n in config.server6.leasequery_requesters
        ),
    )


def build_engine6(
    config: Config,
    store: LeaseStore,
    host: HostInfo6,
    stats: Stats,
    sources: Sequence[Source],
    extra: Sequence[Handler[Any]] = (),
    before: Sequence[Handler[Any]] | None = None,
) -> Engine6:
    """``extra``: user handlers after the built-in ones (``load_handlers(config, 6)``), ``before``:
    those before them (default: the config's ``position = "before"`` handlers)."""
    env = build_env6(config, store, host, stats, sources)
    return Engine6(env, extra, **handlers_before(config, 6, before))
