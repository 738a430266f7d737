"""The PostgreSQL store's search for a free address in a client's pools.

The ranges are searched as one sequence from the client's hint, wrapping around, exactly as the
embedded ``LeaseIndex.allocate`` does: ranges of single addresses with one statement per window
(``pg_sql.CLAIM_FIRST_FREE``: search and hold together), delegated-prefix ranges member by
member, and ranges too big to search (an IPv6 /64) by the embedded index's probe sequence. Every
hold goes through the store's atomic ``hold``; one another server won first makes the search go on.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import psycopg

from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.engine.ports import AddressRange
from dhcpbridge.leases import ranges
from dhcpbridge.leases.addresses import addr_int, addr_text
from dhcpbridge.leases.ranges import range_step
from dhcpbridge.leases.shared import pg_sql as q

CLAIM_RETRIES = 16  # another server won the address we picked: pick again (bounded)
FIRST_CHUNK = 256  # addresses in the first search window (doubled for each next one)

Hold = Callable[[psycopg.AsyncConnection[Any], Lease, float], Awaitable[Lease | None]]


def new_stamp() -> int:
    """A random write stamp (see ``pg_sql.FLUSH``)."""
    return random.getrandbits(63)


async def first_free(
    conn: psycopg.AsyncConnection[Any],
    hold: Hold,
    lease: Lease,
    lo: int,
    hi: int,
    now: float,
    exclude: frozenset[int],
    only_new: bool = False,
) -> tuple[Lease | None, int]:
    """Search and claim in one statement: the lowest address of ``lo``..``hi`` free for the
    client; searched again when another server claimed it between the search and the claim.
    With ``only_new``, only for a client without records: (None, how many it has) otherwise."""
    kind = lease.kind
    lease.state = LeaseState.OFFERED
    args = q.params(lease, now, 0)
    args["only_new"] = only_new
    chunk = FIRST_CHUNK
    while lo <= hi:  # windows of doubling size: a few rows per search, log2(pool) at worst
        end = min(hi, lo + chunk - 1)
        args["lo"] = addr_text(kind, lo)
        args["hi"] = addr_text(kind, end)
        args["exclude"] = [addr_text(kind, a) for a in exclude if lo <= a <= end]
        for _ in range(CLAIM_RETRIES):
            args["stamp"] = new_stamp()
            cur = await conn.execute(q.CLAIM_FIRST_FREE.encode(), args)
            row = await cur.fetchone()
            if row is None:
                return None, 0
            if only_new and row[1]:
                return None, int(row[1])
            if not row[0]:
                break  # nothing free in this window
            if row[2] is not None:
                return q.lease_from_row(row[2:]), 0
        else:
            return None, 0  # lost every race: let the client ask again
        lo, chunk = end + 1, chunk * 2
    return None, 0


async def claim_first_of(
    conn: psycopg.AsyncConnection[Any],
    hold: Hold,
    lease: Lease,
    candidates: list[int],
    now: float,
) -> Lease | None:
    """Hold the first of ``candidates`` (in order) that is free for the client."""
    kind = lease.kind
    cur = await conn.execute(
        q.BLOCKED_AMONG.encode(),
        {
            "kind": q.KIND_TEXT[kind],
            "addresses": [addr_text(kind, a) for a in candidates],
            "client": lease.client,
            "now": now,
        },
    )
    blocked = {addr_int(kind, r[0]) for r in await cur.fetchall()}
    return await _hold_first(conn, hold, lease, candidates, blocked, now)


async def _hold_first(
    conn: psycopg.AsyncConnection[Any],
    hold: Hold,
    lease: Lease,
    addresses: Iterable[int],
    blocked: set[int],
    now: float,
    exclude: frozenset[int] = frozenset(),
) -> Lease | None:
    """Hold the first of ``addresses`` (not ``blocked`` nor excluded) that ``hold`` wins for the client."""
    for addr in addresses:
        if addr in blocked or addr in exclude:
            continue
        lease.address = addr
        got = await hold(conn, lease, now)
        if got is not None:
            return got
    return None


async def probe(
    conn: psycopg.AsyncConnection[Any],
    hold: Hold,
    lease: Lease,
    r: AddressRange,
    now: float,
    hint: int,
    exclude: frozenset[int],
) -> Lease | None:
    """A range too big to search: the embedded index's probe sequence from ``hint``."""
    candidates = []
    for attempt in range(ranges.PROBES):
        addr = ranges.probe(r, hint, attempt)
        if addr not in exclude:
            candidates.append(addr)
    return await claim_first_of(conn, hold, lease, candidates, now)


async def first_free_member(
    conn: psycopg.AsyncConnection[Any],
    hold: Hold,
    lease: Lease,
    r: AddressRange,
    lo: int,
    hi: int,
    now: float,
    exclude: frozenset[int],
) -> Lease | None:
    """A stepped range (delegated prefixes): the first free member at offsets ``lo``..``hi``-1."""
    kind, step = lease.kind, range_step(r)
    if lo >= hi:
        return None
    cur = await conn.execute(
        q.BLOCKED_BETWEEN.encode(),
        {
            "kind": q.KIND_TEXT[kind],
            "lo": addr_text(kind, r.first + lo * step),
            "hi": addr_text(kind, r.first + (hi - 1) * step),
            "client": lease.client,
            "now": now,
        },
    )
    blocked = {addr_int(kind, row[0]) for row in await cur.fetchall()}
    members = (r.first + k * step for k in range(lo, hi))
    return await _hold_first(conn, hold, lease, members, blocked, now, exclude)
