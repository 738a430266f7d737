"""IPv4 subnets as the engine uses them: int ranges, pre-encoded options, and the selection index
(built from the config by ``dhcpbridge.assemble``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dhcpbridge.engine.subnets import Pooled, PoolRange, SubnetIndexBase, kept


@dataclass(slots=True)
class Subnet4(Pooled):
    """One configured IPv4 network, ready for the hot path."""

    id: int
    name: str
    network: int
    mask: int
    pools: tuple[PoolRange, ...] = field()  # no default (compiled, Pooled.pools would look like one)
    lease_time: int
    min_lease_time: int
    max_lease_time: int
    renew_timer: int | None
    rebind_timer: int | None
    interface: str | None
    relay_addresses: frozenset[int]
    server_id: int | None
    authoritative: bool
    next_server: int
    boot_file: bytes
    server_hostname: bytes
    options: dict[int, bytes] = field(default_factory=dict)
    bootp: bool = False  # answer BOOTP clients (no option 53)
    bootp_lease_time: int = 0xFFFFFFFF  # their lease (RFC 2131 "infinite" by default)
    restricted: bool = False  # some pool is kept for classes / known clients
    siblings: tuple[Subnet4, ...] = ()  # the other members of its [[shared-network]], in order

    def member_for(self, addr: int) -> Subnet4 | None:
        """This subnet or the member of its shared network that ``addr`` lies in."""
        if (addr & self.mask) == self.network:
            return self
        for other in self.siblings:
            if (addr & other.mask) == other.network:
                return other
        return None

    def __post_init__(self) -> None:
        self.restricted = kept(self.pools)

    def contains(self, addr: int) -> bool:
        return (addr & self.mask) == self.network

    @property
    def prefixlen(self) -> int:
        return 32 - (~self.mask & 0xFFFFFFFF).bit_length()

    @property
    def relays(self) -> frozenset[int]:
        return self.relay_addresses

    @property
    def broadcast(self) -> int:
        return self.network | (~self.mask & 0xFFFFFFFF)

    def timers(self, lease_time: int) -> tuple[int, int]:
        """T1 and T2 for a lease of ``lease_time`` seconds (RFC 2131 §4.4.5: 0.5 and 0.875)."""
        t1 = (
            self.renew_timer
            if self.renew_timer is not None and self.renew_timer < lease_time
            else lease_time // 2
        )
        t2 = (
            self.rebind_timer
            if self.rebind_timer is not None and self.rebind_timer < lease_time
            else lease_time * 7 // 8
        )
        if t2 <= t1:  # a configured T1 that only fits a longer lease: keep the RFC proportions
            t1, t2 = lease_time // 2, lease_time * 7 // 8
        return t1, t2

    def negotiate(self, requested: int | None, default: int) -> int:
        """The lease time to grant: the client's wish (option 51) clamped to min/max."""
        if requested is None:
            return default
        return max(self.min_lease_time, min(self.max_lease_time, requested))


class SubnetIndex(SubnetIndexBase[Subnet4]):
    """Finds the subnet for an address, a relay (giaddr) or a receiving interface."""

    def __init__(self, subnets: Iterable[Subnet4]) -> None:
        super().__init__(subnets, 32)
