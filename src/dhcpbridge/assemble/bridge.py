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


def unkept_source(config: Config) -> dict[str, Any]:
    """With ``store = "none"``, RELEASE and DECLINE have nothing to free here: they go to the first
    HTTP source with an ``on-commit`` hook as lease events (``unkept_source``: its name, "" when
    no source has a hook)."""
    if config.leases.store.split(":", 1)[0] != "none":
        return {}
    hooks = [s.name for s in config.source if isinstance(s, HttpSourceConfig) and s.on_commit]
    return {"unkept_source": hooks[0] if hooks else ""}


def bridge_env4(config: Config) -> dict[str, Any]:
    """``Env4`` keyword arguments of bridge-only mode (none otherwise)."""
    if config.subnet4 or not has_bridge(config):
        return unkept_source(config)
    return {
        **unkept_source(config),
        "answer_links": True,
        "check_link": check_link(config),
        "link_options": encode_options4(config.options),
        "authoritative": config.server.authoritative,
    }


def bridge_env6(config: Config) -> dict[str, Any]:
    """``Env6`` keyword arguments of bridge-only mode (none otherwise)."""
    if config.subnet6 or not has_bridge(config):
        return unkept_source(config)
    return {"answer_links": True, "check_link": check_link(config), **unkept_source(config)}
