"""The family-neutral engine core: what DHCPv4 and DHCPv6 do the same way, written once.

* ``Transaction``: the fields every transaction has (clock, message type, the sources' answer,
  the reply's type and extra options, effects, drop reason) - ``Transaction4`` / ``Transaction6``
  add their family's.
* ``Outcome``: what to do after one datagram (reply bytes and where to, effects, or why silent).
* ``Engine``: one exchange - parse, count, run the pipeline (``before`` handlers, the built-in
  ones, then ``extra`` handlers in each phase), count drops, encode, count sent; the family
  engines supply parsing, message names, encoding and the destination.
* ``AskSources``: ask the source chain (synchronously when the whole chain can) and drop on
  IGNORE, or on DENY of a first message (DISCOVER / SOLICIT).
* ``lease_template`` and ``RelayNames``: the lease record the stores are asked to hold or commit.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar, cast

from dhcpbridge.engine.chain import NeedsIO, SourceChain
from dhcpbridge.engine.model import Action, Answer, Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.engine.pipeline import CannotRespond, Handler, Pipeline, is_async_hook
from dhcpbridge.engine.ports import LeaseStore, Query
from dhcpbridge.engine.stats import Stats
from dhcpbridge.wire.errors import FormError

#: Where a reply goes when the engine says so (DHCPv6: host, port, flow info, scope id).
Dest = tuple[str, int, int, int]
#: What a handler that built a reply may fail with when the reply is encoded.
ENCODE_ERRORS = (ValueError, OverflowError, TypeError, struct.error)


class Transaction:
    """What every transaction carries through the pipeline, whatever the family.

    ``reply_options`` (code -> encoded value) are put into the reply when it is encoded, after
    every handler ran: they replace the reply's options of the same code, else are added.
    """

    __slots__ = (
        "answer",
        "circuit_id",
        "classes",
        "done",
        "drop_detail",
        "drop_reason",
        "dropped_by",
        "effects",
        "io_ok",
        "msg_type_code",
        "now",
        "protocol",
        "raw",
        "remote_id",
        "reply_options",
        "reply_type",
        "state",
    )

    def __init__(self, protocol: int, msg_type_code: int, now: float, io_ok: bool) -> None:
        self.protocol = protocol
        self.io_ok = io_ok  # sources may be awaited (a task); else only their synchronous answers
        self.now = now
        self.msg_type_code = msg_type_code
        self.circuit_id = b""
        self.remote_id = b""
        self.classes: tuple[str, ...] = ()  # client classes the request is in ([[class]])
        self.state = ""
        self.answer: Answer | None = None
        self.reply_type = 0
        self.reply_options: dict[int, bytes] = {}
        self.effects: list[LeaseEvent] = []
        self.done = False
        self.drop_reason: str | None = None
        self.drop_detail = ""
        self.dropped_by: object = None  # the pipeline hook that dropped it (``Pipeline.run``)
        self.raw = b""  # the datagram as received (``Engine.process``; the looking glass keeps it)

    def log_fields(self, dest: Dest | None) -> dict[str, Any]:
        """Who and what, for a log line about this exchange (the families say more)."""
        return {}


T = TypeVar("T", bound=Transaction)
M = TypeVar("M")
_NO_EFFECTS: list[LeaseEvent] = []


class Outcome(Generic[T]):
    """What to do after one datagram: send ``data`` (to ``dest`` when the engine chose it, else
    where the transaction says), carry out ``effects``; or why not (``drop_reason``).

    A hand-written ``__init__``: mypyc cannot compile a generic dataclass."""

    __slots__ = ("data", "dest", "drop_detail", "drop_reason", "tx")

    def __init__(
        self,
        tx: T | None,
        data: bytes | None,
        drop_reason: str | None = None,
        drop_detail: str = "",
        dest: Dest | None = None,
    ) -> None:
        self.tx = tx
        self.data = data
        self.dest = dest
        self.drop_reason = drop_reason
        self.drop_detail = drop_detail

    @property
    def effects(self) -> list[LeaseEvent]:
        return self.tx.effects if self.tx is not None else _NO_EFFECTS

    def log_fields(self) -> dict[str, Any]:
        """Who and what, for a log line about this outcome."""
        tx = self.tx
        return tx.log_fields(self.dest) if tx is not None else {}


class EngineEnv(Protocol):
    """What the core needs of a family's environment (``Env4`` / ``Env6``)."""

    sources: SourceChain
    store: LeaseStore
    stats: Stats


E = TypeVar("E", bound=EngineEnv)


