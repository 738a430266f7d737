"""The hot path of one protocol family: drain the socket, run each datagram through the engine,
make the batch's lease changes durable with one commit, then send.

Replies that change nothing durable (OFFER, NAK, ADVERTISE) go out at once; those that grant
leases wait for the group commit (``server.commit``). When the store and every source work
in-process, the engine's coroutines finish without suspending and are driven inline (no task
per packet); a packet whose source must do IO (``NeedsIO``), or every packet when something can
suspend, runs as a task instead. Drops are counted always and logged by ``DropLog``.

With a looking glass (``glass``), each finished exchange is handed to it after the send (one
append; it files and decodes later, off the packet path).

Before the engine (see ``server.limits``): datagrams over the socket's size cap were never read
(``oversize``), the rate limiter refuses a flooding client, relay circuit or relay
(``rate-client`` / ``rate-circuit`` / ``rate-relay``), and at most ``max_pending`` packets, and
no more than the last half second's finishing rate (``server.admission``), wait for IO as tasks
(``overload``).

A store that fails (``StoreError`` out of the engine: a shared store is unreachable) drops the
packet as ``store-unavailable`` and tells ``outage`` (``server.outage``: logged once per
interval, reported on ``/healthz``); a packet that gets a reply again ends the outage.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any, Final, Protocol

from dhcpbridge import logs
from dhcpbridge.engine.chain import NeedsIO
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases.base import StoreBusy, StoreError
from dhcpbridge.server.admission import NEW_SHARE, Admission, starts_exchange
from dhcpbridge.server.commit import GroupCommit
from dhcpbridge.server.latency import Latency
from dhcpbridge.server.outage import StoreOutage
from dhcpbridge.server.ratelimit import RateLimiter
from dhcpbridge.server.tasks import TaskOwner

BATCH: Final = 128
DROP_LOG_BURST: Final = 10  # per reason and window at info level
DROP_LOG_WINDOW: Final = 10.0
log: Final[Any] = logs.get("dhcpbridge")


class Meta(Protocol):
    def log_fields(self) -> dict[str, str]: ...


class Outcome(Protocol):
    """What an engine returns for one datagram (``Outcome4`` / ``Outcome6``)."""

    data: bytes | None
    drop_reason: str | None
    drop_detail: str

    @property
    def effects(self) -> list[LeaseEvent]: ...

    def log_fields(self) -> dict[str, Any]: ...


class Glass(Protocol):
    """Where finished exchanges go (``dhcpbridge.glass.LookingGlass``)."""

    def record(self, family: str, outcome: Any, meta: Any, now: float, status: str) -> None: ...


class Engine(Protocol):
    extra_async: bool

    async def process(self, data: bytes, meta: Any, now: float, io: bool = False) -> Any: ...


class Socket(Protocol):
    port: int
    oversized: int  # datagrams dropped unread for their size since the server last looked

    def fileno(self) -> int: ...

    def receive(self, limit: int) -> list[tuple[bytes, Any]]: ...

    def close(self) -> None: ...


class DropLog:
    """Logs drops: every one at debug level; at most a burst per reason and window at info (the
    rest are summed up when the window ends, see ``logs.LogLimiter``)."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.limiter = logs.LogLimiter(
            f"drops-{family}", DROP_LOG_BURST, DROP_LOG_WINDOW, "drops suppressed", family=family
        )

    def __call__(self, now: float, outcome: Outcome, meta: Meta) -> None:
        reason = outcome.drop_reason or "?"
        if not logs.debug_enabled() and not self.limiter.allow(reason, now):
            return
        fields: dict[str, Any] = {"family": self.family, "reason": reason, "detail": outcome.drop_detail}
        fields.update(meta.log_fields())
        fields.update(outcome.log_fields())
        if logs.debug_enabled():
            log.debug("drop", **fields)
        else:
            log.info("drop", **fields)


def never_nak(outcome: Any) -> bool:
    """The default ``Endpoint.is_nak``: no outcome is a NAK (DHCPv6 has none)."""
    return False


