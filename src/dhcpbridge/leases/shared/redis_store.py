"""``redis://``: leases in Redis, shared by any number of dhcpbridge servers.

Every state change runs as one call of the Lua script in ``redis_lua`` (atomic in Redis: two
servers asking at the same time never get the same free address); the key layout is described
there and in ``docs/stores/redis.md``. Calls made in one turn of the event loop (the packets of
one runtime batch) go to Redis as one pipeline: one round trip per batch, not per packet; up to
``IN_FLIGHT`` pipelines are in flight at a time (a batch does not wait for the one before to be
answered), all on one connection, answered in order, so ``WAIT`` covers every earlier write
(``redis_pipe``: the replies come back raw, as Redis sends them, and each call gets its reply
as soon as it arrives, not when the whole pipeline is answered).

Durability: a call returns once Redis has executed it; ``flush`` adds ``WAIT N`` when the URL
says ``wait-replicas=N``. What Redis keeps across its own crash is Redis's ``appendonly`` /
``appendfsync`` setting (see the docs). When Redis cannot be reached every call raises
``StoreError`` (no reply is sent for what was not recorded), ``failing()`` reports how long, and
the next call reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.exceptions import RedisError, ResponseError

from dhcpbridge import logs
from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind
from dhcpbridge.engine.ports import AddressRange
from dhcpbridge.leases.addresses import addr_text
from dhcpbridge.leases.base import LeaseQuery, StoreError
from dhcpbridge.leases.ranges import MAP_LIMIT, PROBES, in_ranges, probe, range_size, range_step, segments
from dhcpbridge.leases.shared import after_commit, redis_watch
from dhcpbridge.leases.shared.redis_codec import (
    KIND_NAMES,
    addr_hex,
    decode,
    member,
    record_json,
)
from dhcpbridge.leases.shared.redis_connect import open_client
from dhcpbridge.leases.shared.redis_lua import LIBRARY, NAME
from dhcpbridge.leases.shared.redis_pipe import OnReply, RedisPipe
from dhcpbridge.leases.shared.redis_url import RedisOptions

log = logs.get("dhcpbridge.leases")

COUNTS_EVERY = 1.0  # seconds between refreshes of the cached record counts
IN_FLIGHT = 4  # pipelines sent before the first of them is answered


def _unknown_function(reply: Any) -> bool:
    return isinstance(reply, ResponseError) and "function not found" in str(reply).lower()


def _settle(future: asyncio.Future[Any], result: Any) -> None:
    """Hand one command's reply to its caller (an error reply as ``StoreError``)."""
    if future.done():
        return
    if isinstance(result, Exception):
        future.set_exception(StoreError(f"redis: {result}"))
    else:
        future.set_result(result)


