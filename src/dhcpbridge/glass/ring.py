"""The looking glass's memory: what the packet path hands over, per client, in preallocated rings.

``record`` runs on the packet path after the reply was sent (or the request dropped) and must
cost next to nothing: it finds the client's ring (a dict lookup by the MAC, v4 chaddr, or the
DUID) and writes into its next slot of preallocated columns (plain lists) only references to
objects that exist anyway — the request's and the reply's bytes (never GC-tracked), the v6 DUID,
the status, state and drop strings, the subnet, the hook that dropped it, the source's name and
action — and a few ints (ports, v4 addresses, flags). It allocates no per-exchange container,
parses nothing, schedules nothing.

The columns hold ``clients`` rings of ``per_client`` slots each: a client keeps its own last
``per_client`` exchanges, whatever the others send. A client not seen before takes a free ring,
or, when all are taken, the ring of a client not seen for a while (the CLOCK approximation of
least recently used: a hand sweeps the rings, sparing once each one seen since it last passed).
Parsing and decoding happen only when someone looks (``Entry``, ``dhcpbridge.glass.decode``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from dhcpbridge.engine.core import Outcome, Transaction
from dhcpbridge.engine.pipeline import step_name
from dhcpbridge.engine.records import Meta4, Meta6
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.message import Message4, parse
from dhcpbridge.wire.v4.options import parse_suboptions
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, parse6

#: what a look rebuilds per exchange: arrival time, status, drop reason, drop detail, the hook
#: that dropped it, state, whether the handle phase ended early, request bytes, where it came
#: from (source address, port, interface), reply bytes, destination (v4: address int and port;
#: v6: the engine's tuple and 0), subnet, source name, action
Record = tuple[float, str, Any, str, Any, str, bool, bytes, Any, Any, Any, int, Any, str, Any]
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
        (
            now,
            status,
            reason,
            detail,
            dropped_by,
            state,
            done,
            raw,
            meta,
            reply,
            dest,
            port,
            subnet,
            source,
            action,
        ) = record
        self.family = family
        self.time = now
        self.status = status
        self.drop_reason: str | None = reason
        self.drop_detail: str = detail
        # a record read back from the persistence holds names where a live one holds objects
        self.dropped_by = dropped_by if isinstance(dropped_by, str) else step_name(dropped_by)
        self.state: str = state
        self.done = done
        self.meta = meta
        self.reply: bytes | None = reply
        self.dest: tuple[str, int] | None = None
        if isinstance(dest, int):
            self.dest = (_ip4(dest), port)
        elif dest is not None:
            self.dest = (str(dest[0]), int(dest[1]))
        self.subnet = subnet if isinstance(subnet, str) else subnet.name if subnet is not None else ""
        self.source: str = source
        self.action = action if isinstance(action, str) else action.name.lower() if action is not None else ""
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
        none: list[Any] = [None] * slots
        self._raw: list[Any] = list(none)  # the request as received
        self._reply: list[Any] = list(none)
        self._flags: list[int] = [0] * slots  # v6 | done << 1
        self._seq: list[int] = [0] * slots  # ``filed`` when the slot was written
        self._time: list[float] = [0.0] * slots
        self._status: list[Any] = list(none)
        self._reason: list[Any] = list(none)
        self._detail: list[Any] = list(none)
        self._dropped_by: list[Any] = list(none)
        self._state: list[Any] = list(none)
        self._subnet: list[Any] = list(none)
        self._source: list[Any] = list(none)
        self._action: list[Any] = list(none)
        self._ifname: list[Any] = list(none)
        self._ports: list[int] = [0] * slots  # source port | destination port << 16
        # v4: source address | destination address << 32 (the destination is 0 without a reply);
        # v6: (source address, the engine's destination tuple or None)
        self._addr: list[Any] = list(none)

    def resize(self, clients: int, per_client: int) -> None:
        """New bounds (a reload): other bounds start empty; the same bounds keep all."""
        if (clients, per_client) != (self.clients, self.per_client):
            self.clients, self.per_client = clients, per_client
            self._allocate()

    def set_steps(self, family: str, handlers: Iterable[Any]) -> None:
        """The pipeline's handlers of ``family`` (shown as the decision path's steps)."""
        self.steps[family] = tuple(type(h).__name__ for h in handlers)

    # --- the packet path ----------------------------------------------------------------------
    def record(self, family: str, outcome: Outcome[Any], meta: Any, now: float, status: str) -> None:
        """Hand one exchange over; never blocks, never decodes, keeps no per-exchange object."""
        tx = outcome.tx
        if tx is None:
            self.unattributed += 1
            return
        reply = outcome.data
        if isinstance(tx, Transaction4):
            raw = tx.raw
            mac = tx.client_mac  # set by Classify; a request dropped before: read it here
            if not mac:
                mac = raw[28 : 28 + min(raw[2], 16)] if len(raw) > 44 else b""
            i = self._put(False, mac, tx, raw, reply, now, status, outcome.drop_reason, outcome.drop_detail)
            m4: Meta4 = tx.meta
            self._subnet[i] = tx.subnet
            self._ifname[i] = m4.ifname
            if reply is not None:
                self._addr[i] = m4.src_ip | tx.dest_ip << 32
                self._ports[i] = m4.src_port | tx.dest_port << 16
            else:
                self._addr[i] = m4.src_ip
                self._ports[i] = m4.src_port
        elif isinstance(tx, Transaction6):
            i = self._put(
                True, tx.duid, tx, tx.raw, reply, now, status, outcome.drop_reason, outcome.drop_detail
            )
            m6 = cast(Meta6, meta)
            self._subnet[i] = tx.subnet
            self._ifname[i] = m6.ifname
            self._addr[i] = (m6.src, outcome.dest)
            self._ports[i] = m6.src_port
        else:
            self.unattributed += 1

    def _put(
        self,
        v6: bool,
        key: bytes,
        tx: Transaction,
        raw: bytes,
        reply: bytes | None,
        now: float,
        status: str,
        reason: str | None,
        detail: str,
    ) -> int:
        """The part of ``record`` both families share: the next slot of ``key``'s ring gets the
        references and the decision's facts; that slot."""
        i = self._slot(v6, key)
        self._raw[i] = raw
        self._reply[i] = reply
        self._flags[i] = (1 if v6 else 0) | (2 if tx.done else 0)
        self._time[i] = now
        self._status[i] = status
        self._reason[i] = reason
        self._detail[i] = detail
        self._dropped_by[i] = tx.dropped_by
        self._state[i] = tx.state
        answer = tx.answer
        if answer is not None:
            self._source[i] = answer.source
            self._action[i] = answer.action
        else:
            self._source[i] = ""
            self._action[i] = None
        return i

    def _slot(self, v6: bool, key: bytes) -> int:
        """The next slot of ``key``'s ring (taking a ring for a new client), counted as filed."""
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
        i = ring * per + n % per
        self._seq[i] = self.filed
        return i

    def restore(self, family: str, key: bytes, record: Record) -> None:
        """File an exchange read back from the persistence (at a start) under ``key``, as
        ``record`` (``_record``'s shape; names may stand for the step, subnet and action)."""
        (now, status, reason, detail, dropped_by, state, done, raw, meta, reply, dest, port) = record[:12]
        v6 = family == "v6"
        i = self._slot(v6, key)
        self._raw[i] = raw
        self._reply[i] = reply
        self._flags[i] = (1 if v6 else 0) | (2 if done else 0)
        self._time[i] = now
        self._status[i] = status
        self._reason[i] = reason
        self._detail[i] = detail
        self._dropped_by[i] = dropped_by
        self._state[i] = state
        self._subnet[i] = record[12]
        self._source[i] = record[13]
        self._action[i] = record[14]
        src, src_port, ifname = meta
        self._ifname[i] = ifname
        if v6:
            self._addr[i] = (src, dest)
            self._ports[i] = src_port
        else:
            self._addr[i] = src | (dest or 0) << 32
            self._ports[i] = src_port | port << 16

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
        return self._seq[ring * self.per_client + (n - 1) % self.per_client] if n else 0

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
        flags = self._flags[i]
        reply = self._reply[i]
        addr, ports = self._addr[i], self._ports[i]
        if flags & 1:
            src, dest = addr
            port = 0
        else:
            src, dest = addr & 0xFFFFFFFF, (addr >> 32) if reply is not None else None
            port = ports >> 16
        return (
            self._time[i],
            self._status[i],
            self._reason[i],
            self._detail[i],
            self._dropped_by[i],
            self._state[i],
            bool(flags & 2),
            self._raw[i],
            (src, ports & 0xFFFF, self._ifname[i]),
            reply,
            dest,
            port,
            self._subnet[i],
            self._source[i],
            self._action[i],
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
        seq = self._seq
        for ring in [*self._rings4.values(), *self._rings6.values()]:
            if self._last_seq(ring) <= mark:
                continue
            family = "v6" if self._owner_v6[ring] else "v4"
            key = self._owner[ring]
            for i in self._slots(ring):
                if seq[i] > mark:
                    out.append((seq[i], family, key, self._record(i)))
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


def _ip4(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def duid_mac(duid: bytes) -> bytes:
    """The link-layer address inside a DUID-LL (type 3) or DUID-LLT (type 1), else b""."""
    if len(duid) > 4 and duid[:2] == b"\x00\x03":
        return duid[4:]
    if len(duid) > 8 and duid[:2] == b"\x00\x01":
        return duid[8:]
    return b""
