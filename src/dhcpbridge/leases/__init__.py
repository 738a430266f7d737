"""Lease stores behind ``dhcpbridge.engine.ports.LeaseStore``: one module per backend."""

from __future__ import annotations

from dhcpbridge.leases.embedded.indexed import IndexedStore
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.leases.embedded.sqlite import SqliteStore, StoreError, path_from_url


def open_store(url: str, base_dir: str | None = None, readonly: bool = False) -> IndexedStore:
    """Open the store a ``[leases] store`` URL names; raises ``StoreError`` with the reason."""
    scheme = url.split(":", 1)[0]
    if scheme == "memory":
        return MemoryStore()
    if scheme == "sqlite":
        from pathlib import Path

        path = path_from_url(url)
        if not path.is_absolute() and base_dir:
            path = Path(base_dir) / path
        sync = "full" if "sync=full" in url else "normal"
        return SqliteStore(path, sync=sync, readonly=readonly)
    raise StoreError(f"unsupported lease store {url!r}")


__all__ = ["IndexedStore", "MemoryStore", "SqliteStore", "StoreError", "open_store"]
