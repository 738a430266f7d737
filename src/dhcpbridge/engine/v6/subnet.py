"""IPv6 links (``[[subnet6]]``) as the engine uses them: int ranges for IA_NA and IA_PD pools,
lifetimes and timers, pre-encoded options, and the index that finds a link for a request."""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dhcpbridge.config.model6 import Subnet6Config, parse_range6
from dhcpbridge.wire.v6 import options as options6
from dhcpbridge.wire.v6.options import Encoded

_HDR = struct.Struct("!HH")
_PAIR = struct.Struct("!II")


@dataclass(frozen=True, slots=True)
class Range6:
    """An inclusive IA_NA address range."""

    first: int
    last: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class PdRange:
    """A prefix-delegation pool: members ``first + k * step`` (``step = 2 ** (128 - length)``),
    each the network address of one delegated ``/length`` (the lease store's ``AddressRange``)."""

    first: int
    last: int
    step: int
    length: int

    @property
    def size(self) -> int:
        return (self.last - self.first) // self.step + 1


OptionSet = dict[int, tuple[Encoded, ...]]


def encode_options6(raw: dict[str, Any]) -> OptionSet:
    """Configured options as ``code -> encoded options`` (an option that repeats, like RFC 5908
    ntp-servers with one instance per server, has several)."""
    out: OptionSet = {}
    for key, value in raw.items():
        items = tuple(Encoded(code, body) for code, body in options6.encode_config_options6(key, value))
        if items:
            out[items[0].code] = items
    return out


@dataclass(slots=True)
class Subnet6:
    """One configured IPv6 link, ready for the hot path."""

    id: int
    name: str
    network: int
    prefixlen: int
    pools: tuple[Range6, ...]
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

    def __post_init__(self) -> None:
        self.life_wire = _PAIR.pack(self.preferred, self.valid)
        self.timers_wire = _PAIR.pack(self.t1, self.t2)
        self._shift = 128 - self.prefixlen
        self._top = self.network >> self._shift
        for pool in self.pd_pools:
            self._pd_by_length.setdefault(
                pool.length, tuple(p for p in self.pd_pools if p.length == pool.length)
            )

    @property
    def mask(self) -> int:
        return ((1 << 128) - 1) ^ ((1 << (128 - self.prefixlen)) - 1)

    def contains(self, addr: int) -> bool:
        """Whether ``addr`` is on this link (RFC 8415 "appropriate for the link")."""
        return (addr >> self._shift) == self._top

    def contains_all(self, hints: list[tuple[int, int]]) -> bool:
        """Whether every address of an IA's ``(address, length)`` hints is on this link."""
        shift, top = self._shift, self._top
        for addr, _ in hints:  # noqa: SIM110 - a plain loop beats all() on the hot path
            if addr >> shift != top:
                return False
        return True

    def in_pools(self, addr: int) -> bool:
        for pool in self.pools:  # noqa: SIM110 - a plain loop beats any() on the hot path
            if pool.first <= addr <= pool.last:
                return True
        return False

    def in_pd_pools(self, prefix: int, length: int) -> bool:
        for pool in self.pd_pools:
            if (
                length == pool.length
                and pool.first <= prefix <= pool.last
                and not (prefix - pool.first) % pool.step
            ):
                return True
        return False

    def pd_ranges(self, length_hint: int) -> tuple[PdRange, ...]:
        """The PD pools to search: those delegating the hinted length, else all of them."""
        if length_hint:
            wanted = self._pd_by_length.get(length_hint)
            if wanted is not None:
                return wanted
        return self.pd_pools

    @property
    def allows_unicast(self) -> bool:
        """RFC 8415 §18.4: clients may unicast only to a server that sent them a Server Unicast option."""
        return options6.OptionCode6.UNICAST in self.options


def timers(preferred: int, renew: int | None, rebind: int | None) -> tuple[int, int]:
    """T1 and T2 (RFC 8415 §14.2: 0.5 and 0.8 times the shortest preferred lifetime by default)."""
    t1 = renew if renew is not None else preferred // 2
    t2 = rebind if rebind is not None else preferred * 4 // 5
    return t1, max(t1, t2)


def build_subnet6(index: int, cfg: Subnet6Config, global_options: OptionSet) -> Subnet6:
    pools = []
    for text in cfg.pools:
        low, high = parse_range6(text)
        pools.append(Range6(int(low), int(high)))
    pd = []
    for p in cfg.pd_pools:
        step = 1 << (128 - p.delegated_length)
        first = int(p.prefix.network_address)
        pd.append(PdRange(first, int(p.prefix.broadcast_address) - step + 1, step, p.delegated_length))
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


class Subnet6Index:
    """Finds the link of a request: a relay's link-address (configured, else the subnet that
    contains it), or the receiving interface (configured, else the subnet of one of its addresses)."""

    def __init__(self, subnets: Iterable[Subnet6]) -> None:
        self.subnets = list(subnets)
        self._by_link: dict[int, Subnet6] = {}
        self._by_interface: dict[str, Subnet6] = {}
        self._by_prefix: dict[int, dict[int, Subnet6]] = {}
        for s in self.subnets:
            for link in s.relay_links:
                self._by_link[link] = s
            if s.interface:
                self._by_interface.setdefault(s.interface, s)
            self._by_prefix.setdefault(s.prefixlen, {})[s.network >> (128 - s.prefixlen)] = s
        self._lengths = sorted(self._by_prefix, reverse=True)  # longest prefix first
        self._cache: dict[int, Subnet6 | None] = {}

    def by_address(self, addr: int) -> Subnet6 | None:
        for length in self._lengths:
            hit = self._by_prefix[length].get(addr >> (128 - length))
            if hit is not None:
                return hit
        return None

    def by_link(self, link: int) -> Subnet6 | None:
        """The subnet for a relay's link-address (cached: relays are few)."""
        cache = self._cache
        if link in cache:
            return cache[link]
        hit = self._by_link.get(link)
        if hit is None:
            hit = self.by_address(link)
        if len(cache) > 65536:
            cache.clear()
        cache[link] = hit
        return hit

    def by_interface(self, ifname: str, addresses: Iterable[int]) -> Subnet6 | None:
        hit = self._by_interface.get(ifname)
        if hit is not None:
            return hit
        for addr in addresses:
            hit = self.by_address(addr)
            if hit is not None:
                return hit
        return None


def network_text(prefix: int, length: int) -> str:
    return f"{ipaddress.IPv6Address(prefix)}/{length}"
