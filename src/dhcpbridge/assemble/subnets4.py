"""``[[subnet4]]`` tables -> the engine's ``Subnet4`` objects (int ranges, options encoded once)."""

from __future__ import annotations

from dhcpbridge.assemble.shared import link_shared
from dhcpbridge.config.classes import pool_access, pool_text
from dhcpbridge.config.model import Config, Subnet4Config
from dhcpbridge.config.values import parse_range
from dhcpbridge.engine.subnets import PoolRange
from dhcpbridge.engine.v4.subnet import Subnet4
from dhcpbridge.sources.options import encode_options4
from dhcpbridge.wire.v4 import options as options4

INFINITE = 0xFFFFFFFF  # RFC 2131 §3.3: an infinite lease (BOOTP clients by default)


def build_subnet(index: int, cfg: Subnet4Config, global_options: dict[int, bytes], config: Config) -> Subnet4:
    """Subnet number ``index`` of the file (its id when none is configured: ``index + 1``)."""
    net = cfg.subnet
    opts = dict(global_options)
    opts[options4.Opt.SUBNET_MASK] = net.netmask.packed
    opts.update(encode_options4(cfg.options))
    pools = []
    for pool in cfg.pools:
        first, last = parse_range(pool_text(pool))
        pools.append(PoolRange(int(first), int(last), *pool_access(pool)))
    server_id = cfg.server_id or config.server.server_id
    return Subnet4(
        id=cfg.id if cfg.id is not None else index + 1,
        name=str(net),
        network=int(net.network_address),
        mask=int(net.netmask),
        pools=tuple(sorted(pools, key=lambda p: p.first)),
        lease_time=cfg.lease_time,
        min_lease_time=cfg.min_lease_time or min(cfg.lease_time, 60),
        max_lease_time=cfg.max_lease_time or cfg.lease_time,
        renew_timer=cfg.renew_timer,
        rebind_timer=cfg.rebind_timer,
        interface=cfg.interface,
        relay_addresses=frozenset(int(a) for a in cfg.relay_addresses),
        server_id=int(server_id) if server_id else None,
        authoritative=cfg.authoritative if cfg.authoritative is not None else config.server.authoritative,
        next_server=int(cfg.next_server) if cfg.next_server else 0,
        boot_file=(cfg.boot_file_name or "").encode()[:127],
        server_hostname=(cfg.server_hostname or "").encode()[:63],
        options=opts,
        bootp=cfg.bootp,
        bootp_lease_time=cfg.bootp_lease_time or INFINITE,
    )


def build_subnets4(config: Config) -> list[Subnet4]:
    """Every ``[[subnet4]]``, in file order, with the global ``options`` under its own, and the
    members of each ``[[shared-network]]`` linked to each other."""
    global_options = encode_options4(config.options)
    subnets = [build_subnet(i, s, global_options, config) for i, s in enumerate(config.subnet4)]
    link_shared(config, {s.subnet: built for s, built in zip(config.subnet4, subnets, strict=True)})
    return subnets
