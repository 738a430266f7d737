"""``memory://``: leases in process memory only, gone at exit (tests, throwaway labs)."""

from __future__ import annotations

from dhcpbridge.leases.embedded.indexed import IndexedStore


class MemoryStore(IndexedStore):
    """A lease store that keeps nothing on disk."""
