"""Bridge-only mode (issue 13) read from a config: no ``[[subnet4]]`` / ``[[subnet6]]``, one or
more ``[[source]] type = "http"``; the answers say address, mask, lease time and options, and
the engines make the link from them (``engine/v4/links.py``, ``engine/v6/links.py``)."""

from __future__ import annotations

from typing import Any

from dhcpbridge.config.model import Config, HttpSourceConfig
from dhcpbridge.sources.options import encode_options4


def has_bridge(config: Config) -> bool:
    return any(isinstance(s, HttpSourceConfig) for s in config.source)


def bridge_only(config: Config) -> bool:
    """No subnets of either family, and an HTTP source that answers."""
    return not config.subnet4 and not config.subnet6 and has_bridge(config)


def serves_v6_bridge(config: Config) -> bool:
    """DHCPv6 in bridge-only mode runs when the file has a ``[server6]`` table."""
    return bridge_only(config) and "server6" in config.model_fields_set


def check_link(config: Config) -> bool:
    """``check-subnet`` of the HTTP sources: on unless one of them turns it off."""
    return all(s.check_subnet for s in config.source if isinstance(s, HttpSourceConfig))


def bridge_env4(config: Config) -> dict[str, Any]:
    """``Env4`` keyword arguments of bridge-only mode (none otherwise)."""
    if config.subnet4 or not has_bridge(config):
        return {}
    return {
        "answer_links": True,
        "check_link": check_link(config),
        "link_options": encode_options4(config.options),
        "authoritative": config.server.authoritative,
    }


def bridge_env6(config: Config) -> dict[str, Any]:
    """``Env6`` keyword arguments of bridge-only mode (none otherwise)."""
    if config.subnet6 or not has_bridge(config):
        return {}
    return {"answer_links": True, "check_link": check_link(config)}
