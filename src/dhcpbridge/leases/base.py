"""What every lease store shares beyond ``engine.ports.LeaseStore``: the error it raises and the
optional capabilities the server and the admin service look for (by ``isinstance`` against these
runtime-checkable protocols, never by probing attribute names).

* ``InlineStore``: ``inline`` is True when no coroutine of the store ever suspends (the embedded
  stores); the server then drives packets inline and runs the periodic saver.
* ``Checkpointing``: ``checkpoint()`` moves everything durable into the store's main file now
  (an operator's change shows there at once).
* ``CountsLeases``: ``count_by_state()`` for metrics and ``stats`` without listing every lease.
* ``QueriesLeases``: ``query(LeaseQuery(kind, state, offset, limit, after))``, one page of records
  ordered by kind and address, from a cursor (for the CLI and the HTTP API, without copying a
  million records per request).
* ``ReportsHealth``: ``failing()``, while flushes fail (how many in a row, for how many seconds);
  the server's ``/healthz`` and its exit code tell a supervisor when the store is gone.
* ``SharedStore``: several servers (or ``[server] workers``) use the store at once; it hands out
  time-limited roles (``claim_role("reaper", owner, ttl)``) so one server reaps at a time, and a
  single-writer store (SQLite, memory) is recognised by not being one.
* ``WatchesChanges``: ``watch(emit)`` hands other servers' lease changes to this server's event bus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState


class StoreError(Exception):
    """The store cannot do its job (file locked by another server, disk full, corrupt file)."""


class StoreBusy(StoreError):
    """The store is up, but more calls wait for it than it queues (a shared store's connection
    pool is full): this server is overloaded, the store did not fail. The packet is dropped as
    ``overload``; no outage is logged or reported on ``/healthz``."""


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


@dataclass(frozen=True)
class LeaseQuery:
    """Which lease records to list: of ``kind`` in ``state`` (None: any), ordered by kind and
    address after the cursor ``after`` (``(kind, address)`` of the last record already seen;
    None: from the start), from the ``offset``-th match, at most ``limit`` (None: all)."""

    kind: LeaseKind | None = None
    state: LeaseState | None = None
    offset: int = 0
    limit: int | None = None
    after: tuple[int, int] | None = None

    @property
    def paged(self) -> bool:
        return bool(self.offset) or self.limit is not None or self.after is not None

    def matches(self, lease: Lease) -> bool:
        return (
            (self.kind is None or lease.kind == self.kind)
            and (self.state is None or lease.state == self.state)
            and (self.after is None or (int(lease.kind), lease.address) > self.after)
        )

    def select(self, leases: Iterable[Lease]) -> list[Lease]:
        """The matching records of ``leases`` (in their order), paged."""
        rows = [lease for lease in leases if self.matches(lease)]
        if not self.paged:
            return rows
        return rows[self.offset : None if self.limit is None else self.offset + self.limit]


@runtime_checkable
class QueriesLeases(Protocol):
    async def query(self, query: LeaseQuery) -> list[Lease]:
        """The records ``query`` selects, ordered by kind and address."""
        ...


@runtime_checkable
class ReportsHealth(Protocol):
    def failing(self) -> tuple[int, float] | None:
        """(consecutive failed flushes, seconds since the first) while flushes fail, else None."""
        ...


@runtime_checkable
class SharedStore(Protocol):
    """A store several server processes write at once (Redis, PostgreSQL)."""

    async def claim_role(self, role: str, owner: str, ttl: float) -> bool:
        """Take or keep ``role`` for ``owner`` for ``ttl`` seconds; True while ``owner`` holds it
        (another owner's unexpired claim makes it False). Atomic in the store."""
        ...


@runtime_checkable
class CapsDuidLeases(Protocol):
    """A shared store that enforces ``[server6] max-leases-per-duid`` inside its claims (an
    allocation or commit of a new lease for an IA whose DUID holds ``duid_cap`` is refused), as
    the engine cannot count a DUID's leases synchronously there. A method, not an attribute, so
    that a wrapper (``RenewFromCache``) passes it on to the store it wraps."""

    def limit_leases_per_duid(self, cap: int) -> None:
        """Enforce ``cap`` from now on (0: no cap)."""
        ...


@runtime_checkable
class WatchesChanges(Protocol):
    """A shared store that tells this server about other servers' lease changes."""

    async def watch(self, emit: Callable[[LeaseEvent], None]) -> None:
        """Call ``emit`` with a ``LeaseEvent`` for each change another server made (until cancelled)."""
        ...


def is_shared(store: object) -> bool:
    """True when several servers may use ``store`` at once (see ``SharedStore``)."""
    return isinstance(store, SharedStore)


def is_inline(store: object) -> bool:
    """True when ``store`` never suspends (see ``InlineStore``)."""
    return isinstance(store, InlineStore) and bool(store.inline)


def count_key(lease: Lease) -> str:
    """The ``count_by_state`` key of one lease record."""
    return f"{lease.kind.name.lower()}_{lease.state.name.lower()}"


def lease_of_row(
    row: Sequence[Any], kind: LeaseKind, address: int, state: LeaseState, info: dict[str, Any] | None
) -> Lease:
    """The lease of a row in the SQL stores' column order (kind, address, prefix_len, client, state,
    starts, expires, hwaddr, hostname, subnet, source, relay, circuit_id, remote_id, info); the
    caller decodes the columns each database types its own way (kind, address, state, info)."""
    return Lease(
        address=address,
        client=bytes(row[3]),
        state=state,
        starts=float(row[5]),
        expires=float(row[6]),
        kind=kind,
        prefix_len=int(row[2]),
        hwaddr=bytes(row[7]),
        hostname=row[8],
        subnet=row[9],
        source=row[10],
        relay=row[11],
        circuit_id=bytes(row[12]),
        remote_id=bytes(row[13]),
        info=info,
    )
