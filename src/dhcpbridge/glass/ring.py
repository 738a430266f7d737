"""The looking glass's memory: what the packet path hands over, and one bounded ring per client.

``record`` runs on the packet path after the reply was sent (or the request dropped): it only
appends the outcome to a bounded queue and, when the queue was empty, asks the loop to ``drain``
it at its next turn (as ``dhcpbridge.events`` does); a full queue counts ``overflow``. ``drain``
files each exchange as a flat ``Record`` (the request's and the reply's bytes, the few facts of
the decision, never the transaction or parsed messages, which would cost the garbage collector)
in the ring of its client: the MAC (v4 chaddr) or the DUID (v6). At most ``clients`` clients
per family are kept (the least recently seen goes first) and at most ``per_client`` exchanges
each, so a flood of random MACs costs a fixed amount of memory. Parsing and decoding happen only
when someone looks (``Entry``, ``dhcpbridge.glass.decode``).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from typing import Any

from dhcpbridge.engine.pipeline import step_name
from dhcpbridge.later import Later
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.message import Message4, parse
from dhcpbridge.wire.v4.options import parse_suboptions
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, parse6

Pending = tuple[str, Any, Any, float, str]  # family, outcome, meta, arrival time, status
#: what ``drain`` files per exchange: arrival time, status, drop reason, drop detail, the hook
#: that dropped it, state, whether the handle phase ended early, request bytes, meta, reply
#: bytes, destination (v4: address int and port; v6: the engine's tuple and 0), subnet, answer
Record = tuple[float, str, Any, str, Any, str, bool, bytes, Any, Any, Any, int, Any, Any]


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
            answer,
        ) = record
        self.family = family
        self.time = now
        self.status = status
        self.drop_reason: str | None = reason
        self.drop_detail: str = detail
        self.dropped_by = step_name(dropped_by)
        self.state: str = state
        self.done = done
        self.meta = meta
        self.reply: bytes | None = reply
        self.dest: tuple[str, int] | None = None
        if isinstance(dest, int):
            self.dest = (_ip4(dest), port)
        elif dest is not None:
            self.dest = (str(dest[0]), int(dest[1]))
        self.subnet = subnet.name if subnet is not None else ""
        self.source = answer.source if answer is not None else ""
        self.action = answer.action.name.lower() if answer is not None else ""
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


class LookingGlass(Later):
    """See the module docstring."""

    def __init__(self, clients: int = 4096, per_client: int = 16, queue: int = 8192) -> None:
        super().__init__(queue)
        self.clients = clients
        self.per_client = per_client
        self.steps: dict[str, Sequence[str]] = {}  # family -> the pipeline's handler names
        self.filed = 0
        self.overflow = 0
        self.evicted = 0
        self.unattributed = 0  # outcomes without a transaction (malformed): no client to file under
        self._queue: deque[Pending] = deque()
        self._rings: dict[str, OrderedDict[bytes, list[Record]]] = {"v4": OrderedDict(), "v6": OrderedDict()}

    def resize(self, clients: int, per_client: int, queue: int) -> None:
        """New bounds (a reload); clients and exchanges over them go, oldest first."""
        self.clients, self.per_client, self.limit = clients, per_client, queue
        for rings in self._rings.values():
            while len(rings) > clients:
                rings.popitem(last=False)
                self.evicted += 1
            for ring in rings.values():
                del ring[: max(0, len(ring) - per_client)]

    def set_steps(self, family: str, handlers: Iterable[Any]) -> None:
        """The pipeline's handlers of ``family`` (shown as the decision path's steps)."""
        self.steps[family] = tuple(type(h).__name__ for h in handlers)

    # --- the packet path ----------------------------------------------------------------------
    def record(self, family: str, outcome: Any, meta: Any, now: float, status: str) -> None:
        """Hand one exchange over; never blocks, never decodes."""
        if not self.push(self._queue, (family, outcome, meta, now, status)):
            self.overflow += 1

    # --- off the packet path ------------------------------------------------------------------
    def drain(self) -> None:
        """File every waiting exchange in its client's ring."""
        self._scheduled = False
        queue = self._queue
        per_client = self.per_client
        clients = self.clients
        filed = 0
        while queue:
            family, outcome, meta, now, status = queue.popleft()
            tx = outcome.tx
            if tx is None:
                self.unattributed += 1
                continue
            if family == "v4":
                key = tx.client_mac or tx.request.mac
                dest, port = (tx.dest_ip, tx.dest_port) if outcome.data is not None else (None, 0)
            else:
                key = tx.duid
                dest, port = outcome.dest, 0
            record = (
                now,
                status,
                outcome.drop_reason,
                outcome.drop_detail,
                tx.dropped_by,
                tx.state,
                tx.done,
                tx.raw,
                meta,
                outcome.data,
                dest,
                port,
                tx.subnet,
                tx.answer,
            )
            rings = self._rings[family]
            ring = rings.get(key)
            if ring is None:
                if len(rings) >= clients:
                    rings.popitem(last=False)
                    self.evicted += 1
                rings[key] = [record]
            else:
                rings.move_to_end(key)
                ring.append(record)
                if len(ring) > per_client:
                    del ring[0]
            filed += 1
        self.filed += filed

    # --- looking ------------------------------------------------------------------------------
    def _latest_first(self) -> list[tuple[str, bytes, list[Record]]]:
        """Every client of both families, most recently seen first."""
        both = [(family, key, ring) for family, rings in self._rings.items() for key, ring in rings.items()]
        both.sort(key=lambda item: item[2][-1][0], reverse=True)
        return both

    def find(self, client: str) -> list[tuple[str, bytes, list[Entry]]]:
        """The clients one of whose identifiers is ``client`` (hex with any separators, or the
        text of a circuit-id / remote-id / interface-id; a MAC also finds the DUID-LL/LLT and the
        RFC 6939 relay option that hold it), most recently seen first, each with its exchanges
        oldest first: ``(family, key, entries)``."""
        self.drain()
        want, text = _hex_bytes(client), client.encode()
        found: list[tuple[str, bytes, list[Entry]]] = []
        for family, key, ring in self._latest_first():
            if key == want:
                found.append((family, key, self._entries(family, ring)))
                continue
            entries = self._entries(family, ring)
            if any(e.matches(want, text) for e in entries):
                found.append((family, key, entries))
        return found

    def recent(self, limit: int = 50) -> list[tuple[str, bytes, list[Entry]]]:
        """The ``limit`` most recently seen clients, most recent first."""
        self.drain()
        return [(f, k, self._entries(f, ring)) for f, k, ring in self._latest_first()[:limit]]

    def _entries(self, family: str, ring: Iterable[Record]) -> list[Entry]:
        steps = self.steps.get(family, ())
        return [Entry(family, record, steps) for record in ring]

    def stats(self) -> dict[str, int]:
        return {
            "clients": sum(len(rings) for rings in self._rings.values()),
            "queued": len(self._queue),
            "filed": self.filed,
            "overflow": self.overflow,
            "evicted": self.evicted,
            "unattributed": self.unattributed,
        }

    def close(self) -> None:
        self.drain()


def _ip4(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def duid_mac(duid: bytes) -> bytes:
    """The link-layer address inside a DUID-LL (type 3) or DUID-LLT (type 1), else b""."""
    if len(duid) > 4 and duid[:2] == b"\x00\x03":
        return duid[4:]
    if len(duid) > 8 and duid[:2] == b"\x00\x01":
        return duid[8:]
    return b""
