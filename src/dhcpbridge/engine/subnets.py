"""What subnets of both families share: the index (longest-prefix match of an address, the subnet
of a receiving interface, the table of configured relay addresses; per-family lookups build on
it), and the pools (``PoolRange``, ``PdRange``) with who may use them (``Pooled``, ``pool_tiers``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Generic, Protocol, TypeVar


class Indexed(Protocol):
    """What the index reads of a subnet (an IPv4 ``Subnet4`` or an IPv6 ``Subnet6``)."""

    network: int
    interface: str | None

    @property
    def prefixlen(self) -> int: ...

    @property
    def relays(self) -> frozenset[int]:
        """The relay addresses (v4 giaddr, v6 link-address) configured for the subnet."""
        ...


S = TypeVar("S", bound=Indexed)


class SubnetIndexBase(Generic[S]):
    """Finds the subnet for an address, a relay address or a receiving interface.

    ``width`` is the address size in bits (32 or 128); an address is matched by shifting off its
    host bits, longest prefix first."""

    def __init__(self, subnets: Iterable[S], width: int) -> None:
        self.subnets: list[S] = list(subnets)
        self._by_relay: dict[int, S] = {}
        self._by_interface: dict[str, S] = {}
        self._by_prefix: dict[int, dict[int, S]] = {}
        for s in self.subnets:
            for relay in s.relays:
                self._by_relay[relay] = s
            if s.interface:
                self._by_interface.setdefault(s.interface, s)
            shift = width - s.prefixlen
            self._by_prefix.setdefault(shift, {})[s.network >> shift] = s
        self._shifts = sorted(self._by_prefix)  # longest prefix (smallest shift) first

    def by_address(self, addr: int) -> S | None:
        for shift in self._shifts:
            hit = self._by_prefix[shift].get(addr >> shift)
            if hit is not None:
                return hit
        return None

    def by_relay(self, addr: int) -> S | None:
        """The subnet a relay address is configured for, else the one that contains it."""
        hit = self._by_relay.get(addr)
        return hit if hit is not None else self.by_address(addr)

    def by_interface(self, ifname: str, addresses: Iterable[int]) -> S | None:
        hit = self._by_interface.get(ifname)
        if hit is not None:
            return hit
        for addr in addresses:
            hit = self.by_address(addr)
            if hit is not None:
                return hit
        return None


K = TypeVar("K")
V = TypeVar("V")
LINKS_KEPT = 4096  # answered links remembered; past that the table starts again


class Links(Generic[K, V]):
    """The pool-less subnets bridge-only mode made from answers, one per key (the network and
    whatever else of the answer the subnet carries); forgotten all at once past ``LINKS_KEPT``."""

    def __init__(self) -> None:
        self._made: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        return self._made.get(key)

    def keep(self, key: K, subnet: V) -> V:
        made = self._made
        if len(made) > LINKS_KEPT:
            made.clear()
        made[key] = subnet
        return subnet


class Span(Protocol):
    """An inclusive range of addresses (a pool)."""

    @property
    def first(self) -> int: ...

    @property
    def last(self) -> int: ...


class Restricted(Span, Protocol):
    """A pool that may be kept for some clients (``[[subnet*]] pools = [{ range, classes,
    deny-unknown }]``): a ``PoolRange`` or a ``PdRange``."""

    @property
    def classes(self) -> frozenset[str]: ...

    @property
    def known_only(self) -> bool: ...


P = TypeVar("P", bound=Restricted)


def pool_tiers(pools: tuple[P, ...], classes: tuple[str, ...], known: bool) -> tuple[tuple[P, ...], ...]:
    """The pools a client in ``classes`` may take addresses from (``known``: a source knows it),
    in the order to try them: first those kept for it (its classes, or known clients), then the
    open ones; empty tiers are left out."""
    kept = tuple(
        p
        for p in pools
        if (p.classes or p.known_only)
        and (known or not p.known_only)
        and (not p.classes or not p.classes.isdisjoint(classes))
    )
    open_ = tuple(p for p in pools if not p.classes and not p.known_only)
    return tuple(tier for tier in (kept, open_) if tier)


def in_ranges(pools: Sequence[Span], addr: int) -> bool:
    """Whether ``addr`` lies in one of ``pools``."""
    for pool in pools:  # noqa: SIM110 - a plain loop beats any() on the hot path
        if pool.first <= addr <= pool.last:
            return True
    return False


def kept(pools: Iterable[Restricted]) -> bool:
    """Whether some of ``pools`` is kept for classes or known clients."""
    return any(p.classes or p.known_only for p in pools)


@dataclass(frozen=True, slots=True)
class PoolRange:
    """An inclusive address range of a pool: an IPv4 pool or an IPv6 IA_NA pool."""

    first: int
    last: int
    classes: frozenset[str] = frozenset()  # only for clients in one of these classes (empty: all)
    known_only: bool = False  # deny-unknown: only for clients a source knows
    # the distance between members (``PdRange``: a delegated prefix's size); set here too, because
    # the lease stores read ``getattr(r, "step", 1)`` and a missing attribute costs a raised and
    # caught AttributeError on every allocation
    step: int = field(default=1, kw_only=True)

    def __contains__(self, addr: int) -> bool:
        return self.first <= addr <= self.last

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True, slots=True)
class PdRange(PoolRange):
    """A prefix-delegation pool: members ``first + k * step`` (``step = 2 ** (128 - length)``),
    each the network address of one delegated ``/length`` (the lease store's ``AddressRange``)."""

    _: KW_ONLY
    step: int  # required here: 2 ** (128 - length)
    length: int

    def __contains__(self, prefix: int) -> bool:
        return self.first <= prefix <= self.last and not (prefix - self.first) % self.step

    @property
    def size(self) -> int:
        return (self.last - self.first) // self.step + 1


def in_pd_ranges(pools: Sequence[PdRange], prefix: int, length: int) -> bool:
    """Whether ``prefix``/``length`` is a member of one of ``pools``."""
    for pool in pools:  # noqa: SIM110 - a plain loop beats any() on the hot path
        if length == pool.length and prefix in pool:
            return True
    return False


class Pooled:
    """The address pools of a subnet (an IPv4 ``Subnet4``'s, an IPv6 ``Subnet6``'s IA_NA pools)
    and who may use them; ``restricted``: ``kept(pools)``, set by the subnet. A dataclass subnet
    declares ``pools = field()``: compiled, the attribute declared here is a class attribute,
    which ``dataclass`` would otherwise take for the field's default."""

    __slots__ = ()
    pools: tuple[PoolRange, ...]
    restricted: bool

    def in_pools(self, addr: int) -> bool:
        for pool in self.pools:  # noqa: SIM110 - a plain loop is twice as fast as any() on the hot path
            if pool.first <= addr <= pool.last:
                return True
        return False

    def pool_tiers(self, classes: tuple[str, ...], known: bool) -> tuple[tuple[PoolRange, ...], ...]:
        """The pools this client may use, those kept for it first (``pool_tiers``)."""
        return pool_tiers(self.pools, classes, known) if self.restricted else (self.pools,)

    def in_pools_for(self, addr: int, classes: tuple[str, ...], known: bool) -> bool:
        """Whether ``addr`` is in a pool this client may use."""
        if not self.restricted:
            return self.in_pools(addr)
        return any(in_ranges(tier, addr) for tier in self.pool_tiers(classes, known))
