"""The looking glass's memory: what the packet path hands over, per client, in preallocated rings.

``record`` runs on the packet path after the reply was sent (or the request dropped) and must
cost next to nothing: it finds the client's ring (a dict lookup by the MAC, v4 chaddr, or the
DUID) and writes into its next slot (the slots' fields side by side in one preallocated list)
only references to objects that exist anyway — the request's and the reply's bytes (never
GC-tracked), the packet's ``Meta4``/``Meta6`` (where it came from), the status, state and drop
strings, the subnet, the hook that dropped it, the source's name and action, the v4 reply's
destination — and its sequence number. It allocates no per-exchange container, parses nothing,
schedules nothing.

The slots hold ``clients`` rings of ``per_client`` slots each: a client keeps its own last
``per_client`` exchanges, whatever the others send. A client not seen before takes a free ring,
or, when all are taken, the ring of a client not seen for a while (the CLOCK approximation of
least recently used: a hand sweeps the rings, sparing once each one seen since it last passed).
Parsing and decoding happen only when someone looks (``Entry``, ``dhcpbridge.glass.decode``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, NamedTuple, cast

from dhcpbridge.engine.core import Outcome, Transaction
from dhcpbridge.engine.pipeline import step_name
from dhcpbridge.engine.records import Meta4, Meta6
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.message import Message4, parse
from dhcpbridge.wire.v4.options import parse_suboptions
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, parse6


class Record(NamedTuple):
    """What a look rebuilds per exchange (and the persistence writes and reads back)."""

    time: float  # arrival
    status: str
    reason: Any  # the drop reason, or None
    detail: str  # the drop detail
    dropped_by: Any  # the hook that dropped it (its name when read back)
    state: str
    done: bool  # whether the handle phase ended early
    raw: bytes  # the request as received
    meta: Any  # where it came from: (source address, port, interface)
    reply: Any  # bytes or None
    dest: Any  # v4: the address as an int, or None; v6: the engine's tuple, or None
    port: int  # v4: the destination port; v6: 0
    subnet: Any  # the subnet (its name when read back)
    source: str  # the name of the source that answered
    action: Any  # the answer's action (its name when read back)

    def named(self) -> Record:
        """This record with names where a live one holds objects (the step, subnet, action)."""
        return self._replace(
            dropped_by=step_text(self.dropped_by),
            subnet=subnet_text(self.subnet),
            action=action_text(self.action),
        )


def step_text(step: Any) -> str:
    return step if isinstance(step, str) else step_name(step)


def subnet_text(subnet: Any) -> str:
    return subnet if isinstance(subnet, str) else subnet.name if subnet is not None else ""


def action_text(action: Any) -> str:
    return action if isinstance(action, str) else action.name.lower() if action is not None else ""


#: the fields of one slot in ``LookingGlass._cells`` (offsets from the slot's start; Final, so
#: the compiled packet path has them as constants, not module lookups)
F_RAW: Final = 0
F_REPLY: Final = 1
F_DONE: Final = 2
F_SEQ: Final = 3
F_TIME: Final = 4
F_STATUS: Final = 5
F_REASON: Final = 6
F_DETAIL: Final = 7
F_DROPPED_BY: Final = 8
F_STATE: Final = 9
F_SUBNET: Final = 10
F_SOURCE: Final = 11
F_ACTION: Final = 12
F_META: Final = 13
F_DEST: Final = 14
F_DEST_PORT: Final = 15
FIELDS: Final = 16
#: where ``Record``'s fields go in a slot
RECORD_CELLS = (
    *(F_TIME, F_STATUS, F_REASON, F_DETAIL, F_DROPPED_BY, F_STATE, F_DONE, F_RAW),
    *(F_META, F_REPLY, F_DEST, F_DEST_PORT, F_SUBNET, F_SOURCE, F_ACTION),
)
MAX_SLOTS = 1 << 21


class Entry:
    """One exchange as the looking glass shows it, made from a ``Record`` when someone looks:
    the request parsed again, the client's identifiers read from it."""

    __slots__ = (
        "action",
        "dest",
        "done",
        "drop_detail",
        "drop_reason",
        "dropped_by",
        "family",
        "ids",
        "meta",
        "reply",
        "request",
        "source",
        "state",
        "status",
        "steps",
        "subnet",
        "time",
    )

    def __init__(self, family: str, record: Record, steps: Sequence[str]) -> None:
        r = record.named()
        self.family = family
        self.time = r.time
        self.status = r.status
        self.drop_reason: str | None = r.reason
        self.drop_detail: str = r.detail
        self.dropped_by: str = r.dropped_by
        self.state: str = r.state
        self.done = r.done
        self.meta = r.meta
        self.reply: bytes | None = r.reply
        self.dest: tuple[str, int] | None = None
        dest = r.dest
        if isinstance(dest, int):
            self.dest = (_ip4(dest), r.port)
        elif dest is not None:
            self.dest = (str(dest[0]), int(dest[1]))
        self.subnet: str = r.subnet
        self.source: str = r.source
        self.action: str = r.action
        raw = r.raw
        self.steps = steps
        self.request: Message4 | Message6 | RelayMessage6 | bytes = raw
        self.ids: tuple[tuple[str, bytes], ...] = ()
        try:
            if family == "v4":
                self.request = msg = parse(raw)
                self.ids = _ids4(msg)
            else:
                self.request = msg6 = parse6(raw)
                self.ids = _ids6(msg6)
        except FormError:
            pass  # shown as hex (the engine parsed it before, so this does not happen)

    def matches(self, want: bytes, text: bytes) -> bool:
        """Whether one of the client's identifiers is ``want`` (bytes from hex) or ``text``."""
        return any(value and value in (want, text) for _, value in self.ids)


