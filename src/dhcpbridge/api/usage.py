"""Subnet and pool utilisation for the API: addresses per pool by lease state."""

from __future__ import annotations

from collections.abc import Iterable

from dhcpbridge.api.models import PoolUse, SubnetUse
from dhcpbridge.config import Config
from dhcpbridge.config.values import parse_range, parse_range6
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState

COUNTED = (LeaseState.BOUND, LeaseState.OFFERED, LeaseState.DECLINED)


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
    out = []
    for s4 in config.subnet4:
        pools = []
        for text in s4.pool_ranges:
            low, high = parse_range(str(text))
            pools.append(_pool(str(text), int(low), int(high), v4))
        out.append(_subnet(str(s4.subnet), 4, pools))
    for s6 in config.subnet6:
        pools = []
        for text6 in s6.pool_ranges:
            low6, high6 = parse_range6(str(text6))
            pools.append(_pool(str(text6), int(low6), int(high6), v6))
        out.append(_subnet(str(s6.subnet), 6, pools))
    return out
