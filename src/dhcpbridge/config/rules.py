"""Rules that span several parts of a config (overlaps, pools in subnets, unique keys).

Each rule reports with the path of the offending item (``subnet4[1].pools[0]``), and all rules
run, so an operator sees every problem of a file at once.
"""

from __future__ import annotations

import ipaddress
import itertools

from dhcpbridge.config.model import Config, parse_range
from dhcpbridge.wire import values


def check(config: Config) -> list[str]:
    """Every cross-field error of ``config`` as ``path: message``."""
    errors: list[str] = []
    errors += _subnets(config)
    errors += _reservations(config)
    return errors


def _subnets(config: Config) -> list[str]:
    errors: list[str] = []
    subnets = config.subnet4
    for i, a in enumerate(subnets):
        for j in range(i + 1, len(subnets)):
            if a.subnet.overlaps(subnets[j].subnet):
                errors.append(f"subnet4[{j}].subnet: {subnets[j].subnet} overlaps subnet4[{i}] {a.subnet}")
    ids: dict[int, int] = {}
    relays: dict[ipaddress.IPv4Address, int] = {}
    for i, s in enumerate(subnets):
        if s.id is not None:
            if s.id in ids:
                errors.append(f"subnet4[{i}].id: {s.id} is also the id of subnet4[{ids[s.id]}]")
            ids[s.id] = i
        ranges: list[tuple[int, int, int]] = []
        for k, text in enumerate(s.pools):
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
        if not any(r.ip in s.subnet for s in config.subnet4):
            errors.append(f"reservation[{i}].ip: {r.ip} is in no configured subnet4")
    return errors
