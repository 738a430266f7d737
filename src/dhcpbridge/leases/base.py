"""What every lease store shares beyond ``engine.ports.LeaseStore``: the error it raises and the
optional capabilities the server and the admin service look for (by ``isinstance`` against these
runtime-checkable protocols, never by probing attribute names).

* ``InlineStore``: ``inline`` is True when no coroutine of the store ever suspends (the embedded
  stores); the server then drives packets inline and runs the periodic saver.
* ``Checkpointing``: ``checkpoint()`` moves everything durable into the store's main file now
  (an operator's change shows there at once).
* ``CountsLeases``: ``count_by_state()`` for metrics and ``stats`` without listing every lease.
* ``QueriesLeases``: ``query(kind, state, offset, limit)``, one page of lease records in a stable
  order (for the CLI and the HTTP API, without copying a million records per request).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState


class StoreError(Exception):
    """The store cannot do its job (file locked by another server, disk full, corrupt file)."""


@runtime_checkable
class InlineStore(Protocol):
    """A store that says whether its coroutines can suspend."""

    inline: bool


@runtime_checkable
class Checkpointing(Protocol):
    def checkpoint(self) -> None: ...


@runtime_checkable
class CountsLeases(Protocol):
    def count_by_state(self) -> dict[str, int]:
        """Lease records per ``{kind}_{state}`` (e.g. ``v4_bound``), lower case."""
        ...


@runtime_checkable
class QueriesLeases(Protocol):
    async def query(
        self,
        kind: LeaseKind | None = None,
        state: LeaseState | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Lease]:
        """Records of ``kind`` in ``state`` (None: any), ordered by kind and address, from the
        ``offset``-th match, at most ``limit`` (None: all)."""
        ...


def is_inline(store: object) -> bool:
    """True when ``store`` never suspends (see ``InlineStore``)."""
    return isinstance(store, InlineStore) and bool(store.inline)


def count_key(lease: Lease) -> str:
    """The ``count_by_state`` key of one lease record."""
    return f"{lease.kind.name.lower()}_{lease.state.name.lower()}"


def matches(lease: Lease, kind: LeaseKind | None, state: LeaseState | None) -> bool:
    return (kind is None or lease.kind == kind) and (state is None or lease.state == state)
