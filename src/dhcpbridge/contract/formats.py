"""The string formats the bridge contract uses, as plain predicates shared by both validators.

The JSON Schema names them with ``format`` (``ipv4``, ``ipv6`` and two of its own, ``ipv4-network``
and ``ipv6-network``); the jsonschema ``FormatChecker`` built here and the pydantic models both call
these functions, so the two can never disagree about what an address is. The predicates are
memoised: a DHCP server sends the same few relay, server and subnet addresses over and over. Other languages' validators
that ignore unknown formats still get the ``pattern`` that the schema puts beside each one.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable

from jsonschema import FormatChecker


@functools.lru_cache(maxsize=1 << 16)
def is_ipv4(text: str) -> bool:
    """Dotted-quad IPv4 address, no leading zeros (``10.67.0.1``)."""
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=1 << 16)
def is_ipv6(text: str) -> bool:
    """Any textual IPv6 address without a zone index (``fd67::1``, not ``fe80::1%eth0``)."""
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return not address.scope_id


def is_ip(text: str) -> bool:
    """An IPv4 or an IPv6 address."""
    return is_ipv4(text) or is_ipv6(text)


@functools.lru_cache(maxsize=1 << 16)
def is_ipv4_network(text: str) -> bool:
    """IPv4 CIDR with an explicit length and no host bits set (``10.67.0.0/24``)."""
    if "/" not in text:
        return False
    try:
        ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=1 << 16)
def is_ipv6_network(text: str) -> bool:
    """IPv6 CIDR with an explicit length and no host bits set (``fd67:1000::/40``)."""
    if "/" not in text or "%" in text:
        return False
    try:
        ipaddress.IPv6Network(text, strict=True)
    except ValueError:
        return False
    return True


def make_format_checker() -> FormatChecker:
    """A checker that knows exactly the contract's formats (and no optional-dependency ones)."""
    checker = FormatChecker(formats=())
    for name, predicate in (
        ("ipv4", is_ipv4),
        ("ipv6", is_ipv6),
        ("ipv4-network", is_ipv4_network),
        ("ipv6-network", is_ipv6_network),
    ):
        checker.checks(name)(_only_strings(predicate))
    return checker


def _only_strings(predicate: Callable[[str], bool]) -> Callable[[object], bool]:
    def check(instance: object) -> bool:
        # JSON Schema formats only constrain strings; ``type`` rejects everything else.
        return not isinstance(instance, str) or predicate(instance)

    return check
