"""The only place config models become engine objects: sources, subnets, environments, engines,
user handlers. Used by the server at start and on reload, and by ``check-config``."""

from __future__ import annotations

from dhcpbridge.assemble.errors import AssemblyError
from dhcpbridge.assemble.handlers import load_handlers
from dhcpbridge.assemble.sources import build_sources
from dhcpbridge.assemble.v4 import build_engine4, build_env4
from dhcpbridge.assemble.v6 import build_engine6, build_env6

__all__ = [
    "AssemblyError",
    "build_engine4",
    "build_engine6",
    "build_env4",
    "build_env6",
    "build_sources",
    "load_handlers",
]
