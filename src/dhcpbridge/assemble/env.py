"""What the v4 and v6 environments take from the config alike: the family's source chain, the
store, host, counters and the lease-holding settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dhcpbridge.assemble.errors import AssemblyError
from dhcpbridge.assemble.sources import family_chain
from dhcpbridge.config.model import Config
from dhcpbridge.engine.ports import LeaseStore, Source
from dhcpbridge.engine.records import HostInfo, HostInfo6
from dhcpbridge.engine.stats import Stats


def shared_env(
    config: Config,
    family: int,
    sources: Sequence[Source],
    store: LeaseStore,
    host: HostInfo | HostInfo6,
    stats: Stats,
) -> dict[str, Any]:
    """Keyword arguments of ``Env4`` / ``Env6`` that are the same for both families."""
    chain = family_chain(sources, family)
    ports = config.server if family == 4 else config.server6
    return {
        "sources": chain,
        "store": store,
        "host": host,
        "stats": stats,
        "offer_hold": config.server.offer_hold,
        "decline_probation": config.server.decline_probation,
        "client_port": ports.client_port,
        "relay_port": ports.relay_port,
        "reserved": chain.reserved(),
        "reconfigure_secret": reconfigure_secret(config),
    }


def reconfigure_secret(config: Config) -> bytes:
    """The secret of ``[server] reconfigure-key-file`` (b"" when unset); ``AssemblyError`` when
    it cannot be read or is shorter than 16 bytes."""
    name = config.server.reconfigure_key_file
    if name is None:
        return b""
    path = config.resolve_path(str(name))
    try:
        secret = path.read_bytes().strip()
    except OSError as exc:
        raise AssemblyError([f"server.reconfigure-key-file: {path}: {exc.strerror or exc}"]) from None
    if len(secret) < 16:
        raise AssemblyError([f"server.reconfigure-key-file: {path}: fewer than 16 bytes of secret"])
    return secret
