"""The PostgreSQL store's batched first searches: the DISCOVERs queued while the previous batch
ran (at least those of one event-loop turn; ``pg_pump``) are searched and held in one statement
(``CLAIM_MANY``), one round trip and one transaction, instead of a statement or three each.

Each client's pick is decided as ``PostgresStore.allocate`` decides it. When the client may get
addresses of one range only (the common pool), its latest record in that range that is not
excluded comes first: held again for it if free for it (released, expired, its own offer), or
given back unchanged when it is its live binding (a client that DISCOVERs again). Otherwise, or
for a client without such a record, the first window of its own (``pg_search.first_free``): the
lowest address at or after its hint that no live lease blocks and that is not excluded, decided
as the single search decides it. Two clients of the batch that pick one address: the first (in
the order the calls came) takes it. Every hold is the same ``INSERT … ON CONFLICT … DO UPDATE …
WHERE <free for the client>`` as the single one, rows in address order, so PostgreSQL's row locks
still decide every claim. A call that got nothing here (its client has records and the pools are
several ranges, its record was not free for it, nothing was free in the first window, another
client or server took its pick, or PostgreSQL refused the statement) returns None and the store
runs its usual search for it; when PostgreSQL is unreachable the call fails (``StoreError``).
Before, a client with records always took the usual way, two or three statements of its own:
under overload most DISCOVERs come from clients seen before.

Two plan details matter for the cost (``EXPLAIN ANALYZE``, a batch of 200 in a table of 20,000
rows, 36-48 ms before, 11-16 ms after): ``pick`` is ``MATERIALIZED``, so each client's search runs
once (inlined, PostgreSQL evaluated the ``CASE`` twice: once for the sort of ``claimed``, once for
the row); and the "client has no records" check ends in ``OFFSET 0``, which keeps it one probe of
``leases_by_client`` per client (as an anti-join the planner hashed the whole table per batch).
"""

from __future__ import annotations

import asyncio

from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.leases.addresses import addr_text
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.shared import pg_sql as q
from dhcpbridge.leases.shared.pg_batch import LEASE_ARRAYS, Arrays, Connect, as_arrays, refused, unnest
from dhcpbridge.leases.shared.pg_pump import Pump
from dhcpbridge.leases.shared.pg_search import new_stamp

_ARRAYS: Arrays = (
    ("kind", "text"),
    ("lo", "inet"),
    ("hi", "inet"),
    ("prefix_len", "smallint"),
    *LEASE_ARRAYS,
    ("exclude", "text"),
    ("own_lo", "inet"),
    ("own_hi", "inet"),
    ("own_exclude", "text"),
)

_BLOCKING = q.BLOCKING.replace("%(client)s", "o.client")

CLAIM_MANY = (
    unnest(_ARRAYS, ordinality=True)
    + f""", n)
), own AS MATERIALIZED (
    SELECT i.*, (
        SELECT r.address FROM leases r WHERE r.kind = i.kind AND r.client = i.client
            AND r.address BETWEEN i.own_lo AND i.own_hi
            AND NOT r.address = ANY(string_to_array(i.own_exclude, ',')::inet[])
        ORDER BY r.updated DESC, r.stamp LIMIT 1
    ) AS own
    FROM i
), pick AS MATERIALIZED (
    SELECT o.*, CASE WHEN o.own IS NOT NULL THEN o.own ELSE
        {q.first_free("o.kind", "o.lo", "o.hi", "string_to_array(o.exclude, ',')::inet[]", _BLOCKING)}
        END AS address
    FROM own o
    WHERE o.own IS NOT NULL OR o.own_lo IS NOT NULL
       OR NOT EXISTS (SELECT 1 FROM leases x WHERE x.kind = o.kind AND x.client = o.client OFFSET 0)
), claimed AS (
{q._INSERT}
    SELECT DISTINCT ON (kind, address) kind, address, prefix_len, 'offered', client, hwaddr, hostname,
        to_timestamp(starts), to_timestamp(expires), subnet, source, relay, circuit_id, remote_id, info,
        false, stamp, clock_timestamp()
    FROM pick WHERE address IS NOT NULL
    ORDER BY kind, address, n
    ON CONFLICT (kind, address) DO UPDATE SET {q._SET}, state = 'offered', starts = excluded.starts,
        returning_client = (l.client = excluded.client AND (l.state <> 'offered' OR l.returning_client))
    WHERE {q.FREE} AND NOT {q.OWN_BOUND}
    RETURNING l.*
)
SELECT {q.L_COLUMNS.replace("l.", "c.")} FROM claimed c
UNION ALL
SELECT {q.L_COLUMNS} FROM pick p JOIN leases l ON l.kind = p.kind AND l.address = p.own
WHERE l.client = p.client AND l.state = 'bound' AND l.expires > to_timestamp(%(now)s)
"""
)


