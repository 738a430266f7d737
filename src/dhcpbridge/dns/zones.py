"""The zones we update, loaded once: each with its server, TSIG key and TTL; which zone holds a
name (longest suffix), and which forward domain a lease's address gets its name in."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import dns.name
import dns.tsig

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns.keys import load_key

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Zone:
    name: str  # absolute, lower case
    server: str
    port: int
    key: dns.tsig.Key | None
    ttl: int
    networks: tuple[Network, ...] = ()
    reverse: bool = False

    @property
    def origin(self) -> dns.name.Name:
        return dns.name.from_text(self.name)


class Zones:
    """See the module docstring. ``from_config`` raises ``KeyFileError`` for an unusable key."""

    def __init__(self, zones: list[Zone]) -> None:
        self.zones = sorted(zones, key=lambda z: -len(z.name))  # longest (most specific) first
        self.forward = [z for z in zones if not z.reverse]
        self.forward_names = [z.name for z in self.forward]
        self._networks = any(z.networks for z in self.forward)

    @classmethod
    def from_config(cls, cfg: DnsConfig, base: Path) -> Zones:
        zones = []
        for z in cfg.zone:
            key = None
            if z.key_file is not None:
                key = load_key(base / z.key_file, z.key_name)
            zones.append(
                Zone(
                    z.name,
                    str(z.server),
                    z.port,
                    key,
                    cfg.ttl if z.ttl is None else z.ttl,
                    tuple(z.networks),
                    z.reverse,
                )
            )
        return cls(zones)

    def zone_of(self, name: str) -> Zone | None:
        """The most specific zone that holds ``name`` (absolute, lower case)."""
        for zone in self.zones:
            if name == zone.name or name.endswith("." + zone.name):
                return zone
        return None

    def domain_for(self, address: str) -> str:
        """The forward zone a lease at ``address`` gets its name in: the one whose ``networks``
        hold it, else the first forward zone without networks, else the first forward zone."""
        if not self._networks:  # nothing to match: no address to parse (a few µs per lease)
            return self.forward[0].name
        ip = ipaddress.ip_address(address)
        for zone in self.forward:
            if any(ip.version == n.version and ip in n for n in zone.networks):
                return zone.name
        for zone in self.forward:
            if not zone.networks:
                return zone.name
        return self.forward[0].name
