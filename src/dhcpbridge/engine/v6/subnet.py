"""IPv6 links (``[[subnet6]]``) as the engine uses them: int ranges for IA_NA and IA_PD pools,
lifetimes and timers, pre-encoded options, and the index that finds a link for a request (built
from the config by ``dhcpbridge.assemble``)."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from dhcpbridge.engine.subnets import (
    PdRange,
    Pooled,
    PoolRange,
    SubnetIndexBase,
    in_pd_ranges,
    kept,
    pool_tiers,
)
from dhcpbridge.wire.v6 import options as options6
from dhcpbridge.wire.v6.options import Encoded

_PAIR = struct.Struct("!II")


OptionSet = dict[int, tuple[Encoded, ...]]  # code -> encoded options (some, like ntp-servers, repeat)


@dataclass(slots=True)
class Subnet6(Pooled):
    """One configured IPv6 link, ready for the hot path."""

    id: int
    name: str
    network: int
    prefixlen: int
    pools: tuple[PoolRange, ...] = field()  # no default (compiled, Pooled.pools would look like one)
    pd_pools: tuple[PdRange, ...]
    preferred: int
    valid: int
    t1: int
    t2: int
    rapid_commit: bool
    interface: str | None
    relay_links: frozenset[int]
    options: OptionSet = field(default_factory=dict)
    life_wire: bytes = b""  # preferred + valid lifetime, packed for IAADDR / IAPREFIX
    timers_wire: bytes = b""  # T1 + T2, packed for IA_NA / IA_PD
    _shift: int = 0
    _top: int = 0
    _pd_by_length: dict[int, tuple[PdRange, ...]] = field(default_factory=dict)
    restricted: bool = False  # some IA_NA pool is kept for classes / known clients
    pd_restricted: bool = False  # some prefix pool is kept for classes / known clients
    siblings: tuple[Subnet6, ...] = ()  # the other members of its [[shared-network]], in order

    def __post_init__(self) -> None:
        self.restricted = kept(self.pools)
        self.pd_restricted = kept(self.pd_pools)
        self.life_wire = _PAIR.pack(self.preferred, self.valid)
        self.timers_wire = _PAIR.pack(self.t1, self.t2)
        self._shift = 128 - self.prefixlen
        self._top = self.network >> self._shift
        for pool in self.pd_pools:
            self._pd_by_length.setdefault(
                pool.length, tuple(p for p in self.pd_pools if p.length == pool.length)
            )

    @property
    def relays(self) -> frozenset[int]:
        return self.relay_links

    @property
    def mask(self) -> int:
        return ((1 << 128) - 1) ^ ((1 << (128 - self.prefixlen)) - 1)

    def contains(self, addr: int) -> bool:
        """Whether ``addr`` is on this link (RFC 8415 "appropriate for the link")."""
        return (addr >> self._shift) == self._top

    def member_for(self, addr: int) -> Subnet6 | None:
        """This link or the member of its shared network that ``addr`` lies in."""
        if (addr >> self._shift) == self._top:
            return self
        for other in self.siblings:
            if other.contains(addr):
                return other
        return None

    def contains_all(self, hints: list[tuple[int, int]]) -> bool:
        """Whether every address of an IA's ``(address, length)`` hints is on this link."""
        shift, top = self._shift, self._top
        for addr, _ in hints:
            if addr >> shift != top and (not self.siblings or self.member_for(addr) is None):
                return False  # (a member of its shared network is on the link as well)
        return True

    def in_pd_pools(self, prefix: int, length: int) -> bool:
        return in_pd_ranges(self.pd_pools, prefix, length)

    def pd_ranges(self, length_hint: int) -> tuple[PdRange, ...]:
        """The PD pools to search: those delegating the hinted length, else all of them."""
        if length_hint:
            wanted = self._pd_by_length.get(length_hint)
            if wanted is not None:
                return wanted
        return self.pd_pools

    def pd_tiers(
        self, length_hint: int, classes: tuple[str, ...], known: bool
    ) -> tuple[tuple[PdRange, ...], ...]:
        """The prefix pools this client may use, in the order to try them (those kept for its
        classes or for known clients first, ``engine.subnets.pool_tiers``); within them, those
        delegating the hinted length when there are any."""
        if not self.pd_restricted:
            return (self.pd_ranges(length_hint),)
        tiers = pool_tiers(self.pd_pools, classes, known)
        if length_hint:
            hinted = tuple(
                t for t in (tuple(p for p in tier if p.length == length_hint) for tier in tiers) if t
            )
            if hinted:
                return hinted
        return tiers

    def in_pd_pools_for(self, prefix: int, length: int, classes: tuple[str, ...], known: bool) -> bool:
        """Whether ``prefix``/``length`` is a member of a prefix pool this client may use."""
        if not self.pd_restricted:
            return in_pd_ranges(self.pd_pools, prefix, length)
        return any(in_pd_ranges(tier, prefix, length) for tier in pool_tiers(self.pd_pools, classes, known))

    @property
    def allows_unicast(self) -> bool:
        """RFC 8415 §18.4: clients may unicast only to a server that sent them a Server Unicast option."""
        return options6.OptionCode6.UNICAST in self.options


class Subnet6Index(SubnetIndexBase[Subnet6]):
    """Finds the link of a request: a relay's link-address (configured, else the subnet that
    contains it), or the receiving interface (configured, else the subnet of one of its addresses)."""

    def __init__(self, subnets: Iterable[Subnet6]) -> None:
        super().__init__(subnets, 128)
        self._cache: dict[int, Subnet6 | None] = {}

    def by_link(self, link: int) -> Subnet6 | None:
        """The subnet for a relay's link-address (cached: relays are few)."""
        cache = self._cache
        if link in cache:
            return cache[link]
        hit = self.by_relay(link)
        if len(cache) > 65536:
            cache.clear()
        cache[link] = hit
        return hit


def class_lifetimes(
    table: dict[str, tuple[int, int]], classes: tuple[str, ...], subnet: Subnet6
) -> tuple[int, int]:
    """(valid, preferred) lifetime for a client in ``classes``: the first class giving each
    (``[[class]] valid-lifetime`` / ``preferred-lifetime``, 0 = not given), else the link's."""
    valid = preferred = 0
    for name in classes:
        entry = table.get(name)
        if entry is not None:
            valid = valid or entry[0]
            preferred = preferred or entry[1]
    return valid or subnet.valid, preferred or subnet.preferred
