"""``postgresql://user@host:5432/dbname``: a lease store several dhcpbridge servers share.

Every claim (``allocate``, ``offer``, ``commit``, ``release``, ``decline``, ``unhold``) is one
statement that PostgreSQL decides under its row locks (``INSERT … ON CONFLICT … DO UPDATE …
WHERE <free for this client>``, see ``pg_sql``), committed at once so every server sees it, but
without waiting for the disk (``synchronous_commit = off`` on the claim connections); the binds
(``commit``) go in batches, one statement each (``pg_batch``), and so do the first searches of
new clients (``pg_claims``): one statement of each at a time, the calls made meanwhile in the
next (``pg_pump``), so the batches grow with the load. ``flush``
is the group commit: one transaction per batch of the runtime checks, by its write stamp, every
row this server changed since the last flush, writes again a row a PostgreSQL crash lost, beats
the server's heartbeat row and COMMITs synchronously, so when it returns the whole batch is on
disk; the server sends its ACKs only then. A flush that fails keeps its rows for the next one.

While PostgreSQL is unreachable every call raises ``StoreError`` (the packet is dropped, no ACK
is sent), ``failing()`` says since when (``/healthz``), and the pool reconnects by itself.
The schema is created and upgraded by ``dhcpbridge db init|upgrade URL`` (``pg_schema``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, TooManyRequests

from dhcpbridge import logs
from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.leases.addresses import addr_text
from dhcpbridge.leases.base import LeaseQuery, StoreBusy, StoreError
from dhcpbridge.leases.ranges import MAP_LIMIT, in_ranges, range_size, range_step, segments
from dhcpbridge.leases.shared import after_commit, pg_batch, pg_claims, pg_notify, pg_schema, pg_stats
from dhcpbridge.leases.shared import pg_search as search
from dhcpbridge.leases.shared import pg_sql as q
from dhcpbridge.leases.shared.pg_batch import binary_array
from dhcpbridge.leases.shared.pg_search import new_stamp

log = logs.get("dhcpbridge.leases")

POOL_SIZE = 8
CONNECT_WAIT = 1.0  # seconds a call waits for a connection before it fails (StoreError)
MAX_WAITING = 8  # calls queued per pool connection; more fail at once (overload: shed, do not queue)
COUNT_REFRESH = 1.0  # seconds the cached ``count_by_state`` may lag


async def generic_plans(conn: psycopg.AsyncConnection[Any]) -> None:
    """Plan each prepared statement once. psycopg prepares a statement on its fifth run; PostgreSQL
    then plans it for every run while the plan for the values at hand looks cheaper than the
    generic one, which for the batched statements (an ``unnest`` of arrays: one row at low load)
    it always does: 2-3 ms of planning per statement, more than the statement itself (measured
    with one DORA at a time: 4.6 ms of PostgreSQL CPU per DORA with three statements)."""
    await conn.execute("SET plan_cache_mode = force_generic_plan")


class PostgresStore:
    """See the module docstring; implements ``engine.ports.LeaseStore`` and the ``leases.base``
    capabilities ``CountsLeases``, ``QueriesLeases``, ``ReportsHealth`` and ``SharedStore``."""

    def __init__(self, url: str, pool_size: int = POOL_SIZE, owner: str = "") -> None:
        self.url = url
        self.pool_size = pool_size
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.retention = 86400.0
        self.duid_cap = 0  # [server6] max-leases-per-duid (``limit_leases_per_duid``), 0: none
        self.inline = False  # every call is a round trip (``leases.base.InlineStore``)
        self._pool: AsyncConnectionPool[Any] | None = None
        self._flush_pool: AsyncConnectionPool[Any] | None = None
        self._opening: asyncio.Lock | None = None
        self._flush_lock: asyncio.Lock | None = None
        self._checked = False
        self._closed = False
        # changes the next flush makes durable: (lease, write stamp, time of the write)
        self._pending: dict[tuple[LeaseKind, int], tuple[Lease, int, float]] = {}
        self._counts: dict[str, int] = {}
        self._counted_at = 0.0
        self._counting: asyncio.Task[None] | None = None
        self._growth = pg_stats.Growth()  # when to ANALYZE the table (see pg_stats)
        self._analyzing: asyncio.Task[None] | None = None
        self.errors = 0  # consecutive calls that failed
        self._failing_since = 0.0
        self.flushes = 0
        self.rewritten = 0  # rows a flush had to write again (lost by a PostgreSQL crash)
        self._commits = pg_batch.CommitBatch(self._conn, self._commit_one)  # a turn's binds at once
        self._claims = pg_claims.ClaimBatch(self._conn)  # a turn's first searches at once

    # --- connections ------------------------------------------------------------------------
    async def _open(self) -> tuple[AsyncConnectionPool[Any], AsyncConnectionPool[Any]]:
        if self._pool is not None and self._flush_pool is not None:
            return self._pool, self._flush_pool
        if self._closed:
            raise StoreError("the PostgreSQL store is closed")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None or self._flush_pool is None:

                async def no_wait(conn: psycopg.AsyncConnection[Any]) -> None:
                    await conn.execute("SET synchronous_commit = off")
                    await generic_plans(conn)

                common: dict[str, Any] = {
                    "open": False,
                    "timeout": CONNECT_WAIT,
                    "reconnect_timeout": 24 * 3600.0,
                    "kwargs": {"autocommit": True, "connect_timeout": 5},
                }
                pool = AsyncConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.pool_size,
                    configure=no_wait,
                    max_waiting=MAX_WAITING * self.pool_size,
                    **common,
                )
                flush_pool = AsyncConnectionPool(
                    self.url, min_size=1, max_size=1, configure=generic_plans, **common
                )
                await pool.open(wait=False)
                await flush_pool.open(wait=False)
                self._pool, self._flush_pool = pool, flush_pool
        assert self._pool is not None and self._flush_pool is not None
        return self._pool, self._flush_pool

    @contextlib.asynccontextmanager
    async def _conn(self, flush: bool = False) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection of the pool; any database error becomes ``StoreError`` (and is counted
        for ``failing``)."""
        pool, flush_pool = await self._open()
        try:
            async with (flush_pool if flush else pool).connection() as conn:
                if not self._checked:
                    try:
                        await self._check_schema(conn)
                    except StoreError as exc:
                        self._failed(exc)  # logged once, and /healthz tells
                        raise
                yield conn
        except TooManyRequests:  # PostgreSQL answers; this server has more calls than connections
            raise StoreBusy("PostgreSQL: every pool connection is busy and its queue is full") from None
        except psycopg.Error as exc:  # PoolTimeout is one too
            self._failed(exc)
            raise StoreError(f"PostgreSQL: {str(exc).strip() or type(exc).__name__}") from None
        self._succeeded()

    async def _check_schema(self, conn: psycopg.AsyncConnection[Any]) -> None:
        cur = await conn.execute("SELECT to_regclass('schema_version') IS NOT NULL")
        row = await cur.fetchone()
        found: int | None = None
        if row is not None and row[0]:
            cur = await conn.execute("SELECT max(version) FROM schema_version")
            row = await cur.fetchone()
            found = int(row[0]) if row is not None and row[0] is not None else 0
        if found != pg_schema.LATEST:
            what = "no dhcpbridge schema" if found is None else f"schema version {found}"
            fix = "dhcpbridge db init URL" if found is None else "dhcpbridge db upgrade URL"
            raise StoreError(
                f"the database has {what}, this dhcpbridge needs {pg_schema.LATEST}: run `{fix}`"
            )
        self._checked = True

    def check_now(self) -> None:
        """At start: ``StoreError`` when the database has not the schema this code needs; an
        unreachable server is only logged (the pool connects when it can)."""
        try:
            with pg_schema.connect(self.url, timeout=5) as conn:
                pg_schema.check(conn, "the database")
        except StoreError as exc:
            if "cannot connect" not in str(exc):
                raise
            log.warning("PostgreSQL not reachable at start; leases are refused until it is", error=str(exc))
            return
        self._checked = True

    def _failed(self, exc: Exception) -> None:
        if not self.errors:
            self._failing_since = time.monotonic()
            log.error("PostgreSQL lease store unavailable; no lease is granted meanwhile", error=str(exc))
        self.errors += 1

    def _succeeded(self) -> None:
        if self.errors:
            log.warning("PostgreSQL lease store reachable again", failed_calls=self.errors)
            self.errors = 0

    def failing(self) -> tuple[int, float] | None:
        """(consecutive failed calls, seconds since the first) while PostgreSQL fails; else None."""
        if not self.errors:
            return None
        return self.errors, time.monotonic() - self._failing_since

    async def _one(self, sql: str, args: Any) -> tuple[Any, ...] | None:
        async with self._conn() as conn:
            cur = await conn.execute(sql.encode(), args)
            row: tuple[Any, ...] | None = await cur.fetchone() if cur.description else None
            return row

    async def _all(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        async with self._conn() as conn:
            cur = await conn.execute(sql.encode(), args)
            rows: list[tuple[Any, ...]] = await cur.fetchall()
            return rows

    def _durable(self, row: tuple[Any, ...], stamp: int) -> Lease:
        """Remember a change the next ``flush`` must make durable."""
        lease = q.lease_from_row(row)
        self._pending[(lease.kind, lease.address)] = (lease, stamp, float(row[16]))
        return lease

    # --- reads ------------------------------------------------------------------------------
    async def get(self, kind: LeaseKind, address: int) -> Lease | None:
        row = await self._one(q.GET, (q.KIND_TEXT[kind], addr_text(kind, address)))
        return q.lease_from_row(row) if row is not None else None

    async def find_client(self, kind: LeaseKind, client: bytes) -> list[Lease]:
        known = after_commit.take(kind, client)
        if known is not None:
            return known
        rows = await self._all(q.FIND_CLIENT, (q.KIND_TEXT[kind], client))
        return [q.lease_from_row(r) for r in rows]

    async def leases(self, kind: LeaseKind | None = None) -> list[Lease]:
        if kind is None:
            rows = await self._all(q.ALL)
        else:
            rows = await self._all(q.ALL_OF_KIND, (q.KIND_TEXT[kind],))
        return [q.lease_from_row(r) for r in rows]

    async def query(self, query: LeaseQuery) -> list[Lease]:
        """One page of records, ordered by kind and address (``leases.base.QueriesLeases``)."""
        where: list[str] = []
        args: list[Any] = []
        if query.kind is not None:
            where.append("kind = %s")
            args.append(q.KIND_TEXT[query.kind])
        if query.state is not None:
            where.append("state = %s")
            args.append(q.STATE_TEXT[query.state])
        if query.after is not None:  # keyset: the (kind, address) order's index, not an offset
            kind, address = query.after
            after = LeaseKind(kind)
            where.append(f"({q.KIND_ORDER} > %s OR ({q.KIND_ORDER} = %s AND address > %s::inet))")
            args += [kind, kind, addr_text(after, address)]
        sql = f"SELECT {q.COLUMNS} FROM leases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {q.KIND_ORDER}, address OFFSET %s"
        args.append(query.offset)
        if query.limit is not None:
            sql += " LIMIT %s"
            args.append(query.limit)
        return [q.lease_from_row(r) for r in await self._all(sql, args)]

    def count_by_state(self) -> dict[str, int]:
        """Records per ``{kind}_{state}`` (``leases.base.CountsLeases``): a cached count, refreshed
        in the background when it is older than a second (metrics must not wait for the database)."""
        now = time.monotonic()
        if not self._closed and now - self._counted_at >= COUNT_REFRESH and self._counting is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return dict(self._counts)
            self._counted_at = now
            self._counting = loop.create_task(self._count())
        return dict(self._counts)

    async def _count(self) -> None:
        try:
            rows = await self._all(q.COUNTS)
            names = {"v4": "v4", "na": "na", "pd": "pd"}
            self._counts = {f"{names[k]}_{s}": int(n) for k, s, n in rows}
        except StoreError:
            pass
        finally:
            self._counting = None

    # --- claims -----------------------------------------------------------------------------
    async def _hold(self, conn: psycopg.AsyncConnection[Any], lease: Lease, now: float) -> Lease | None:
        """Hold ``lease.address`` as OFFERED for its client if free for it; the client's own live
        binding there comes back unchanged."""
        lease.state = LeaseState.OFFERED
        cur = await conn.execute(q.HOLD.encode(), q.params(lease, now, new_stamp()))
        row = await cur.fetchone()
        if row is not None:
            return q.lease_from_row(row)
        cur = await conn.execute(
            q.GET.encode(), (q.KIND_TEXT[lease.kind], addr_text(lease.kind, lease.address))
        )
        row = await cur.fetchone()
        current = q.lease_from_row(row) if row is not None else None
        if (
            current is not None
            and current.client == lease.client
            and current.state == LeaseState.BOUND
            and current.expires > now
        ):
            return current
        return None

    async def offer(self, lease: Lease, now: float) -> Lease | None:
        after_commit.forget()
        async with self._conn() as conn:
            return await self._hold(conn, lease, now)

    async def commit(self, lease: Lease, now: float) -> Lease | None:
        lease.state = LeaseState.BOUND
        stamp = new_stamp()
        after_commit.forget()
        if self._capped(lease):
            async with self._conn() as conn, conn.transaction():
                if not await self._duid_room(conn, lease, now):
                    return None
                cur = await conn.execute(q.COMMIT_AND_OTHERS.encode(), q.params(lease, now, stamp))
                rows = await cur.fetchall()
        else:
            rows = await self._commits.commit(lease, now, stamp)
        if not rows or not rows[0][0]:
            return None
        records = [q.lease_from_row(r[1:-2]) for r in rows]
        after_commit.remember(lease.kind, lease.client, records)
        return self._durable(rows[0][1:-2], stamp)

    async def _commit_one(self, lease: Lease, now: float, stamp: int) -> list[tuple[Any, ...]]:
        """One bind on its own (``pg_batch`` runs a refused batch's binds this way)."""
        return await self._all(q.COMMIT_AND_OTHERS, q.params(lease, now, stamp))

    async def release(self, kind: LeaseKind, address: int, client: bytes, now: float) -> Lease | None:
        after_commit.forget()
        stamp = new_stamp()
        args = {"kind": q.KIND_TEXT[kind], "address": addr_text(kind, address), "client": client}
        row = await self._one(q.RELEASE, {**args, "now": now, "stamp": stamp})
        return self._durable(row, stamp) if row is not None else None

    async def decline(
        self, kind: LeaseKind, address: int, client: bytes, now: float, until: float
    ) -> Lease | None:
        after_commit.forget()
        stamp = new_stamp()
        args = {"kind": q.KIND_TEXT[kind], "address": addr_text(kind, address), "client": client}
        row = await self._one(q.DECLINE, {**args, "now": now, "until": until, "stamp": stamp})
        return self._durable(row, stamp) if row is not None else None

    async def unhold(self, kind: LeaseKind, address: int, client: bytes) -> None:
        after_commit.forget()
        args = {"kind": q.KIND_TEXT[kind], "address": addr_text(kind, address), "client": client}
        await self._one(q.UNHOLD, {**args, "stamp": new_stamp()})

    async def allocate(self, hold: Hold) -> Lease | None:
        """As ``LeaseIndex.allocate``: the client's own latest address in ``ranges``, else
        ``prefer``, else the first free address from ``hint``; each claim is atomic, and a claim
        another server won first makes the search go on."""
        after_commit.forget()
        if not self._capped(hold.lease):
            got = await self._first_claim(hold)
            if got is not None:
                return got
        async with self._conn() as conn:
            if not self._capped(hold.lease):
                return await self._allocate(conn, hold)
            async with conn.transaction():  # the DUID's lock is held until the claim is in
                if not await self._duid_room(conn, hold.lease, hold.now):
                    return None
                return await self._allocate(conn, hold)

    async def _first_claim(self, hold: Hold) -> Lease | None:
        """The search in the first window from the client's hint (or, in a single range, the
        client's own latest address there), batched with the other DISCOVERs of this loop turn
        (``pg_claims``); None: search the usual way."""
        lease, ranges, now, hint, exclude, prefer = hold.parts()
        if prefer:
            return None
        pieces = segments(ranges, hint)
        if not pieces or range_step(pieces[0][0]) != 1 or range_size(pieces[0][0]) > MAP_LIMIT:
            return None
        r, lo, hi = pieces[0]
        first = r.first + lo
        last = min(r.first + hi - 1, first + search.FIRST_CHUNK - 1)
        pool = (ranges[0].first, ranges[0].last) if len(ranges) == 1 else None
        return await self._claims.claim(lease, first, last, now, exclude, pool)

    async def _allocate(self, conn: psycopg.AsyncConnection[Any], hold: Hold) -> Lease | None:
        lease, ranges, now, hint, exclude, prefer = hold.parts()
        kind, client = lease.kind, lease.client
        pieces = segments(ranges, hint)
        if not prefer and pieces and range_step(pieces[0][0]) == 1 and range_size(pieces[0][0]) <= MAP_LIMIT:
            # a client without records (most DISCOVERs of new clients): search and hold in the
            # first piece in one statement; one with records goes the long way below
            r, lo, hi = pieces[0]
            got, _ = await search.first_free(
                conn, self._hold, lease, r.first + lo, r.first + hi - 1, now, exclude, only_new=True
            )
            if got is not None:
                return got
        cur = await conn.execute(q.FIND_CLIENT.encode(), (q.KIND_TEXT[kind], client))
        for row in await cur.fetchall():
            current = q.lease_from_row(row)
            addr = current.address
            if addr not in exclude and in_ranges(ranges, addr):
                if current.is_free_for(client, now):
                    lease.address = addr
                    got = await self._hold(conn, lease, now)
                    if got is not None:
                        return got
                break
        if prefer and prefer not in exclude and in_ranges(ranges, prefer):
            lease.address = prefer
            got = await self._hold(conn, lease, now)
            if got is not None:
                return got
        for r, lo, hi in pieces:
            size = range_size(r)
            if size > MAP_LIMIT:
                got = await search.probe(conn, self._hold, lease, r, now, hint, exclude)
            elif range_step(r) == 1:
                got, _ = await search.first_free(
                    conn, self._hold, lease, r.first + lo, r.first + hi - 1, now, exclude
                )
            else:
                got = await search.first_free_member(conn, self._hold, lease, r, lo, hi, now, exclude)
            if got is not None:
                return got
        return None

    def _capped(self, lease: Lease) -> bool:
        """Whether a new lease of ``lease``'s IA is subject to ``duid_cap``."""
        return self.duid_cap > 0 and lease.kind != LeaseKind.V4 and len(lease.client) > 4

    async def _duid_room(self, conn: psycopg.AsyncConnection[Any], lease: Lease, now: float) -> bool:
        """max-leases-per-duid, inside the claim's transaction: take the DUID's advisory lock (other
        servers' claims for it wait until this one is in), then whether the IA may get a new lease."""
        duid = lease.client[4:]
        key = int.from_bytes(hashlib.blake2b(duid, digest_size=8).digest(), "big", signed=True)
        await conn.execute(q.DUID_LOCK.encode(), (key,))
        args = {"kind": q.KIND_TEXT[lease.kind], "client": lease.client, "duid": duid, "now": now}
        cur = await conn.execute(q.DUID_ROOM.encode(), {**args, "cap": self.duid_cap})
        row = await cur.fetchone()
        return bool(row and row[0])

    # --- expiry, roles ----------------------------------------------------------------------
    async def reap(self, now: float) -> list[Lease]:
        stamp = new_stamp()
        expired: list[Lease] = []
        async with self._conn() as conn:
            cur = await conn.execute(q.REAP.encode(), {"now": now, "stamp": stamp})
            rows = await cur.fetchall()
            await conn.execute(q.PURGE.encode(), {"before": now - self.retention})
        for row in sorted(rows, key=lambda r: (float(r[7]), r[2])):
            lease = self._durable(row[1:], stamp)
            if row[0]:
                expired.append(lease)
        return expired

    async def claim_role(self, role: str, owner: str, ttl: float) -> bool:
        """Take or keep ``role`` for ``owner`` (``leases.base.SharedStore``); PostgreSQL's clock."""
        row = await self._one(q.CLAIM_ROLE, {"role": role, "owner": owner, "ttl": float(ttl)})
        return row is not None

    # --- group commit -----------------------------------------------------------------------
    async def flush(self) -> None:
        """Make every change so far durable (see the module docstring); ``StoreError`` when it
        cannot, and the changes stay for the next flush."""
        if self._flush_lock is None:
            self._flush_lock = asyncio.Lock()
        async with self._flush_lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return
            try:
                await self._write(list(batch.values()))
            except StoreError:
                for key, value in batch.items():
                    self._pending.setdefault(key, value)  # a newer change of the row wins
                raise

    async def _write(self, batch: list[tuple[Lease, int, float]]) -> None:
        cols: dict[str, list[Any]] = {name: [] for name, _ in q.FLUSH_ARRAYS}
        for lease, stamp, updated in batch:
            cols["kind"].append(q.KIND_TEXT[lease.kind])
            cols["address"].append(addr_text(lease.kind, lease.address))
            cols["prefix_len"].append(lease.prefix_len)
            cols["state"].append(q.STATE_TEXT[lease.state])
            cols["client"].append(lease.client)
            cols["hwaddr"].append(lease.hwaddr)
            cols["hostname"].append(lease.hostname)
            cols["starts"].append(lease.starts)
            cols["expires"].append(lease.expires)
            cols["subnet"].append(lease.subnet)
            cols["source"].append(lease.source)
            cols["relay"].append(lease.relay)
            cols["circuit_id"].append(lease.circuit_id)
            cols["remote_id"].append(lease.remote_id)
            cols["info"].append(json.dumps(lease.info or {}))
            cols["stamp"].append(stamp)
            cols["updated"].append(updated)
        args: dict[str, Any] = {name: binary_array(cols[name], kind) for name, kind in q.FLUSH_ARRAYS}
        async with self._conn(flush=True) as conn:
            cur = await conn.execute(q.FLUSH.encode(), {**args, "now": time.time(), "owner": self.owner})
            row = await cur.fetchone()
        self.flushes += 1
        if self._growth.wrote(len(batch)) and self._analyzing is None:
            self._analyzing = asyncio.get_running_loop().create_task(self._analyze())
        _missing, rewritten, conflicts = (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)
        if rewritten:
            self.rewritten += rewritten
            log.warning("lease rows lost by PostgreSQL written again", rows=rewritten)
        if conflicts:
            raise StoreError(f"{conflicts} lease change(s) lost and taken by other clients meanwhile")

    async def _analyze(self) -> None:
        """``ANALYZE leases`` in the background (``pg_stats``); a failure only waits for the next."""
        try:
            async with self._conn() as conn:
                await conn.execute("ANALYZE leases")
        except StoreError:
            pass
        finally:
            self._analyzing = None

    def limit_leases_per_duid(self, cap: int) -> None:
        """``leases.base.CapsDuidLeases``: enforce ``cap`` in every claim of a new v6 lease."""
        self.duid_cap = cap

    async def close(self) -> None:
        if self._closed:
            return
        try:
            await self._commits.close()
            await self._claims.close()
            if self._pending and self._pool is not None:
                with contextlib.suppress(StoreError):
                    await self.flush()
        finally:
            self._closed = True
            for task in (self._counting, self._analyzing):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
            for pool in (self._pool, self._flush_pool):
                if pool is not None:
                    await pool.close()
            self._pool = self._flush_pool = None

    async def watch(self, emit: Callable[[LeaseEvent], None], ready: asyncio.Event | None = None) -> None:
        """Hand other servers' lease changes to ``emit`` until cancelled (``pg_notify``)."""
        await pg_notify.watch(self.url, self.owner, self.get, emit, ready)

    def stats(self) -> dict[str, Any]:
        return {
            "flushes": self.flushes,
            "rewritten": self.rewritten,
            "pending": len(self._pending),
            "analyzes": self._growth.analyzes,
        }
