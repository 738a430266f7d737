"""Rules that span several parts of a config (overlaps, pools in subnets, unique keys).

Each rule reports with the path of the offending item (``subnet4[1].pools[0]``), and all rules
run, so an operator sees every problem of a file at once.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Sequence

from dhcpbridge.config.classes import Pool6Config, PoolConfig
from dhcpbridge.config.model import Config
from dhcpbridge.config.model6 import PdPoolConfig, canonical_static_id, parse_static_id
from dhcpbridge.config.shared import shared_network_errors
from dhcpbridge.config.values import parse_range, parse_range6
from dhcpbridge.wire import values


def check(config: Config) -> list[str]:
    """Every cross-field error of ``config`` as ``path: message``."""
    errors: list[str] = []
    errors += _server(config)
    errors += _subnets(config)
    errors += _reservations(config)
    errors += _subnets6(config)
    errors += _static6(config)
    errors += _pool_classes(config)
    errors += shared_network_errors(
        config.shared_network, [s.subnet for s in config.subnet4], [s.subnet for s in config.subnet6]
    )
    return errors


def _pool_classes(config: Config) -> list[str]:
    """A pool kept for classes must name classes that exist (a typo would starve the pool)."""
    names = {c.name for c in config.class_}
    errors: list[str] = []
    pools: list[tuple[str, list[str | PoolConfig] | list[str | Pool6Config] | list[PdPoolConfig]]] = [
        *((f"subnet4[{i}].pools", list(s.pools)) for i, s in enumerate(config.subnet4)),
        *((f"subnet6[{i}].pools", list(s.pools)) for i, s in enumerate(config.subnet6)),
        *((f"subnet6[{i}].pd-pools", list(s.pd_pools)) for i, s in enumerate(config.subnet6)),
    ]
    for path, items in pools:
        for k, pool in enumerate(items):
            for name in [] if isinstance(pool, str) else pool.classes:
                if name not in names:
                    errors.append(f"{path}[{k}].classes: no [[class]] is named {name!r}")
    return errors


def _server(config: Config) -> list[str]:
    server = config.server
    if server.interfaces and not server.address.is_unspecified and config.subnet4:
        return [
            f"server.address: {server.address} is a unicast address: a socket bound to it never receives "
            "the broadcast DISCOVERs of clients on server.interfaces; use 0.0.0.0, or interfaces = [] "
            "to serve relayed clients only"
        ]
    return []


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(section: str, subnets: Sequence[tuple[int | None, Network]]) -> list[str]:
    """Overlapping networks and repeated ids of one family's ``(id, network)`` list."""
    errors: list[str] = []
    for i, (_, a) in enumerate(subnets):
        for j in range(i + 1, len(subnets)):
            b = subnets[j][1]
            if a.overlaps(b):  # one family per list
                errors.append(f"{section}[{j}].subnet: {b} overlaps {section}[{i}] {a}")
    ids: dict[int, int] = {}
    for i, (ident, _) in enumerate(subnets):
        if ident is not None:
            if ident in ids:
                errors.append(f"{section}[{i}].id: {ident} is also the id of {section}[{ids[ident]}]")
            ids[ident] = i
    return errors


def _subnets(config: Config) -> list[str]:
    subnets = config.subnet4
    errors = _networks("subnet4", [(s.id, s.subnet) for s in subnets])
    relays: dict[ipaddress.IPv4Address, int] = {}
    for i, s in enumerate(subnets):
        ranges: list[tuple[int, int, int]] = []
        for k, text in enumerate(s.pool_ranges):
            first, last = parse_range(text)
            if first not in s.subnet or last not in s.subnet:
                errors.append(f"subnet4[{i}].pools[{k}]: {text} is not inside subnet {s.subnet}")
            elif first == s.subnet.network_address and s.subnet.prefixlen < 31:
                errors.append(f"subnet4[{i}].pools[{k}]: {text} includes the network address {first}")
            elif last == s.subnet.broadcast_address and s.subnet.prefixlen < 31:
                errors.append(f"subnet4[{i}].pools[{k}]: {text} includes the broadcast address {last}")
            ranges.append((int(first), int(last), k))
        ranges.sort()
        for (_, last_a, ka), (first_b, _, kb) in itertools.pairwise(ranges):
            if first_b <= last_a:
                errors.append(f"subnet4[{i}].pools[{kb}]: overlaps subnet4[{i}].pools[{ka}]")
        for k, addr in enumerate(s.relay_addresses):
            if addr in relays:
                errors.append(
                    f"subnet4[{i}].relay-addresses[{k}]: {addr} is already a relay of subnet4[{relays[addr]}]"
                )
            relays[addr] = i
    return errors