class Endpoint:
    """One family's socket, engine and sender; see the module docstring. Compiled with the hot
    path (``_native.py``): a plain ``__init__`` with the arguments of the former dataclass."""

    def __init__(
        self,
        family: str,
        sock: Socket,
        engine: Engine,
        send: Callable[[Any, Any], None],
        stats: Stats,
        commits: GroupCommit,
        tasks: TaskOwner,
        emit: Callable[[LeaseEvent], None],
        is_nak: Callable[[Any], bool] = never_nak,
    ) -> None:
        self.family = family
        self.sock = sock
        self.engine = engine
        self.send = send
        self.stats = stats
        self.commits = commits
        self.emit = emit
        self.is_nak = is_nak
        self.inline = True
        self.limiter: RateLimiter | None = None
        self.glass: Glass | None = None
        self.latency = Latency()  # arrival to send, per request type
        self.max_pending = 4096
        self.pending = 0  # packets running as tasks (waiting for IO)
        self.admission = Admission()  # a bound on ``pending``
        self.spawn: Callable[[Coroutine[Any, Any, Any]], None] = tasks.spawn
        self.drop_log = DropLog(family)
        self.outage: StoreOutage = commits.outage

    def on_readable(self) -> None:
        """Replies that need no commit go out at once; those that do wait for the next group
        commit (``GroupCommit.commit_later``). Draining again after each round lets a batch grow
        when the server is busy."""
        sock, engine = self.sock, self.engine
        batch = sock.receive(BATCH)
        if sock.oversized:
            self._oversized()
        if self.limiter is not None and batch:
            batch = self._admit(batch, self.limiter)
        if not batch:
            return
        now = time.time()
        if not self.inline:
            for data, meta in batch:
                self._task(engine, data, meta, now)
            return
        waiting: list[tuple[Outcome, Any]] = []
        handled = 0
        while batch:
            for data, meta in batch:
                try:
                    outcome = run_inline(engine.process(data, meta, now))
                except NeedsIO:  # a source must do IO for this one: run it as a task
                    self._task(engine, data, meta, now)
                    continue
                except Exception as exc:
                    self._failed(exc, meta)
                    continue
                if outcome.effects:
                    waiting.append((outcome, meta))
                else:
                    self.finish(outcome, meta, now, True)
            handled += len(batch)
            if handled >= BATCH or not waiting:
                break
            batch = sock.receive(BATCH - handled)
            if sock.oversized:
                self._oversized()
            if self.limiter is not None and batch:
                batch = self._admit(batch, self.limiter)
            now = time.time()
        self.commits.commit_later(self, waiting, handled)

    def _failed(self, exc: Exception, meta: Any) -> None:
        """An exchange that raised (call it in the ``except`` block: the log line carries the
        traceback): a store failure is a counted drop, anything else an engine error; a busy
        store (``StoreBusy``: up, but its queue is full) is overload, not an outage."""
        if isinstance(exc, StoreBusy):
            self.stats.drops["overload"] += 1
            return
        if isinstance(exc, StoreError):
            self._store_failed(exc)
            return
        self.stats.errors["engine"] += 1
        if logs.limited("engine-failure"):
            log.exception("engine failure", family=self.family, **meta.log_fields())

    def _oversized(self) -> None:
        count, self.sock.oversized = self.sock.oversized, 0
        self.stats.drops["oversize"] += count
        if logs.debug_enabled():  # every drop has its line at debug level
            for _ in range(count):
                log.debug("drop", family=self.family, reason="oversize", detail="datagram over the size cap")

    def _admit(self, batch: list[tuple[bytes, Any]], limiter: RateLimiter) -> list[tuple[bytes, Any]]:
        """The datagrams the rate limiter lets through; the others are counted by reason."""
        now = time.monotonic()
        drops = self.stats.drops
        kept = []
        for item in batch:
            reason = limiter.check(item[0], item[1], now)  # a direct native call: no bound method
            if reason is None:
                kept.append(item)
            else:
                drops[reason] += 1
                if logs.debug_enabled():
                    log.debug("drop", family=self.family, reason=reason, detail="", **item[1].log_fields())
        return kept

    def _task(self, engine: Engine, data: bytes, meta: Any, now: float) -> None:
        """Run one packet as a task, unless ``max_pending`` or the admission's limit already wait,
        or, for a packet that starts an exchange, its share of the limit (then drop, count)."""
        pending, limit = self.pending, self.admission.limit
        if (
            pending >= self.max_pending
            or pending >= limit
            or (pending >= limit * NEW_SHARE and starts_exchange(self.family, data))
        ):
            self.stats.drops["overload"] += 1
            if logs.debug_enabled():
                log.debug("drop", family=self.family, reason="overload", detail="", **meta.log_fields())
            return
        self.pending += 1
        self.spawn(self._one(engine, data, meta, now))

    async def _one(self, engine: Engine, data: bytes, meta: Any, now: float) -> None:
        try:
            try:
                outcome = await engine.process(data, meta, now, True)
            except Exception as exc:
                self._failed(exc, meta)
                return
            committed = await self.commits.flush_shared(self.stats) if outcome.effects else True
            if committed and outcome.data is not None and self.outage.since is not None:
                self.outage.answered()
            self.finish(outcome, meta, now, committed)
        finally:
            self.pending -= 1
            self.admission.finished()

    def _store_failed(self, exc: StoreError) -> None:
        """The store could not answer this packet: no reply (nothing unrecorded is promised)."""
        self.stats.drops["store-unavailable"] += 1
        self.outage.failed(exc)

    def finish(self, outcome: Outcome, meta: Any, now: float, committed: bool) -> None:
        effects = outcome.effects
        try:
            self._finish(outcome, meta, now, committed, effects)
        finally:
            # lease events point back at their transaction: empty the list so the transaction and
            # its events form no reference cycle (freed at once, no work for the garbage collector)
            effects.clear()

    def _finish(
        self, outcome: Outcome, meta: Any, now: float, committed: bool, effects: list[LeaseEvent]
    ) -> None:
        glass = self.glass
        if outcome.data is None:
            if outcome.drop_reason is not None:
                self.drop_log(now, outcome, meta)
            if glass is not None:
                glass.record(
                    self.family, outcome, meta, now, "no-reply" if outcome.drop_reason is None else "dropped"
                )
            if effects and committed:
                for event in effects:
                    self.emit(event)
            return
        if effects and not committed:
            self.stats.drops["store-unavailable"] += 1
            if glass is not None:
                glass.record(self.family, outcome, meta, now, "store-unavailable")
            return
        try:
            self.send(outcome, meta)
        except OSError as exc:
            self.stats.errors["send"] += 1
            if logs.limited("send-failed"):
                log.warning(
                    "send failed", family=self.family, error=exc.strerror or str(exc), **outcome.log_fields()
                )
            if glass is not None:
                glass.record(self.family, outcome, meta, now, "send-failed")
            return
        if self.is_nak(outcome):  # worth a line even at info level, within the shared limit
            if logs.limited("nak"):
                log.info("nak", family=self.family, why=outcome.drop_detail, **outcome.log_fields())
        elif logs.debug_enabled():
            log.debug("reply", family=self.family, **outcome.log_fields())
        tx = getattr(outcome, "tx", None)
        if tx is not None:
            self.latency.observe(tx.msg_type_code, time.time() - now)
        if glass is not None:
            glass.record(self.family, outcome, meta, now, "sent")
        for event in effects:
            self.emit(event)