class RedisStore:
    """See the module docstring; ``dhcpbridge.engine.ports.LeaseStore`` plus ``CountsLeases``,
    ``QueriesLeases``, ``ReportsHealth`` and ``SharedStore`` (``leases.base``)."""

    def __init__(self, options: RedisOptions) -> None:
        self.options = options
        self.prefix = options.key_prefix
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"  # in published changes
        self._me = self.owner.encode()
        # per kind: FCALL's first arguments (the function, one key: Redis Cluster routes by it),
        # the prefix and the kind's name
        self._heads = {
            kind: (
                (b"FCALL", NAME.encode(), b"1", f"{self.prefix}dhcpbridge:rec:{name}".encode()),
                self.prefix.encode(),
                name.encode(),
            )
            for kind, name in KIND_NAMES.items()
        }
        self.retention = 86400.0
        self.duid_cap = 0  # [server6] max-leases-per-duid (``limit_leases_per_duid``), 0: none
        self.inline = False  # every call is a round trip to Redis
        # the connections' maker (address, credentials, TLS, the master Sentinel names); its own
        # pool's connection only loads the function library
        self.client = open_client(options)
        self._pipe = RedisPipe(self.client)  # the store's calls, batched on a connection of its own
        self._queue: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._pumping = False  # a pipeline of what is queued is due
        self._in_flight = 0  # pipelines sent and not answered yet
        self._tasks: set[asyncio.Task[None]] = set()
        self._counts: dict[str, int] = {}
        self._counts_at = 0.0
        self.failed_calls = 0  # consecutive pipelines that could not reach Redis
        self._failing_since = 0.0
        self.round_trips = 0  # pipelines sent (for the bench's round trips per exchange)
        self._bitmaps: dict[tuple[LeaseKind, int, int, int], list[Any]] = {}  # range -> its window head
        self._fixed_json: dict[
            tuple[LeaseKind, int, int], tuple[Sequence[AddressRange], frozenset[int], str]
        ] = {}

    # --- the pipeline pump -----------------------------------------------------------------
    async def _command(self, *args: Any) -> Any:
        """Queue one command for the next pipeline and wait for its reply."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((args, future))
        if not self._pumping:
            self._pumping = True
            loop.call_soon(self._start_pump, loop)  # the rest of this loop turn joins the batch
        return await future

    def _start_pump(self, loop: asyncio.AbstractEventLoop) -> None:
        """Send what is queued as one pipeline now, unless ``IN_FLIGHT`` are unanswered: then the
        first of them to finish sends it (``_pumping`` stays set until then)."""
        if self._in_flight >= IN_FLIGHT:
            return
        self._pumping = False
        if not self._queue:
            return
        batch, self._queue = self._queue, []
        self._in_flight += 1
        task = loop.create_task(self._pump(batch, loop))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]], loop: asyncio.AbstractEventLoop
    ) -> None:
        try:
            await self._send(batch)
        finally:
            self._in_flight -= 1
            if self._pumping:  # waiting for this one
                self._start_pump(loop)

    async def _send(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        """Run ``batch`` as one pipeline; each command's future gets its reply as soon as it
        arrives (``redis_pipe``: the packets of a long batch are answered in pieces, not in one
        burst), but a call of a function Redis does not know yet (a new, restarted or flushed
        Redis: the library is loaded, and those run again)."""
        missing: list[int] = []

        def settle(i: int, result: Any) -> None:
            if _unknown_function(result):
                missing.append(i)
            else:
                _settle(batch[i][1], result)

        try:
            await self._execute([args for args, _ in batch], settle)
            if missing:
                await self.client.function_load(LIBRARY, replace=True)
                again = [batch[i] for i in missing]
                await self._execute([args for args, _ in again], lambda i, r: _settle(again[i][1], r))
        except (RedisError, OSError) as exc:
            self._failed(exc)
            error = StoreError(f"redis: {exc}")
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        except BaseException as exc:  # cancelled while closing: nobody may wait forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(StoreError(f"redis: {exc!r}"))
            raise
        if self.failed_calls:
            log.warning("redis lease store reachable again", failed_calls=self.failed_calls)
            self.failed_calls = 0

    async def _execute(self, commands: list[tuple[Any, ...]], on_reply: OnReply) -> None:
        self.round_trips += 1
        await self._pipe.execute(commands, on_reply)

    def _failed(self, exc: BaseException) -> None:
        if not self.failed_calls:
            self._failing_since = time.monotonic()
            log.error(
                "redis lease store unreachable; no lease can be granted until it is back", error=str(exc)
            )
        self.failed_calls += 1

    async def _run(self, op: str, kind: LeaseKind, now: float, arg: str) -> Any:
        after_commit.forget()  # any other call in between: ``find_client`` asks Redis again
        # as bytes: redis-py passes bytes through as they are (10 arguments per call, every packet)
        fcall, prefix, name = self._heads[kind]
        return await self._command(
            *fcall, prefix, op.encode(), name, repr(float(now)).encode(), arg.encode(), self._me
        )

    # --- LeaseStore ---------------------------------------------------------------------------
    async def get(self, kind: LeaseKind, address: int) -> Lease | None:
        return decode(await self._run("get", kind, 0.0, addr_text(kind, address)))

    async def find_client(self, kind: LeaseKind, client: bytes) -> list[Lease]:
        known = after_commit.take(kind, client)
        if known is not None:
            return known
        rows = await self._run("find", kind, 0.0, client.hex())
        return [lease for lease in map(decode, rows) if lease is not None]

    async def offer(self, lease: Lease, now: float) -> Lease | None:
        return decode(await self._run("offer", lease.kind, now, record_json(lease)))

    async def commit(self, lease: Lease, now: float) -> Lease | None:
        cap = self.duid_cap if lease.kind != LeaseKind.V4 else 0
        rows = await self._run("commit", lease.kind, now, record_json(lease, cap=cap))
        if not rows:
            return None
        records = [lease for lease in map(decode, rows) if lease is not None]
        after_commit.remember(lease.kind, lease.client, records)  # the committed one, then the others
        return records[0]

    async def release(self, kind: LeaseKind, address: int, client: bytes, now: float) -> Lease | None:
        arg = json.dumps({"address": addr_text(kind, address), "client": client.hex()})
        return decode(await self._run("release", kind, now, arg))

    async def decline(
        self, kind: LeaseKind, address: int, client: bytes, now: float, until: float
    ) -> Lease | None:
        arg = {"address": addr_text(kind, address), "client": client.hex(), "until": repr(float(until))}
        return decode(await self._run("decline", kind, now, json.dumps(arg)))

    async def unhold(self, kind: LeaseKind, address: int, client: bytes) -> None:
        arg = json.dumps({"address": addr_text(kind, address), "client": client.hex()})
        await self._run("unhold", kind, 0.0, arg)

    async def allocate(self, hold: Hold) -> Lease | None:
        lease, ranges, now, hint, exclude, prefer = hold.parts()
        kind = lease.kind
        if not ranges:
            return None
        fixed = self._fixed(kind, ranges, exclude)
        wanted = prefer and prefer not in exclude and in_ranges(ranges, prefer)
        arg = (
            f'{{"rec":{record_json(lease, with_address=False)},'
            f'"windows":{json.dumps(self._windows(kind, ranges, hint))},'
            f'"prefer":"{member(kind, prefer) if wanted else ""}",'
            f'"cap":{self.duid_cap if kind != LeaseKind.V4 else 0},{fixed[2]}}}'
        )
        reply = await self._run("allocate", kind, now, arg)
        return decode(reply[1]) if reply[0] == b"ok" else None

    def _fixed(
        self, kind: LeaseKind, ranges: Sequence[AddressRange], exclude: frozenset[int]
    ) -> tuple[Sequence[AddressRange], frozenset[int], str]:
        """The part of an allocation's argument that is the same for every client of a pool (its
        ranges, the reserved addresses in them), as JSON: made once per pool, not per packet."""
        key = (kind, id(ranges), id(exclude))
        known = self._fixed_json.get(key)
        if known is not None and known[0] is ranges and known[1] is exclude:
            return known
        low = min(r.first for r in ranges)
        high = max(r.last for r in ranges)
        text = json.dumps(
            {
                "ranges": [self._range_spec(kind, r) for r in ranges],
                "exclude": [addr_text(kind, a) for a in exclude if low <= a <= high],
            }
        )[1:-1]
        if len(self._fixed_json) >= 1024:  # pools come from the configuration: a few; bounded anyway
            self._fixed_json.clear()
        known = self._fixed_json[key] = (ranges, exclude, text)
        return known

    @staticmethod
    def _range_spec(kind: LeaseKind, r: AddressRange) -> list[Any]:
        """``[first hex, last hex, k4, kb]`` for the script's membership test (step = 2^(4*k4+kb))."""
        step = range_step(r)
        bits = step.bit_length() - 1
        if 1 << bits != step:
            raise StoreError(f"redis: pool range step {step} is not a power of two")
        return [addr_hex(kind, r.first), addr_hex(kind, r.last), bits // 4, bits % 4]

    def _bitmap(self, kind: LeaseKind, r: AddressRange) -> str:
        """The key of ``r``'s bitmap of taken members."""
        name = f"{self.prefix}dhcpbridge:used:{KIND_NAMES[kind]}:{addr_text(kind, r.first)}-{addr_text(kind, r.last)}"
        step = range_step(r)
        return name if step == 1 else f"{name}/{step}"

    def _windows(self, kind: LeaseKind, ranges: Sequence[AddressRange], hint: int) -> list[list[Any]]:
        """Where the script searches, in order: the ranges as one sequence from ``hint`` to the
        end, then from the start (as the embedded store does); huge ranges by probe candidates."""
        windows: list[list[Any]] = []
        probed: set[int] = set()
        for r, lo, hi in segments(ranges, hint):
            if range_size(r) > MAP_LIMIT:
                if id(r) not in probed:
                    probed.add(id(r))
                    windows.append(["p", [member(kind, probe(r, hint, a)) for a in range(PROBES)]])
                continue
            key = (kind, r.first, r.last, range_step(r))
            head = self._bitmaps.get(key)
            if head is None:
                if len(self._bitmaps) >= 4096:  # ranges come from the configuration; bounded anyway
                    self._bitmaps.clear()
                spec = self._range_spec(kind, r)
                head = self._bitmaps[key] = ["b", self._bitmap(kind, r), spec[0], spec[2] * 4 + spec[3]]
            windows.append([*head, lo, hi])
        return windows

    async def reap(self, now: float) -> list[Lease]:
        before = repr(float(now - self.retention))
        results = await asyncio.gather(*(self._reap_kind(kind, now, before) for kind in LeaseKind))
        await self._refresh_counts()
        return [lease for part in results for lease in part]

    async def _reap_kind(self, kind: LeaseKind, now: float, before: str) -> list[Lease]:
        out: list[Lease] = []
        while True:
            reply = await self._run("reap", kind, now, json.dumps({"before": before}))
            out += [lease for lease in map(decode, reply[1:]) if lease is not None]
            if reply[0] != b"1":
                return out

    async def leases(self, kind: LeaseKind | None = None) -> list[Lease]:
        kinds = [kind] if kind is not None else list(LeaseKind)
        tables = await asyncio.gather(
            *(self._command("HVALS", f"{self.prefix}dhcpbridge:rec:{KIND_NAMES[k]}") for k in kinds)
        )
        return [lease for rows in tables for lease in map(decode, rows) if lease is not None]

    async def query(self, query: LeaseQuery) -> list[Lease]:
        """One page of records (``leases.base.QueriesLeases``), ordered by kind and address."""
        rows = sorted(await self.leases(query.kind), key=lambda lease: (lease.kind, lease.address))
        return query.select(rows)

    def count_by_state(self) -> dict[str, int]:
        """Records per ``{kind}_{state}`` (``leases.base.CountsLeases``), as last read from Redis
        (refreshed by flushes at most every ``COUNTS_EVERY`` seconds, and by every reap)."""
        return dict(self._counts)

    async def _refresh_counts(self) -> None:
        """The counts of the script's ``counts`` hash; offers are not in it (a write fewer per
        offer and per commit): per kind, the active records (``exp:``) less the bound and the
        declined ones. (Servers before 2026-12-07 counted offers there: those fields are ignored.)"""
        raw, *active = await asyncio.gather(
            self._command("HGETALL", f"{self.prefix}dhcpbridge:counts"),
            *(self._command("ZCARD", f"{self.prefix}dhcpbridge:exp:{KIND_NAMES[k]}") for k in LeaseKind),
        )
        # a map in RESP3, [field, value, ...] in RESP2
        pairs = raw.items() if isinstance(raw, dict) else zip(raw[::2], raw[1::2], strict=True)
        counts = {k.decode(): int(v) for k, v in pairs if not k.endswith(b"_offered")}
        for kind, n in zip(LeaseKind, active, strict=True):
            name = KIND_NAMES[kind]
            counts[f"{name}_offered"] = (
                int(n) - counts.get(f"{name}_bound", 0) - counts.get(f"{name}_declined", 0)
            )
        self._counts = {k: v for k, v in counts.items() if v > 0}
        self._counts_at = time.monotonic()

    async def flush(self) -> None:
        """Every write so far has been executed by Redis; with ``wait-replicas`` also confirmed by
        that many replicas (``WAIT``), else ``StoreError``."""
        if time.monotonic() - self._counts_at >= COUNTS_EVERY:
            self._counts_at = time.monotonic()
            task = asyncio.get_running_loop().create_task(self._counts_quietly())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        wanted = self.options.wait_replicas
        if wanted:
            acked = await self._command("WAIT", wanted, self.options.wait_timeout_ms)
            if int(acked) < wanted:
                self._failed(StoreError(f"WAIT: {acked} of {wanted} replicas"))
                raise StoreError(f"redis: only {acked} of {wanted} replica(s) confirmed the writes")

    async def _counts_quietly(self) -> None:
        with contextlib.suppress(StoreError):
            await self._refresh_counts()

    def failing(self) -> tuple[int, float] | None:
        """While Redis cannot be reached: (failed round trips in a row, seconds since the first)."""
        if not self.failed_calls:
            return None
        return self.failed_calls, time.monotonic() - self._failing_since

    async def claim_role(self, role: str, owner: str, ttl: float) -> bool:
        arg = json.dumps({"role": role, "owner": owner, "ms": max(1, int(ttl * 1000))})
        return bool(await self._run("role", LeaseKind.V4, 0.0, arg))

    async def client_index_entries(self) -> int:
        """Entries of the by-client index (tests: bounded by the records)."""
        total = 0
        for kind in LeaseKind:
            pattern = f"{self.prefix}dhcpbridge:cli:{KIND_NAMES[kind]}:*"
            cursor: int = 0
            while True:
                cursor, keys = await self._command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
                total += len(keys)
                if int(cursor) == 0:
                    break
        return total

    async def watch(self, emit: Callable[[LeaseEvent], None], ready: asyncio.Event | None = None) -> None:
        """Hand other servers' lease changes to ``emit`` until cancelled (``redis_watch``)."""
        await redis_watch.watch(self.options, self.prefix, self.owner, emit, ready)

    def limit_leases_per_duid(self, cap: int) -> None:
        """``leases.base.CapsDuidLeases``: enforce ``cap`` in every claim of a new v6 lease."""
        self.duid_cap = cap

    async def close(self) -> None:
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._pipe.close()
        await self.client.aclose()