class _Claim:
    __slots__ = ("exclude", "future", "hi", "lease", "lo", "own")

    def __init__(
        self,
        lease: Lease,
        lo: int,
        hi: int,
        exclude: str,
        own: tuple[int, int, str] | None,
        future: asyncio.Future[Lease | None],
    ) -> None:
        self.lease, self.lo, self.hi, self.exclude, self.own, self.future = (
            lease,
            lo,
            hi,
            exclude,
            own,
            future,
        )

    @property
    def keys(self) -> tuple[object, object]:
        """A client once per statement (a second DISCOVER of it must see the first's hold)."""
        key = (q.KIND_TEXT[self.lease.kind], self.lease.client)
        return key, key


class ClaimBatch(Pump[_Claim]):
    """See the module docstring; ``connect`` gives a connection of the store (errors as
    ``StoreError``)."""

    def __init__(self, connect: Connect) -> None:
        super().__init__()
        self._connect = connect

    async def claim(
        self,
        lease: Lease,
        lo: int,
        hi: int,
        now: float,
        exclude: frozenset[int],
        pool: tuple[int, int] | None = None,
    ) -> Lease | None:
        """Hold for ``lease.client`` the first free address of ``lo``..``hi``; with ``pool`` (the
        first and last address of the one range the client may get), a client with records there
        gets its latest one back instead (see the module docstring); without, only a client
        without records is served. None when this batch could not (the caller searches on its
        own)."""
        kind = lease.kind
        text = ",".join(addr_text(kind, a) for a in exclude if lo <= a <= hi)
        own: tuple[int, int, str] | None = None
        if pool is not None:
            first, last = pool
            own = first, last, ",".join(addr_text(kind, a) for a in exclude if first <= a <= last)
        future: asyncio.Future[Lease | None] = asyncio.get_running_loop().create_future()
        got: Lease | None = await self._wait(now, _Claim(lease, lo, hi, text, own, future))
        return got

    async def _statement(self, now: float, calls: list[_Claim]) -> None:
        params = []
        for call in calls:
            lease = call.lease
            lease.state = LeaseState.OFFERED
            row = q.params(lease, now, new_stamp())
            row["lo"] = addr_text(lease.kind, call.lo)
            row["hi"] = addr_text(lease.kind, call.hi)
            row["exclude"] = call.exclude
            own = call.own
            row["own_lo"] = addr_text(lease.kind, own[0]) if own is not None else None
            row["own_hi"] = addr_text(lease.kind, own[1]) if own is not None else None
            row["own_exclude"] = own[2] if own is not None else ""
            params.append(row)
        args = as_arrays(params, _ARRAYS, now)
        try:
            async with self._connect() as conn:
                cur = await conn.execute(CLAIM_MANY.encode(), args)
                rows = await cur.fetchall()
            self.statements += 1
        except StoreError as exc:
            for call in calls:
                if not call.future.done():
                    if refused(exc):
                        call.future.set_result(None)  # the store's own search decides
                    else:
                        call.future.set_exception(exc)
            return
        held = {(r[0], bytes(r[3])): q.lease_from_row(r) for r in rows}
        for call in calls:
            if not call.future.done():
                call.future.set_result(held.get((q.KIND_TEXT[call.lease.kind], call.lease.client)))
