"""``LeaseAdmin``: the operator's lease commands (list, show, release, stats, reload), one
implementation for the control socket, the CLI (when no server runs it opens the store itself)
and the HTTP management API (``dhcpbridge.api``; its lease listing is ``search``).

Requests are the control protocol's JSON objects (``{"cmd": "leases"}``, ``{"cmd": "lease",
"address": ...}``, ``{"cmd": "release", "address": ...}``, ``{"cmd": "stats"}``,
``{"cmd": "reload"}``, ``{"cmd": "reconfigure", "client": ...}`` (an address, MAC or DUID; also
as ``"address"``), ``{"cmd": "looking-glass", "client": ..., "limit": N}``); results are
JSON-ready. Problems a caller caused (a bad address, no such
lease, no running server for ``stats``) raise ``ValueError`` with a message for the operator.
"""

from __future__ import annotations

import builtins
import ipaddress
import time
from dataclasses import dataclass
from typing import Any, Protocol

from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases.base import Checkpointing, LeaseQuery, QueriesLeases


class Running(Protocol):
    """What the admin needs of a running server (``dhcpbridge.server.Server`` has it)."""

    def snapshot(self) -> dict[str, Any]: ...

    async def snapshot_all(self) -> dict[str, Any]: ...

    async def reload(self) -> list[str]: ...

    def emit(self, event: LeaseEvent) -> None: ...

    async def reconfigure(self, client: str) -> dict[str, Any]: ...


EVERY_LEASE = LeaseQuery()


def parse_address(text: str) -> tuple[LeaseKind, int]:
    """``10.0.0.5`` -> (V4, int); ``2001:db8::5`` -> (NA, int); ``2001:db8:1::/48`` -> (PD, int)."""
    addr = ipaddress.ip_address(text.split("/")[0])
    if addr.version == 4:
        return LeaseKind.V4, int(addr)
    return (LeaseKind.PD if "/" in text else LeaseKind.NA), int(addr)


@dataclass(frozen=True)
class LeaseFilter:
    """Which lease records a search selects (the HTTP API's filters); None: any. ``client`` is
    the hex of the MAC (``hwaddr``) or of the client key (v4 client id, v6 DUID+IAID), matched as
    a prefix without separators; ``first``/``last`` an inclusive address range of one family."""

    kind: LeaseKind | None = None
    state: LeaseState | None = None
    subnet: str | None = None
    client: str | None = None
    hostname: str | None = None
    first: int | None = None
    last: int | None = None

    def matches(self, lease: Lease) -> bool:
        hostname = None if self.hostname is None else self.hostname.lower()
        for want, have in (
            (self.kind, lease.kind),
            (self.state, lease.state),
            (self.subnet, lease.subnet),
            (hostname, lease.hostname.lower()),
        ):
            if want is not None and have != want:
                return False
        if self.first is not None and lease.address < self.first:
            return False
        if self.last is not None and lease.address > self.last:
            return False
        if self.client is not None:
            want = self.client.lower().replace(":", "").replace("-", "")
            return lease.hwaddr.hex().startswith(want) or lease.client.hex().startswith(want)
        return True


Cursor = tuple[int, int]  # (kind, address) of the last record of a page
SEARCH_CHUNK = 256  # records a search reads from a querying store at a time


def _paged(rows: list[Lease], limit: int) -> tuple[list[Lease], Cursor | None]:
    page = rows[:limit]
    more = len(rows) > limit
    return page, ((int(page[-1].kind), page[-1].address) if more and page else None)


