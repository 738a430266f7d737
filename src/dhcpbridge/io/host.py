"""The host's interfaces and their IPv4 addresses (read with psutil), for subnet selection and
server identifiers."""

from __future__ import annotations

import socket

import psutil

from dhcpbridge.engine.records import HostInfo


def ipv4_addresses() -> dict[str, tuple[int, ...]]:
    """Interface name -> its IPv4 addresses as ints (primary first)."""
    out: dict[str, tuple[int, ...]] = {}
    for name, addrs in psutil.net_if_addrs().items():
        v4 = tuple(
            int.from_bytes(socket.inet_aton(a.address), "big")
            for a in addrs
            if a.family == socket.AF_INET and a.address
        )
        out[name] = v4
    return out


def ipv4_networks() -> dict[str, tuple[tuple[int, int], ...]]:
    """Interface name -> its IPv4 networks as (network, prefix length)."""
    out: dict[str, tuple[tuple[int, int], ...]] = {}
    for name, addrs in psutil.net_if_addrs().items():
        nets = []
        for a in addrs:
            if a.family == socket.AF_INET and a.address:
                addr = int.from_bytes(socket.inet_aton(a.address), "big")
                mask = int.from_bytes(socket.inet_aton(a.netmask), "big") if a.netmask else 0xFFFFFFFF
                nets.append((addr & mask, 32 - ((~mask) & 0xFFFFFFFF).bit_length()))
        out[name] = tuple(nets)
    return out


def host_info(served: list[str]) -> HostInfo:
    return HostInfo.build(ipv4_addresses(), frozenset(served), ipv4_networks())


def missing_interfaces(names: list[str]) -> list[str]:
    present = set(psutil.net_if_addrs())
    return [n for n in names if n not in present]
