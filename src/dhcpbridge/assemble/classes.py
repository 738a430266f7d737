"""``[[class]]`` tables -> the engine's ``ClientClass`` objects (matches compiled, options encoded
once per family)."""

from __future__ import annotations

import re

from dhcpbridge.config.classes import ClassConfig, MatchConfig
from dhcpbridge.config.model import Config
from dhcpbridge.engine.classes import ClientClass, Match
from dhcpbridge.sources.options import encode_options4, encode_options6


def _id(text: str | None) -> bytes | None:
    """A relay id as configured: text, or hex written 0x..."""
    if text is None:
        return None
    if text.startswith("0x"):
        return bytes.fromhex(text[2:].replace(":", ""))
    return text.encode()


def build_match(cfg: MatchConfig) -> Match:
    return Match(
        vendor_prefix=cfg.vendor_class,
        vendor_regex=cfg.vendor_class_regex,
        user_class=cfg.user_class,
        arch=cfg.client_arch,
        mac_prefix=bytes.fromhex(re.sub(r"[:.\-]", "", cfg.mac_prefix)) if cfg.mac_prefix else None,
        circuit_id=_id(cfg.circuit_id),
        remote_id=_id(cfg.remote_id),
        subscriber_id=_id(cfg.subscriber_id),
        duid_type=cfg.duid_type,
        relays=[(n.version, int(n.network_address), n.prefixlen) for n in cfg.relay] if cfg.relay else None,
        hostname_regex=cfg.hostname_regex,
        any_=[build_match(m) for m in cfg.any or []],
        all_=[build_match(m) for m in cfg.all or []],
        not_=build_match(cfg.not_) if cfg.not_ is not None else None,
    )


def build_class(cfg: ClassConfig) -> ClientClass:
    return ClientClass(
        cfg.name,
        build_match(cfg.match),
        encode_options4(cfg.options),
        encode_options6(cfg.options6),
        int(cfg.next_server) if cfg.next_server else 0,
        (cfg.boot_file_name or "").encode(),
        cfg.lease_time or 0,
        cfg.valid_lifetime or 0,
        cfg.preferred_lifetime or 0,
    )


def build_classes(config: Config) -> tuple[ClientClass, ...]:
    """Every ``[[class]]``, in file order."""
    return tuple(build_class(c) for c in config.class_)