class Engine(Generic[T, M, E]):
    """One exchange, the same for both families (see the module docstring); user handlers in
    ``before`` run before the built-in handlers of each phase, those in ``extra`` after them."""

    def __init__(
        self, env: E, extra: Sequence[Handler[Any]] = (), before: Sequence[Handler[Any]] = ()
    ) -> None:
        self.env = env
        self.stats = env.stats
        self.pipeline: Pipeline[T] = Pipeline([*before, *self.builtins(env), *extra])
        self.extra_async = any(is_async_hook(h) for h in (*before, *extra))

    # --- what a family supplies --------------------------------------------------------------
    def builtins(self, env: E) -> list[Handler[T]]:
        """The family's built-in handlers, in pipeline order."""
        raise NotImplementedError

    def start(self, data: bytes, meta: M, now: float, io: bool) -> T:
        """The transaction for this datagram; ``FormError`` / ``CannotRespond`` drop it."""
        raise NotImplementedError

    def name(self, code: int) -> str:
        """A message type's name, as counters label it."""
        raise NotImplementedError

    def reply_name(self, tx: T) -> str:
        """The name the ``sent`` counters give the reply of ``tx``."""
        return self.name(tx.reply_type)

    def encode(self, tx: T) -> bytes | None:
        """The reply on the wire, ``tx.reply_options`` applied (None when there is no reply)."""
        raise NotImplementedError

    def destination(self, tx: T, meta: M) -> Dest | None:
        """Where the reply goes, when the engine decides it here."""
        return None

    # --- the exchange ------------------------------------------------------------------------
    async def process(self, data: bytes, meta: M, now: float, io: bool = False) -> Outcome[T]:
        stats = self.stats
        try:
            tx = self.start(data, meta, now, io)
        except FormError as exc:
            reason = "malformed:" + exc.reason
            stats.drops[reason] += 1
            return Outcome(None, None, reason, str(exc))
        except CannotRespond as drop:
            stats.drops[drop.reason] += 1
            return Outcome(None, None, drop.reason, drop.detail)
        tx.raw = data
        name = self.name(tx.msg_type_code)
        stats.received[name] += 1
        try:
            await self.pipeline.run(tx)
        except NeedsIO:
            stats.received[name] -= 1  # counted again when the runtime repeats it as a task
            raise
        except FormError as exc:  # an option a handler decoded on demand was malformed
            tx.drop_reason, tx.drop_detail = "malformed:" + exc.reason, str(exc)
        if tx.drop_reason is not None:
            stats.drops[tx.drop_reason] += 1
            return Outcome(tx, None, tx.drop_reason, tx.drop_detail)
        try:
            wire = self.encode(tx)
        except ENCODE_ERRORS as bad:  # a handler's unencodable value
            stats.errors["encode"] += 1
            return Outcome(tx, None, "encode-error", str(bad))
        if wire is None:
            return Outcome(tx, None)
        dest = self.destination(tx, meta)
        stats.sent[self.reply_name(tx)] += 1
        return Outcome(tx, wire, None, tx.drop_detail, dest)


class AskSources(Handler[T]):
    """Ask the source chain what this client should get, when the family says it asks
    (``wanted``); synchronously (no coroutine) when every source can answer that way and the
    exchange runs inline (``NeedsIO`` then repeats it as a task)."""

    def __init__(self, env: EngineEnv, first: int) -> None:
        self.env = env  # read at each exchange: a test or a reload may swap the chain
        self.first = first  # DISCOVER / SOLICIT: a DENY of it is silence, not a NAK

    def wanted(self, tx: T) -> bool:
        raise NotImplementedError

    def handle(self, tx: T) -> Awaitable[None] | None:
        if not self.wanted(tx):
            return None
        return self.ask(tx)

    def ask(self, tx: T) -> Awaitable[None] | None:
        sources = self.env.sources
        if sources.sync and not tx.io_ok:
            self.check(tx, sources.answer(cast(Query, tx)))
            return None
        return self._ask(tx)

    async def _ask(self, tx: T) -> None:
        self.check(tx, await self.env.sources.ask(cast(Query, tx)))

    def check(self, tx: T, answer: Answer) -> None:
        """Keep the answer; IGNORE is silence, and so is DENY of a first message."""
        tx.answer = answer
        if answer.action is Action.IGNORE:
            raise CannotRespond("ignored-by-source", answer.source)
        if answer.action is Action.DENY and tx.msg_type_code == self.first:
            raise CannotRespond("denied-by-source", answer.source)


def lease_template(
    tx: Transaction,
    kind: LeaseKind,
    client: bytes,
    address: int,
    length: int,
    state: LeaseState,
    until: float,
    hwaddr: bytes,
    subnet: str,
    relay: str,
    hostname: str,
) -> Lease:
    """The lease a store is asked to hold or commit for this transaction: where the client was
    seen comes from the transaction, its hostname from the source if it gave one."""
    answer = tx.answer
    return Lease(
        address,
        client,
        state,
        tx.now,
        until,
        kind,
        length,
        hwaddr,
        answer.hostname if answer is not None and answer.hostname else hostname,
        subnet,
        answer.source if answer is not None else "",
        relay,
        tx.circuit_id,
        tx.remote_id,
    )


class RelayNames:
    """Text of relay addresses for lease records, made once per relay (bounded)."""

    __slots__ = ("_names", "_text")

    def __init__(self, text: Callable[[int], str]) -> None:
        self._text = text
        self._names: dict[int, str] = {}

    def get(self, addr: int) -> str:
        text = self._names.get(addr)
        if text is None:
            if len(self._names) > 4096:
                self._names.clear()
            text = self._names[addr] = self._text(addr)
        return text
