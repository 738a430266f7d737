"""Subnet and pool utilisation: addresses per pool by lease state (the API's ``/v1/subnets`` and
the pool gauges of ``/metrics`` both use it, so it sits below both)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence

from pydantic import BaseModel

from dhcpbridge.config import Config
from dhcpbridge.config.values import parse_range, parse_range6
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
COUNTED = (LeaseState.BOUND, LeaseState.OFFERED, LeaseState.DECLINED)


class PoolUse(BaseModel):
    """One pool's addresses by state; ``free`` counts what no active record holds."""

    pool: str
    total: int
    bound: int
    offered: int
    declined: int
    free: int


class SubnetUse(BaseModel):
    subnet: str
    family: int
    pools: list[PoolUse]
    total: int
    bound: int
    offered: int
    declined: int
    free: int


def _pool(text: str, first: int, last: int, states: dict[int, LeaseState]) -> PoolUse:
    held = {s: 0 for s in COUNTED}
    for address, state in states.items():
        if first <= address <= last and state in held:
            held[state] += 1
    total = last - first + 1
    return PoolUse(
        pool=text,
        total=total,
        bound=held[LeaseState.BOUND],
        offered=held[LeaseState.OFFERED],
        declined=held[LeaseState.DECLINED],
        free=total - sum(held.values()),
    )


def _subnet(name: str, family: int, pools: list[PoolUse]) -> SubnetUse:
    return SubnetUse(
        subnet=name,
        family=family,
        pools=pools,
        total=sum(p.total for p in pools),
        bound=sum(p.bound for p in pools),
        offered=sum(p.offered for p in pools),
        declined=sum(p.declined for p in pools),
        free=sum(p.free for p in pools),
    )


def utilisation(config: Config, leases: Iterable[Lease]) -> list[SubnetUse]:
    """Per subnet (v4, then v6 IA_NA pools; delegated-prefix pools are not counted), per pool."""
    v4: dict[int, LeaseState] = {}
    v6: dict[int, LeaseState] = {}
    for lease in leases:
        if lease.kind == LeaseKind.V4:
            v4[lease.address] = lease.state
        elif lease.kind == LeaseKind.NA:
            v6[lease.address] = lease.state
    v4_pools = [(str(s.subnet), s.pool_ranges) for s in config.subnet4]
    v6_pools = [(str(s.subnet), s.pool_ranges) for s in config.subnet6]
    return _family(4, v4_pools, parse_range, v4) + _family(6, v6_pools, parse_range6, v6)


def _family(
    family: int,
    subnets: Sequence[tuple[str, Sequence[object]]],
    parse: Callable[[str], tuple[Address, Address]],
    states: dict[int, LeaseState],
) -> list[SubnetUse]:
    out = []
    for name, texts in subnets:
        pools = []
        for text in texts:
            low, high = parse(str(text))
            pools.append(_pool(str(text), int(low), int(high), states))
        out.append(_subnet(name, family, pools))
    return out
