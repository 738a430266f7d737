"""What a shared store's ``commit`` read of its client's records, kept for the ``find_client``
the engine runs next in the same packet (the same task, so a context variable): one round trip
less per REQUEST. Any other call of the store forgets it."""

from __future__ import annotations

import contextvars

from dhcpbridge.engine.model import Lease, LeaseKind

_KNOWN: contextvars.ContextVar[tuple[LeaseKind, bytes, list[Lease]] | None] = contextvars.ContextVar(
    "dhcpbridge_after_commit", default=None
)


def remember(kind: LeaseKind, client: bytes, records: list[Lease]) -> None:
    """``records`` of ``client`` as the commit left them (the committed one first)."""
    _KNOWN.set((kind, client, records))


def forget() -> None:
    _KNOWN.set(None)


def take(kind: LeaseKind, client: bytes) -> list[Lease] | None:
    """The records ``remember`` kept if they are ``client``'s (once), else None."""
    known = _KNOWN.get()
    if known is None:
        return None
    _KNOWN.set(None)
    return known[2] if known[0] == kind and known[1] == client else None
