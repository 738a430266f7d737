"""The two interfaces the engine talks through: the lease store and the sources of truth.

Both are async so that shared stores (Redis, PostgreSQL) and the HTTP bridge fit without changing
the engine; in-process implementations return without suspending, and the server drives such
coroutines to completion without scheduling a task.

Every state-changing store call is atomic in the store: ``allocate``, ``offer`` and ``commit``
succeed only when the address is free for the client at that moment, so two servers sharing one
store can never hand out the same address. Writes that must be durable before the client hears
of them (commits, releases, declines) are made durable by ``flush``; the server sends replies
only after ``flush`` returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Answer, Lease, LeaseEvent, LeaseKind
from dhcpbridge.engine.ranges import AddressRange as AddressRange


class LeaseStore(Protocol):
    """Lease storage; see the module docstring for the atomicity and durability rules."""

    async def get(self, kind: LeaseKind, address: int) -> Lease | None: ...

    async def find_client(self, kind: LeaseKind, client: bytes) -> list[Lease]:
        """Every lease record of ``client`` (any state), most recent first."""
        ...

    async def allocate(self, hold: Hold) -> Lease | None:
        """Atomically do what ``hold`` asks (see ``Hold``). Returns the client's bound lease
        unchanged when it already has one there; None when every address is taken."""
        ...

    async def offer(self, lease: Lease, now: float) -> Lease | None:
        """Atomically hold ``lease.address`` for ``lease.client`` (state OFFERED, not durable);
        None if it is not free for that client."""
        ...

    async def commit(self, lease: Lease, now: float) -> Lease | None:
        """Atomically bind ``lease.address`` to ``lease.client`` (state BOUND) if it is free for
        that client; durable once ``flush`` returns. None if another client holds it."""
        ...

    async def release(self, kind: LeaseKind, address: int, client: bytes, now: float) -> Lease | None:
        """Mark the client's lease RELEASED (the address becomes free); None if not its lease."""
        ...

    async def decline(
        self, kind: LeaseKind, address: int, client: bytes, now: float, until: float
    ) -> Lease | None:
        """Quarantine an address a client found in use (state DECLINED until ``until``)."""
        ...

    async def unhold(self, kind: LeaseKind, address: int, client: bytes) -> None:
        """Drop an OFFERED hold of ``client`` (it chose another server)."""
        ...

    async def reap(self, now: float) -> list[Lease]:
        """Expire bound leases and holds whose time is up; return the leases that expired."""
        ...

    async def leases(self, kind: LeaseKind | None = None) -> list[Lease]:
        """Every lease record (for the CLI, the API and the DNS harvester)."""
        ...

    async def flush(self) -> None:
        """Make every write so far durable."""
        ...

    async def close(self) -> None: ...


class SubnetView(Protocol):
    """The subnet the engine selected for a request, as sources see it."""

    @property
    def name(self) -> str: ...

    @property
    def pools(self) -> Sequence[AddressRange]: ...

    def contains(self, addr: int) -> bool: ...


class Query(Protocol):
    """What a source may look at: the request, normalised (same names as the bridge contract)."""

    @property
    def protocol(self) -> int: ...

    @property
    def msg_type(self) -> str: ...

    @property
    def client_mac(self) -> bytes: ...

    @property
    def client_id(self) -> bytes: ...

    @property
    def hostname(self) -> str: ...

    @property
    def relay_ip(self) -> str: ...

    @property
    def circuit_id(self) -> bytes: ...

    @property
    def remote_id(self) -> bytes: ...

    @property
    def requested_ip(self) -> int: ...

    @property
    def interface(self) -> str: ...

    @property
    def subnet(self) -> SubnetView | None:
        """The subnet the engine selected (None when the client's network is unknown)."""
        ...


class Source(Protocol):
    """A source of truth: answers a query, or says it has no answer (``Action.NONE``).

    A source may also offer a synchronous ``answer(query) -> Answer`` with the same result as
    ``ask``, raising ``dhcpbridge.engine.chain.NeedsIO`` when it cannot answer without IO (a
    cache miss); when every source of a chain has one, the engine tries that first and the
    server repeats the request as a task only when it must."""

    name: str

    async def ask(self, query: Query) -> Answer: ...

    def reserved(self) -> frozenset[int]:
        """Addresses this source assigns itself, which dynamic pools must never hand out."""
        ...


# --- optional capabilities of sources (and anything else the server owns) ----------------------
# The server finds them with ``isinstance`` against these runtime-checkable protocols.


@runtime_checkable
class LeaseListener(Protocol):
    """Wants lease events (the HTTP bridge's on-commit hook, DNS updates). Called off the packet
    path by the server's event bus, in the order the events happened; must not block."""

    def notify(self, event: LeaseEvent) -> None: ...


@runtime_checkable
class Startable(Protocol):
    """Has something to start once the event loop runs (a connection pool)."""

    async def start(self) -> None: ...


@runtime_checkable
class Closable(Protocol):
    """Holds resources to let go of when the server stops or the object is replaced."""

    async def close(self) -> None: ...


@runtime_checkable
class HasStats(Protocol):
    """Reports its own counters (shown by ``stats``)."""

    name: str

    def stats(self) -> dict[str, Any]: ...
