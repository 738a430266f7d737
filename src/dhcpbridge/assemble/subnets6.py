"""``[[subnet6]]`` tables -> the engine's ``Subnet6`` links (int ranges for IA_NA and PD pools,
lifetimes and timers, options encoded once)."""

from __future__ import annotations

from dhcpbridge.config.classes import pool_access, pool_text
from dhcpbridge.config.model6 import Subnet6Config
from dhcpbridge.config.values import parse_range6
from dhcpbridge.engine.subnets import PdRange, PoolRange
from dhcpbridge.engine.v6.subnet import OptionSet, Subnet6
from dhcpbridge.sources.options import encode_options6


def timers(preferred: int, renew: int | None, rebind: int | None) -> tuple[int, int]:
    """T1 and T2 (RFC 8415 §14.2: 0.5 and 0.8 times the shortest preferred lifetime by default)."""
    t1 = renew if renew is not None else preferred // 2
    t2 = rebind if rebind is not None else preferred * 4 // 5
    return t1, max(t1, t2)


def pool_ranges(cfg: Subnet6Config) -> tuple[list[PoolRange], list[PdRange]]:
    """The link's IA_NA ranges and prefix-delegation pools, in file order."""
    pools = []
    for pool in cfg.pools:
        low, high = parse_range6(pool_text(pool))
        pools.append(PoolRange(int(low), int(high), *pool_access(pool)))
    pd = []
    for p in cfg.pd_pools:
        step = 1 << (128 - p.delegated_length)
        first = int(p.prefix.network_address)
        last = int(p.prefix.broadcast_address) - step + 1
        pd.append(PdRange(first, last, *pool_access(p), step=step, length=p.delegated_length))
    return pools, pd


def build_subnet6(index: int, cfg: Subnet6Config, global_options: OptionSet) -> Subnet6:
    """Link number ``index`` of the file (its id when none is configured: ``index + 1``)."""
    pools, pd = pool_ranges(cfg)
    opts = dict(global_options)
    opts.update(encode_options6(cfg.options))
    t1, t2 = timers(cfg.preferred_lifetime, cfg.renew_timer, cfg.rebind_timer)
    net = cfg.subnet
    return Subnet6(
        id=cfg.id if cfg.id is not None else index + 1,
        name=str(net),
        network=int(net.network_address),
        prefixlen=net.prefixlen,
        pools=tuple(sorted(pools, key=lambda r: r.first)),
        pd_pools=tuple(sorted(pd, key=lambda r: r.first)),
        preferred=cfg.preferred_lifetime,
        valid=cfg.valid_lifetime,
        t1=t1,
        t2=t2,
        rapid_commit=cfg.rapid_commit,
        interface=cfg.interface,
        relay_links=frozenset(int(a) for a in cfg.relay_link_addresses),
        options=opts,
    )
