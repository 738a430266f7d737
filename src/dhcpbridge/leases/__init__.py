"""Lease stores behind ``dhcpbridge.engine.ports.LeaseStore``: one module per backend, opened by
URL through ``leases.registry``; ``leases.base`` holds the error and the optional capabilities.

The embedded stores are loaded on first use (``from dhcpbridge.leases import MemoryStore``), so
importing the package, as the config does for the URL check, loads no backend.
"""

from __future__ import annotations

import importlib
from typing import Any

from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.registry import open_store

_LAZY = {
    "IndexedStore": "dhcpbridge.leases.embedded.indexed",
    "MemoryStore": "dhcpbridge.leases.embedded.memory",
    "SqliteStore": "dhcpbridge.leases.embedded.sqlite",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["IndexedStore", "MemoryStore", "SqliteStore", "StoreError", "open_store"]