def _ids4(msg: Message4) -> tuple[tuple[str, bytes], ...]:
    ids = [("mac", msg.mac), ("client-id", msg.options.get(61, b""))]
    relay = msg.options.get(82)
    if relay:
        try:
            subs = parse_suboptions(relay)
        except FormError:
            subs = {}
        ids += [("circuit-id", subs.get(1, b"")), ("remote-id", subs.get(2, b""))]
    return tuple(ids)


def _ids6(msg: Message6 | RelayMessage6) -> tuple[tuple[str, bytes], ...]:
    ids: list[tuple[str, bytes]] = []
    inner: Message6 | RelayMessage6 | None = msg
    while isinstance(inner, RelayMessage6):
        for code, name in ((18, "interface-id"), (37, "remote-id"), (79, "relay-mac")):
            raw = inner.raw(code)
            if raw:
                ids.append((name, raw[4:] if code == 37 else raw[2:] if code == 79 else raw))
        inner = inner.message
    duid = inner.raw(1) or b"" if isinstance(inner, Message6) else b""
    mac = duid_mac(duid)
    return (("duid", duid), *((("mac", mac),) if mac else ()), *ids)


def _hex_bytes(text: str) -> bytes:
    digits = text.strip().lower()
    for sep in (":", "-", ".", " "):
        digits = digits.replace(sep, "")
    digits = digits.removeprefix("0x")
    if len(digits) % 2 or not digits:
        return b""
    try:
        return bytes.fromhex(digits)
    except ValueError:
        return b""