class LeaseAdmin:
    """Lease commands over a store, and with ``server`` the commands only a running server has."""

    def __init__(self, store: LeaseStore, server: Running | None = None) -> None:
        self.store = store
        self.server = server

    async def list(self, query: LeaseQuery = EVERY_LEASE) -> list[Lease]:
        """The records ``query`` selects, in store order; a page of them ordered by kind and
        address when the store can query."""
        store = self.store
        if query.paged and isinstance(store, QueriesLeases):
            return await store.query(query)
        return query.select(await store.leases(query.kind))

    async def search(
        self, where: LeaseFilter, limit: int, after: Cursor | None = None
    ) -> tuple[builtins.list[Lease], Cursor | None]:
        """One page of the records ``where`` selects, ordered by kind and address, starting after
        the cursor ``after``; the cursor of the next page (None on the last page). A cursor stays
        valid while leases come and go (it names a position, not an offset).

        A store that can query (``QueriesLeases``) is read in chunks from the cursor (kind and
        state filtered there), so a page costs what it walks, not the whole table."""
        store = self.store
        if not isinstance(store, QueriesLeases):
            rows = [lease for lease in await store.leases(where.kind) if where.matches(lease)]
            rows.sort(key=lambda lease: (int(lease.kind), lease.address))
            if after is not None:
                rows = [lease for lease in rows if (int(lease.kind), lease.address) > after]
            return _paged(rows, limit)
        if where.kind is not None and where.first is not None:
            start = (int(where.kind), where.first - 1)
            after = start if after is None or after < start else after
        chunk = max(limit + 1, SEARCH_CHUNK)
        found: builtins.list[Lease] = []
        while len(found) <= limit:
            rows = await store.query(LeaseQuery(where.kind, where.state, limit=chunk, after=after))
            found += [lease for lease in rows if where.matches(lease)]
            if len(rows) < chunk:
                break
            after = (int(rows[-1].kind), rows[-1].address)
            if where.kind is not None and where.last is not None and rows[-1].address > where.last:
                break  # past the range's end
        return _paged(found, limit)

    async def get(self, address: str) -> Lease:
        kind, addr = parse_address(address)
        lease = await self.store.get(kind, addr)
        if lease is None:
            raise ValueError(f"no lease for {address}")
        return lease

    async def release(self, address: str) -> Lease:
        """Release a lease now (the address becomes free), durably, and tell the listeners."""
        lease = await self.get(address)
        store = self.store
        released = await store.release(lease.kind, lease.address, lease.client, time.time())
        if released is None:
            raise ValueError(f"{address} is {lease.state.name.lower()}, not leased")
        await store.flush()
        if isinstance(store, Checkpointing):
            store.checkpoint()  # an operator's change shows in the SQLite file at once
        if self.server is not None:
            self.server.emit(LeaseEvent("release", released))
        return released

    async def reconfigure(self, client: str) -> dict[str, Any]:
        """Make a client renew now - the client of a lease address, or every bound lease of a
        MAC or DUID: a signed DHCPv6 RECONFIGURE / DHCPv4 FORCERENEW (``server/reconfigure.py``);
        what was sent to where."""
        return await self._running().reconfigure(client)

    async def stats(self) -> dict[str, Any]:
        """Every counter; with ``[server] workers`` summed over the workers."""
        return await self._running().snapshot_all()

    async def reload(self) -> str:
        errors = await self._running().reload()
        if errors:
            raise ValueError("reload rejected: " + "; ".join(errors))
        return "reloaded"

    def looking_glass(self, client: str, limit: Any = None) -> builtins.list[dict[str, Any]]:
        """The looking glass's view of ``client`` (``dhcpbridge.glass.decode.view``)."""
        from dhcpbridge.glass.decode import view

        glass = getattr(self._running(), "glass", None)
        if glass is None:
            raise ValueError("the looking glass is off ([looking-glass] enabled = false)")
        found = view(glass, client, int(limit) if limit else None)
        if not found:
            raise ValueError(f"no exchange of {client!r} in the looking glass")
        return found

    def _running(self) -> Running:
        if self.server is None:
            raise ValueError("no running server")
        return self.server

    async def handle(self, request: dict[str, Any]) -> Any:
        """One control-protocol request; the JSON-ready result."""
        cmd = request.get("cmd")
        if cmd == "leases":
            return [lease.as_dict() for lease in await self.list()]
        if cmd == "lease":
            return (await self.get(str(request["address"]))).as_dict()
        if cmd == "release":
            return (await self.release(str(request["address"]))).as_dict()
        if cmd == "stats":
            return await self.stats()
        if cmd == "reload":
            return await self.reload()
        if cmd == "reconfigure":
            return await self.reconfigure(str(request.get("client") or request["address"]))
        if cmd == "looking-glass":
            return self.looking_glass(str(request["client"]), request.get("limit"))
        raise ValueError(f"unknown command {cmd!r}")