def _reservations(config: Config) -> list[str]:
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    ips: dict[ipaddress.IPv4Address, int] = {}
    for i, r in enumerate(config.reservation):
        for key in ("mac", "client_id", "circuit_id", "remote_id"):
            value = getattr(r, key)
            if value is None:
                continue
            norm = (key, values.parse_hex(value).hex() if key in ("mac", "client_id") else value)
            if norm in seen:
                errors.append(f"reservation[{i}].{key.replace('_', '-')}: repeats reservation[{seen[norm]}]")
            seen[norm] = i
        if r.ip is None:
            continue
        if r.ip in ips:
            errors.append(f"reservation[{i}].ip: {r.ip} is also reserved by reservation[{ips[r.ip]}]")
        ips[r.ip] = i
        home = next((s.subnet for s in config.subnet4 if r.ip in s.subnet), None)
        if home is None:
            errors.append(f"reservation[{i}].ip: {r.ip} is in no configured subnet4")
        elif home.prefixlen < 31 and r.ip in (home.network_address, home.broadcast_address):
            errors.append(f"reservation[{i}].ip: {r.ip} is the network or broadcast address of {home}")
    return errors


def _subnets6(config: Config) -> list[str]:
    subnets = config.subnet6
    errors = _networks("subnet6", [(s.id, s.subnet) for s in subnets])
    links: dict[ipaddress.IPv6Address, int] = {}
    interfaces: dict[str, int] = {}
    na: list[tuple[int, int, str]] = []  # every IA_NA pool: first, last, path
    pd: list[tuple[int, int, str]] = []  # every PD pool
    for i, s in enumerate(subnets):
        if s.interface is not None:
            if s.interface in interfaces:
                errors.append(
                    f"subnet6[{i}].interface: {s.interface} is already the interface of subnet6[{interfaces[s.interface]}]"
                )
            interfaces[s.interface] = i
        for k, text in enumerate(s.pool_ranges):
            first, last = parse_range6(text)
            if first not in s.subnet or last not in s.subnet:
                errors.append(f"subnet6[{i}].pools[{k}]: {text} is not inside subnet {s.subnet}")
            na.append((int(first), int(last), f"subnet6[{i}].pools[{k}]"))
        for k, p in enumerate(s.pd_pools):
            net = p.prefix
            pd.append((int(net.network_address), int(net.broadcast_address), f"subnet6[{i}].pd-pools[{k}]"))
        for k, addr in enumerate(s.relay_link_addresses):
            if addr in links:
                errors.append(
                    f"subnet6[{i}].relay-link-addresses[{k}]: {addr} is already a link of subnet6[{links[addr]}]"
                )
            links[addr] = i
    for ranges in (na, pd):
        order = {path: n for n, (_, _, path) in enumerate(ranges)}  # report the later one in the file
        ranges.sort()
        for (_, last_a, path_a), (first_b, _, path_b) in itertools.pairwise(ranges):
            if first_b <= last_a:
                early, late = sorted((path_a, path_b), key=order.__getitem__)
                errors.append(f"{late}: overlaps {early}")
    for pd_first, pd_last, path in pd:
        for na_first, na_last, na_path in na:
            if pd_first <= na_last and na_first <= pd_last:
                errors.append(f"{path}: overlaps the address pool {na_path}")
    return errors


def _static6(config: Config) -> list[str]:
    errors: list[str] = []
    seen: dict[bytes, int] = {}
    addresses: dict[ipaddress.IPv6Address, int] = {}
    prefixes: dict[ipaddress.IPv6Network, int] = {}
    for i, entry in enumerate(config.static6):
        key = parse_static_id(entry.id)
        if key in seen:
            errors.append(f"static6[{i}].id: {canonical_static_id(key)} repeats static6[{seen[key]}]")
        seen[key] = i
        if entry.address is not None:
            if entry.address in addresses:
                errors.append(
                    f"static6[{i}].address: {entry.address} is also assigned by static6[{addresses[entry.address]}]"
                )
            addresses[entry.address] = i
            if not any(entry.address in s.subnet for s in config.subnet6):
                errors.append(f"static6[{i}].address: {entry.address} is in no configured subnet6")
        if entry.prefix is not None:
            for other, j in prefixes.items():
                if entry.prefix.overlaps(other):
                    errors.append(f"static6[{i}].prefix: {entry.prefix} overlaps static6[{j}] {other}")
            prefixes[entry.prefix] = i
            for k, s in enumerate(config.subnet6):
                for n, pool in enumerate(s.pd_pools):
                    if entry.prefix.overlaps(pool.prefix) and entry.prefix.prefixlen != pool.delegated_length:
                        errors.append(
                            f"static6[{i}].prefix: {entry.prefix} lies in subnet6[{k}].pd-pools[{n}] but is not "
                            f"one of its /{pool.delegated_length} prefixes (the pool could delegate parts of it)"
                        )
    uses_static6 = any(getattr(src, "type", "") == "static6" for src in config.source)
    if config.static6 and not uses_static6:
        errors.append('static6: entries are never used: add [[source]] type = "static6" to the chain')
    return errors
