"""Client classes (issue 13 §3): what a client says about itself, read once per request
(``facts4`` / ``facts6``), and the ``Match`` trees a ``ClientClass`` tests it with. Built from
``[[class]]`` by ``dhcpbridge.assemble.classes``; the handlers that use them are in
``engine/class_handlers.py``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dhcpbridge.wire import client_info
from dhcpbridge.wire.v6.options import Encoded


class Facts:
    """One request's client facts, both families alike (text where the client sends text)."""

    __slots__ = (
        "arch",
        "circuit_id",
        "duid_type",
        "family",
        "hostname",
        "mac",
        "relay",
        "remote_id",
        "subscriber_id",
        "user_classes",
        "vendor_class",
    )

    def __init__(self, family: int) -> None:
        self.family = family
        self.vendor_class = ""
        self.user_classes: list[str] = []
        self.arch: list[int] = []
        self.mac = b""
        self.circuit_id = b""
        self.remote_id = b""
        self.subscriber_id = b""
        self.duid_type: int | None = None
        self.relay = 0  # v4 giaddr / v6 link-address, 0 when not relayed
        self.hostname = ""


def facts4(tx: Any) -> Facts:
    """The facts of a ``Transaction4`` (after ``Classify``)."""
    out = Facts(4)
    opts = tx.request.options
    out.vendor_class = client_info.text(tx.vendor_class)
    out.user_classes = client_info.user_class4(opts.get(77)) or []
    out.arch = client_info.client_arch(opts.get(93)) or []
    out.mac = tx.client_mac
    out.circuit_id, out.remote_id = tx.circuit_id, tx.remote_id
    if tx.relay_info:
        out.subscriber_id = tx.relay_info.get(6, b"")
    pair = client_info.rfc4361(tx.client_id) if tx.client_id else None
    if pair is not None:
        out.duid_type = int.from_bytes(pair[1][:2], "big")
    out.relay = tx.request.giaddr
    out.hostname = tx.hostname
    return out


def facts6(tx: Any) -> Facts:
    """The facts of a ``Transaction6`` (after ``Classify`` and ``SelectSubnet``)."""
    out = Facts(6)
    req = tx.request
    out.vendor_class = client_info.vendor_class6(req.raw(16)) or ""
    out.user_classes = client_info.user_class6(req.raw(15)) or []
    out.arch = client_info.client_arch(req.raw(61)) or []
    out.mac = tx.client_mac
    out.circuit_id, out.remote_id, out.subscriber_id = tx.circuit_id, tx.remote_id, tx.subscriber_id
    if len(tx.duid) >= 2:
        out.duid_type = int.from_bytes(tx.duid[:2], "big")
    out.relay = tx.link_address
    out.hostname = tx.hostname
    return out


class Match:
    """Every condition that is set must hold; ``any_`` / ``all_`` / ``not_`` nest matches.
    ``relays``: (family, network, prefix length)."""

    def __init__(
        self,
        *,
        vendor_prefix: str | None = None,
        vendor_regex: str | None = None,
        user_class: str | None = None,
        arch: Sequence[int] | None = None,
        mac_prefix: bytes | None = None,
        circuit_id: bytes | None = None,
        remote_id: bytes | None = None,
        subscriber_id: bytes | None = None,
        duid_type: int | None = None,
        relays: Sequence[tuple[int, int, int]] | None = None,
        hostname_regex: str | None = None,
        any_: Sequence[Match] = (),
        all_: Sequence[Match] = (),
        not_: Match | None = None,
    ) -> None:
        self.vendor_prefix = vendor_prefix
        self.vendor_regex = re.compile(vendor_regex) if vendor_regex is not None else None
        self.user_class = user_class
        self.arch = frozenset(arch) if arch is not None else None
        self.mac_prefix = mac_prefix
        self.circuit_id = circuit_id
        self.remote_id = remote_id
        self.subscriber_id = subscriber_id
        self.duid_type = duid_type
        self.relays = tuple(relays) if relays is not None else None
        self.hostname_regex = re.compile(hostname_regex) if hostname_regex is not None else None
        self.any_ = tuple(any_)
        self.all_ = tuple(all_)
        self.not_ = not_

    def test(self, f: Facts) -> bool:
        if self.vendor_prefix is not None and not f.vendor_class.startswith(self.vendor_prefix):
            return False
        if self.vendor_regex is not None and not self.vendor_regex.search(f.vendor_class):
            return False
        if self.user_class is not None and self.user_class not in f.user_classes:
            return False
        if self.arch is not None and not any(a in self.arch for a in f.arch):
            return False
        if self.mac_prefix is not None and not f.mac.startswith(self.mac_prefix):
            return False
        if self.circuit_id is not None and f.circuit_id != self.circuit_id:
            return False
        if self.remote_id is not None and f.remote_id != self.remote_id:
            return False
        if self.subscriber_id is not None and f.subscriber_id != self.subscriber_id:
            return False
        if self.duid_type is not None and f.duid_type != self.duid_type:
            return False
        if self.relays is not None and not self._relayed(f):
            return False
        if self.hostname_regex is not None and not self.hostname_regex.search(f.hostname):
            return False
        if self.any_ and not any(m.test(f) for m in self.any_):
            return False
        if self.all_ and not all(m.test(f) for m in self.all_):
            return False
        return not (self.not_ is not None and self.not_.test(f))

    def _relayed(self, f: Facts) -> bool:
        assert self.relays is not None
        width = 32 if f.family == 4 else 128
        for family, network, length in self.relays:
            if family == f.family and f.relay and f.relay >> (width - length) == network >> (width - length):
                return True
        return False


class ClientClass:
    """A named class: its match and what its clients get (options encoded once per family)."""

    def __init__(
        self,
        name: str,
        match: Match,
        options4: dict[int, bytes] | None = None,
        options6: dict[int, tuple[Encoded, ...]] | None = None,
        next_server: int = 0,
        boot_file: bytes = b"",
        lease_time: int = 0,
        valid_lifetime: int = 0,
        preferred_lifetime: int = 0,
    ) -> None:
        self.name = name
        self.match = match
        self.options4 = options4 or {}
        self.options6 = options6 or {}
        self.next_server = next_server
        self.boot_file = boot_file
        self.lease_time = lease_time  # v4; 0: the subnet's
        self.valid_lifetime = valid_lifetime  # v6; 0: the link's
        self.preferred_lifetime = preferred_lifetime


def classify(classes: Sequence[ClientClass], facts: Facts) -> tuple[ClientClass, ...]:
    """The classes ``facts`` belong to, in configured order."""
    return tuple(c for c in classes if c.match.test(facts))
