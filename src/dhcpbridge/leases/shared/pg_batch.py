"""The PostgreSQL store's batched binds: the ``commit`` calls queued while the previous batch ran
(at least those of one event-loop turn: the REQUESTs of one runtime batch) go to PostgreSQL as one
statement, one round trip and one transaction, instead of one each.

``CommitBatch.commit`` queues a bind and waits (``pg_pump``: one statement at a time, so the
batches grow with the load); the queued calls run together as ``COMMIT_MANY`` (``INSERT … SELECT
FROM unnest(…) ON CONFLICT … DO UPDATE … WHERE <free for the client>``, rows in address order, so
two servers' batches lock rows in the same order and never deadlock). Every row is decided as the
single-row bind decides it (``pg_sql.COMMIT``), at the batch's latest ``now``; the statement also
returns each bound client's other records, as ``COMMIT_AND_OTHERS`` does. Calls whose ``now``s
lie further apart than ``pg_pump.NOW_SLACK`` go in statements of their own, and so does a second
bind of one address in the same batch (a statement may change a row once), in the order the
calls came.

A failed statement: when PostgreSQL is unreachable every call of it fails (``StoreError``); when
PostgreSQL refused it (a row it could not take), its calls run again one by one, so only the call
that must fail fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from dhcpbridge.engine.model import Lease
from dhcpbridge.leases.addresses import addr_text
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.shared import pg_sql as q
from dhcpbridge.leases.shared.pg_pump import Pump, rounds

__all__ = [
    "COMMIT_MANY",
    "LEASE_ARRAYS",
    "CommitBatch",
    "as_arrays",
    "binary_array",
    "refused",
    "rounds",
    "unnest",
]

Rows = list[tuple[Any, ...]]
Connect = Callable[[], contextlib.AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]]

Arrays = tuple[tuple[str, str], ...]  # (parameter name, PostgreSQL type) of each array

#: The lease's own columns as the batched statements pass them: one array per column.
LEASE_ARRAYS: Arrays = (
    ("client", "bytea"),
    ("hwaddr", "bytea"),
    ("hostname", "text"),
    ("starts", "float8"),
    ("expires", "float8"),
    ("subnet", "text"),
    ("source", "text"),
    ("relay", "text"),
    ("circuit_id", "bytea"),
    ("remote_id", "bytea"),
    ("info", "jsonb"),
    ("stamp", "bigint"),
)
_ARRAYS: Arrays = (
    ("kind", "text"),
    ("address", "inet"),
    ("prefix_len", "smallint"),
    ("state", "text"),
    *LEASE_ARRAYS,
)


def unnest(arrays: Arrays, ordinality: bool = False) -> str:
    """The head of a batched statement: ``WITH i AS (SELECT * FROM unnest(`` the ``arrays``
    ``) AS i(`` their names (``WITH ORDINALITY`` numbers the rows); the caller closes the list.
    The arrays go in PostgreSQL's binary format (``%(name)b``, values from :func:`as_arrays`)."""
    params = ", ".join(f"%({name})b::{kind}[]" for name, kind in arrays)
    names = ", ".join(name for name, _ in arrays)
    return f"WITH i AS (SELECT * FROM unnest({params}){' WITH ORDINALITY' if ordinality else ''} AS i({names}"


def _json_text(value: Any) -> str:
    """A ``Jsonb`` (or a plain dict) as JSON text; PostgreSQL casts the text array to ``jsonb[]``."""
    if isinstance(value, str):
        return value
    obj = value.obj if isinstance(value, Jsonb) else value
    return json.dumps(obj, separators=(",", ":")) if obj else "{}"


# One element type per array, as psycopg's binary array dumper needs (it refuses a list that mixes
# ``int`` and ``float``, which the text format took): what each PostgreSQL type gets.
_ELEMENT: dict[str, Callable[[Any], Any]] = {
    "float8": float,
    "bigint": int,
    "smallint": int,
    "text": str,
    "inet": str,
    "bytea": bytes,
    "jsonb": _json_text,
}


def binary_array(values: list[Any], kind: str) -> list[Any]:
    """``values`` ready to go as a binary ``kind[]`` parameter: each of one Python type (None stays
    NULL). The binary format costs psycopg 0.5-0.9 µs an element against 2.2-7.8 µs in text (its
    text dumper quotes every element with a regular expression; a bytea element is hex-escaped),
    measured with 500-element arrays: the largest part of this process's CPU per batched lease."""
    to = _ELEMENT[kind]
    return [v if v is None or type(v) is to else to(v) for v in values]


def as_arrays(rows: list[dict[str, Any]], arrays: Arrays, now: float) -> dict[str, Any]:
    """The parameters of a batched statement: per name of ``arrays``, the values of ``rows``."""
    args: dict[str, Any] = {name: binary_array([row[name] for row in rows], kind) for name, kind in arrays}
    args["now"] = now
    return args


# rows: (bound, the 17 ``L_COLUMNS``, updated, stamp, the address of the bind the row answers)
COMMIT_MANY = (
    unnest(_ARRAYS)
    + f""")
), c AS (
    INSERT INTO leases AS l (kind, address, prefix_len, state, client, hwaddr, hostname, starts,
        expires, subnet, source, relay, circuit_id, remote_id, info, returning_client, stamp, updated)
    SELECT kind, address, prefix_len, state, client, hwaddr, hostname, to_timestamp(starts),
        to_timestamp(expires), subnet, source, relay, circuit_id, remote_id, info, false, stamp,
        clock_timestamp()
    FROM i ORDER BY kind, address
    ON CONFLICT (kind, address) DO UPDATE SET {q._SET}, state = 'bound', returning_client = false,
        starts = CASE WHEN {q.OWN_BOUND} THEN least(l.starts, excluded.starts) ELSE excluded.starts END
    WHERE {q.FREE}
    RETURNING l.*
)
SELECT * FROM (
    SELECT true AS bound, {q.L_COLUMNS.replace("l.", "c.")}, c.updated, c.stamp, host(c.address) AS answers
    FROM c
    UNION ALL
    SELECT false, {q.L_COLUMNS}, l.updated, l.stamp, host(c.address)
    FROM c CROSS JOIN LATERAL (
        -- one probe of leases_by_client per bound row (OFFSET 0 keeps it a lookup: as a join the
        -- planner hashed the whole table for every batch, 8 ms of 16 at 20,000 rows)
        SELECT * FROM leases o WHERE o.kind = c.kind AND o.client = c.client AND o.address <> c.address OFFSET 0
    ) l
) rows
ORDER BY answers, bound DESC, updated DESC, stamp
"""
)


class _Call:
    __slots__ = ("future", "lease", "stamp")

    def __init__(self, lease: Lease, stamp: int, future: asyncio.Future[Rows]) -> None:
        self.lease, self.stamp, self.future = lease, stamp, future

    @property
    def key(self) -> tuple[str, str]:
        return q.KIND_TEXT[self.lease.kind], addr_text(self.lease.kind, self.lease.address)

    @property
    def keys(self) -> tuple[tuple[str, str], tuple[str, bytes]]:
        """What one statement may bind once: the address, and the client (whose other records
        the statement reads as they were before it)."""
        return self.key, (q.KIND_TEXT[self.lease.kind], self.lease.client)


class CommitBatch(Pump[_Call]):
    """See the module docstring. ``connect`` gives a connection of the store (errors as
    ``StoreError``); ``one_by_one`` is the single-row bind (rows as ``COMMIT_AND_OTHERS``)."""

    def __init__(self, connect: Connect, one_by_one: Callable[[Lease, float, int], Any]) -> None:
        super().__init__()
        self._connect = connect
        self._one_by_one = one_by_one
        self.singles = 0  # binds run one by one after PostgreSQL refused their batch

    async def commit(self, lease: Lease, now: float, stamp: int) -> Rows:
        """The bind's rows (``COMMIT_AND_OTHERS``' order and columns); empty when not free."""
        future: asyncio.Future[Rows] = asyncio.get_running_loop().create_future()
        rows: Rows = await self._wait(now, _Call(lease, stamp, future))
        return rows

    async def _statement(self, now: float, calls: list[_Call]) -> None:
        args = as_arrays([q.params(call.lease, now, call.stamp) for call in calls], _ARRAYS, now)
        try:
            async with self._connect() as conn:
                cur = await conn.execute(COMMIT_MANY.encode(), args)
                rows: Rows = await cur.fetchall()
            self.statements += 1
        except StoreError as exc:
            if not refused(exc):
                for call in calls:
                    if not call.future.done():
                        call.future.set_exception(exc)
                return
            await self._each(now, calls)  # PostgreSQL refused a row: only its call must fail
            return
        answers: dict[tuple[str, str], Rows] = {}
        for r in rows:
            answers.setdefault((r[1], r[-1]), []).append(r[:-1])
        for call in calls:
            if not call.future.done():
                got = answers.get(call.key, [])
                call.future.set_result(got if got and got[0][0] else [])

    async def _each(self, now: float, calls: list[_Call]) -> None:
        for call in calls:
            self.singles += 1
            try:
                rows = await self._one_by_one(call.lease, now, call.stamp)
            except StoreError as exc:
                if not call.future.done():
                    call.future.set_exception(exc)
                continue
            if not call.future.done():
                call.future.set_result(rows)


def refused(exc: StoreError) -> bool:
    """Whether PostgreSQL answered and refused the statement (its data), not a lost connection."""
    cause = exc.__context__
    return isinstance(cause, psycopg.Error) and not isinstance(
        cause, (psycopg.OperationalError, psycopg.InterfaceError)
    )
