"""IPv4 subnets as the engine uses them: int ranges, pre-encoded options, and the selection index."""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from dhcpbridge.config.model import Config, Subnet4Config, parse_range
from dhcpbridge.wire.v4 import options as options4


@dataclass(frozen=True, slots=True)
class PoolRange:
    first: int
    last: int

    def __contains__(self, addr: int) -> bool:
        return self.first <= addr <= self.last

    @property
    def size(self) -> int:
        return self.last - self.first + 1


@dataclass(slots=True)
class Subnet4:
    """One configured IPv4 network, ready for the hot path."""

    id: int
    name: str
    network: int
    mask: int
    pools: tuple[PoolRange, ...]
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

    def contains(self, addr: int) -> bool:
        return (addr & self.mask) == self.network

    def in_pools(self, addr: int) -> bool:
        for pool in self.pools:  # noqa: SIM110 - a plain loop is twice as fast as any() on the hot path
            if pool.first <= addr <= pool.last:
                return True
        return False

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


def _u32(value: int) -> bytes:
    return struct.pack("!I", value)


def encode_options(raw: dict[str, object]) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    for key, value in raw.items():
        code, data = options4.encode_config_option(key, value)
        out[code] = data
    return out


def build_subnet(index: int, cfg: Subnet4Config, global_options: dict[int, bytes], config: Config) -> Subnet4:
    net = cfg.subnet
    opts = dict(global_options)
    opts[options4.Opt.SUBNET_MASK] = net.netmask.packed
    opts.update(encode_options(cfg.options))
    pools = []
    for text in cfg.pools:
        first, last = parse_range(text)
        pools.append(PoolRange(int(first), int(last)))
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
    )


class SubnetIndex:
    """Finds the subnet for an address, a relay (giaddr) or a receiving interface."""

    def __init__(self, subnets: Iterable[Subnet4]) -> None:
        self.subnets = list(subnets)
        self._by_relay: dict[int, Subnet4] = {}
        self._by_interface: dict[str, Subnet4] = {}
        self._by_prefix: dict[int, dict[int, Subnet4]] = {}
        for s in self.subnets:
            for relay in s.relay_addresses:
                self._by_relay[relay] = s
            if s.interface:
                self._by_interface.setdefault(s.interface, s)
            self._by_prefix.setdefault(s.mask, {})[s.network] = s
        self._masks = sorted(self._by_prefix, reverse=True)  # longest prefix first

    def by_address(self, addr: int) -> Subnet4 | None:
        for mask in self._masks:
            hit = self._by_prefix[mask].get(addr & mask)
            if hit is not None:
                return hit
        return None

    def by_relay(self, giaddr: int) -> Subnet4 | None:
        hit = self._by_relay.get(giaddr)
        return hit if hit is not None else self.by_address(giaddr)

    def by_interface(self, ifname: str, addresses: Iterable[int]) -> Subnet4 | None:
        hit = self._by_interface.get(ifname)
        if hit is not None:
            return hit
        for addr in addresses:
            hit = self.by_address(addr)
            if hit is not None:
                return hit
        return None