class LookingGlass:
    """See the module docstring."""

    def __init__(self, clients: int = 4096, per_client: int = 16) -> None:
        self.clients = clients
        self.per_client = per_client
        self.steps: dict[str, Sequence[str]] = {}  # family -> the pipeline's handler names
        self.filed = 0
        self.unattributed = 0  # outcomes without a transaction (malformed): no client to file under
        self._allocate()

    def _allocate(self) -> None:
        per = self.per_client
        self.rings = max(1, min(self.clients, MAX_SLOTS // per))
        slots = self.slots = self.rings * per
        self._held = 0  # exchanges held (at most ``slots``)
        self.evicted = 0  # clients whose ring went to another client
        # the rings: v4 MAC / v6 DUID -> ring; per ring its client, family, exchanges filed (its
        # next slot is that modulo ``per_client``), seen since the CLOCK hand last passed
        self._rings4: dict[bytes, int] = {}
        self._rings6: dict[bytes, int] = {}
        self._owner: list[bytes] = [b""] * self.rings
        self._owner_v6: list[bool] = [False] * self.rings
        self._count: list[int] = [0] * self.rings
        self._ref: list[bool] = [False] * self.rings
        self._used = 0  # rings handed out so far (then the hand takes them back)
        self._hand = 0
        # the slots, side by side in one list (slot i's fields at i * FIELDS + F_...): one
        # exchange is written to two or three neighbouring cache lines, not one per field
        self._cells: list[Any] = [None] * (slots * FIELDS)

    def resize(self, clients: int, per_client: int) -> None:
        """New bounds (a reload): other bounds start empty; the same bounds keep all."""
        if (clients, per_client) != (self.clients, self.per_client):
            self.clients, self.per_client = clients, per_client
            self._allocate()

    def set_steps(self, family: str, handlers: Iterable[Any]) -> None:
        """The pipeline's handlers of ``family`` (shown as the decision path's steps)."""
        self.steps[family] = tuple(type(h).__name__ for h in handlers)

    # --- the packet path ----------------------------------------------------------------------
    def record(self, family: str, outcome: Outcome[Any], meta: Any, now: Any, status: str) -> None:
        """Hand one exchange over; never blocks, never decodes, keeps no per-exchange object."""
        tx = outcome.tx
        if tx is None:
            self.unattributed += 1
            return
        reply = outcome.data
        cells = self._cells
        if isinstance(tx, Transaction4):
            raw = tx.raw
            mac = tx.client_mac  # set by Classify; a request dropped before: read it here
            if not mac:
                mac = raw[28 : 28 + min(raw[2], 16)] if len(raw) > 44 else b""
            b = self._put(False, mac, tx, raw, reply, now, status, outcome.drop_reason, outcome.drop_detail)
            m4: Meta4 = tx.meta
            cells[b + F_SUBNET] = tx.subnet
            cells[b + F_META] = m4  # the packet's own object: read when someone looks
            if reply is not None:
                cells[b + F_DEST] = tx.dest_ip
                cells[b + F_DEST_PORT] = tx.dest_port
            else:
                cells[b + F_DEST] = None
                cells[b + F_DEST_PORT] = 0
        elif isinstance(tx, Transaction6):
            b = self._put(
                True, tx.duid, tx, tx.raw, reply, now, status, outcome.drop_reason, outcome.drop_detail
            )
            m6 = cast(Meta6, meta)
            cells[b + F_SUBNET] = tx.subnet
            cells[b + F_META] = m6
            cells[b + F_DEST] = outcome.dest
            cells[b + F_DEST_PORT] = 0
        else:
            self.unattributed += 1

    def _put(
        self,
        v6: bool,
        key: bytes,
        tx: Transaction,
        raw: bytes,
        reply: bytes | None,
        now: Any,  # the caller's float object, kept as it is (not unboxed and boxed again)
        status: str,
        reason: str | None,
        detail: str,
    ) -> int:
        """The part of ``record`` both families share: the next slot of ``key``'s ring gets the
        references and the decision's facts; where that slot's fields start in ``_cells``."""
        b = self._slot(v6, key)
        cells = self._cells
        cells[b + F_RAW] = raw
        cells[b + F_REPLY] = reply
        cells[b + F_DONE] = tx.done
        cells[b + F_TIME] = now
        cells[b + F_STATUS] = status
        cells[b + F_REASON] = reason
        cells[b + F_DETAIL] = detail
        cells[b + F_DROPPED_BY] = tx.dropped_by
        cells[b + F_STATE] = tx.state
        answer = tx.answer
        if answer is not None:
            cells[b + F_SOURCE] = answer.source
            cells[b + F_ACTION] = answer.action
        else:
            cells[b + F_SOURCE] = ""
            cells[b + F_ACTION] = None
        return b

    def _slot(self, v6: bool, key: bytes) -> int:
        """The next slot of ``key``'s ring (taking a ring for a new client), counted as filed:
        where its fields start in ``_cells``, its sequence number written."""
        rings = self._rings6 if v6 else self._rings4
        ring = rings.get(key, -1)
        if ring < 0:
            ring = self._claim(v6, key, rings)
        self._ref[ring] = True
        self.filed += 1
        n = self._count[ring]
        self._count[ring] = n + 1
        per = self.per_client
        if n < per:
            self._held += 1
        b = (ring * per + n % per) * FIELDS
        self._cells[b + F_SEQ] = self.filed
        return b

    def restore(self, family: str, key: bytes, record: Record) -> None:
        """File an exchange read back from the persistence (at a start) under ``key``, as
        ``record`` (names may stand for the step, subnet and action)."""
        b = self._slot(family == "v6", key)
        for offset, value in zip(RECORD_CELLS, record, strict=True):
            self._cells[b + offset] = value

    def _claim(self, v6: bool, key: bytes, rings: dict[bytes, int]) -> int:
        """A ring for a client not seen before: a free one, else the CLOCK hand's pick."""
        if self._used < self.rings:
            ring = self._used
            self._used += 1
        else:
            ref, hand, count = self._ref, self._hand, self.rings
            while ref[hand]:
                ref[hand] = False
                hand = hand + 1 if hand + 1 < count else 0
            ring = hand
            self._hand = hand + 1 if hand + 1 < count else 0
            old = self._owner[ring]
            if self._owner_v6[ring]:
                del self._rings6[old]
            else:
                del self._rings4[old]
            self._held -= min(self._count[ring], self.per_client)
            self.evicted += 1
        self._owner[ring] = key
        self._owner_v6[ring] = v6
        self._count[ring] = 0
        rings[key] = ring
        return ring

    # --- looking ------------------------------------------------------------------------------
    def _last_seq(self, ring: int) -> int:
        """When ``ring``'s client was last seen (the ``filed`` value of its newest exchange)."""
        n = self._count[ring]
        if not n:
            return 0
        return int(self._cells[(ring * self.per_client + (n - 1) % self.per_client) * FIELDS + F_SEQ])

    def _slots(self, ring: int) -> list[int]:
        """The slots of ``ring`` that hold exchanges, oldest first."""
        per = self.per_client
        n = self._count[ring]
        base = ring * per
        if n <= per:
            return list(range(base, base + n))
        start = n % per
        return [base + (start + k) % per for k in range(per)]

    def _record(self, i: int) -> Record:
        b = i * FIELDS
        c = self._cells
        return Record(
            c[b + F_TIME],
            c[b + F_STATUS],
            c[b + F_REASON],
            c[b + F_DETAIL],
            c[b + F_DROPPED_BY],
            c[b + F_STATE],
            bool(c[b + F_DONE]),
            c[b + F_RAW],
            _where(c[b + F_META]),
            c[b + F_REPLY],
            c[b + F_DEST],
            c[b + F_DEST_PORT],
            c[b + F_SUBNET],
            c[b + F_SOURCE],
            c[b + F_ACTION],
        )

    def _clients(self) -> list[tuple[str, bytes, list[int]]]:
        """Every client with exchanges, most recently seen first, each with its slots, oldest
        first."""
        rings = [*self._rings4.values(), *self._rings6.values()]
        rings.sort(key=lambda ring: -self._last_seq(ring))
        return [
            ("v6" if self._owner_v6[ring] else "v4", self._owner[ring], self._slots(ring))
            for ring in rings
            if self._count[ring]
        ]

    def since(self, mark: int) -> list[tuple[int, str, bytes, Record]]:
        """The exchanges still held that were filed after ``mark`` (a ``filed`` value), in filing
        order, as ``(sequence, family, key, record)``: what a writer that keeps the glass (the
        SQLite persistence) has not seen yet. Walks only the rings seen since ``mark``."""
        out: list[tuple[int, str, bytes, Record]] = []
        cells = self._cells
        for ring in [*self._rings4.values(), *self._rings6.values()]:
            if self._last_seq(ring) <= mark:
                continue
            family = "v6" if self._owner_v6[ring] else "v4"
            key = self._owner[ring]
            for i in self._slots(ring):
                seq = int(cells[i * FIELDS + F_SEQ])
                if seq > mark:
                    out.append((seq, family, key, self._record(i)))
        out.sort(key=lambda item: item[0])
        return out

    def find(self, client: str) -> list[tuple[str, bytes, list[Entry]]]:
        """The clients one of whose identifiers is ``client`` (hex with any separators, or the
        text of a circuit-id / remote-id / interface-id; a MAC also finds the DUID-LL/LLT and the
        RFC 6939 relay option that hold it), most recently seen first, each with its exchanges
        oldest first: ``(family, key, entries)``."""
        want, text = _hex_bytes(client), client.encode()
        found: list[tuple[str, bytes, list[Entry]]] = []
        for family, key, slots in self._clients():
            entries = self._entries(family, slots)
            if key == want or any(e.matches(want, text) for e in entries):
                found.append((family, key, entries))
        return found

    def recent(self, limit: int = 50) -> list[tuple[str, bytes, list[Entry]]]:
        """The ``limit`` most recently seen clients, most recent first."""
        return [(f, k, self._entries(f, slots)) for f, k, slots in self._clients()[:limit]]

    def _entries(self, family: str, slots: Iterable[int]) -> list[Entry]:
        steps = self.steps.get(family, ())
        return [Entry(family, self._record(i), steps) for i in slots]

    def stats(self) -> dict[str, int]:
        """Counters, without walking the rings (``/v1/stats`` is polled): how many exchanges
        they hold of how many ``slots``, of how many clients, how many were ever filed and are
        no longer held, how many clients lost their ring to a newer one."""
        return {
            "slots": self.slots,
            "clients": len(self._rings4) + len(self._rings6),
            "exchanges": self._held,
            "filed": self.filed,
            "overwritten": self.filed - self._held,
            "evicted": self.evicted,
            "unattributed": self.unattributed,
        }

    def close(self) -> None:
        """Let go of what the rings hold."""
        self._allocate()


def _where(meta: Any) -> tuple[Any, int, str]:
    """Where an exchange came from, (source address, port, interface), from the packet's
    ``Meta4`` / ``Meta6`` or the tuple read back from the persistence."""
    if isinstance(meta, Meta4):
        return (meta.src_ip, meta.src_port, meta.ifname)
    if isinstance(meta, Meta6):
        return (meta.src, meta.src_port, meta.ifname)
    return cast(tuple[Any, int, str], meta)


def _ip4(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def duid_mac(duid: bytes) -> bytes:
    """The link-layer address inside a DUID-LL (type 3) or DUID-LLT (type 1), else b""."""
    if len(duid) > 4 and duid[:2] == b"\x00\x03":
        return duid[4:]
    if len(duid) > 8 and duid[:2] == b"\x00\x01":
        return duid[8:]
    return b""
