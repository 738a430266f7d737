"""The looking glass's memory: what the packet path hands over, and one bounded ring per client.

``record`` runs on the packet path after the reply was sent (or the request dropped): it only
appends the outcome to a bounded queue and, when the queue was empty, asks the loop to ``drain``
it at its next turn (as ``dhcpbridge.events`` does); a full queue counts ``overflow``. ``drain``
files each exchange as an ``Entry`` (the parsed request, the reply's bytes, the few facts of the
decision, never the transaction itself) in the ring of its client: the MAC (v4 chaddr) or the
DUID (v6). At most ``clients`` clients are kept (the least recently seen goes first) and at most
``per_client`` exchanges each, so a flood of random MACs costs a fixed amount of memory.
Decoding to JSON happens only when someone looks (``dhcpbridge.glass.decode``).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Iterable, Sequence
from typing import Any

from dhcpbridge.engine.pipeline import step_name
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.engine.v6.transaction import Transaction6

#: what ``Endpoint`` tells about each exchange
SENT, DROPPED, NO_REPLY, NOT_COMMITTED, SEND_FAILED = (
    "sent",
    "dropped",
    "no-reply",
    "store-unavailable",
    "send-failed",
)
Pending = tuple[str, Any, Any, float, str]  # family, outcome, meta, arrival time, status


class Entry:
    """One exchange as the looking glass keeps it (see the module docstring)."""

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

    def __init__(self, family: str, time: float, status: str, request: Any, meta: Any) -> None:
        self.family = family
        self.time = time
        self.status = status
        self.request = request  # Message4, or the outermost Message6 / RelayMessage6
        self.meta = meta
        self.reply: bytes | None = None
        self.dest: tuple[str, int] | None = None
        self.drop_reason: str | None = None
        self.drop_detail = ""
        self.dropped_by = ""
        self.source = ""
        self.action = ""
        self.subnet = ""
        self.state = ""
        self.done = False
        self.ids: tuple[tuple[str, bytes], ...] = ()
        self.steps: Sequence[str] = ()

    def matches(self, want: bytes, text: bytes) -> bool:
        """Whether one of the client's identifiers is ``want`` (bytes from hex) or ``text``."""
        return any(value and (value == want or value == text) for _, value in self.ids)


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

    def __init__(self, clients: int = 4096, per_client: int = 16, queue: int = 8192) -> None:
        self.clients = clients
        self.per_client = per_client
        self.limit = queue
        self.loop: asyncio.AbstractEventLoop | None = None
        self.steps: dict[str, Sequence[str]] = {}  # family -> the pipeline's handler names
        self.filed = 0
        self.overflow = 0
        self.evicted = 0
        self.unattributed = 0  # outcomes without a transaction (malformed): no client to file under
        self._queue: deque[Pending] = deque()
        self._scheduled = False
        self._rings: OrderedDict[tuple[str, bytes], deque[Entry]] = OrderedDict()

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Drain on ``loop`` from now on (None: file at once, inside ``record``)."""
        self.loop = loop

    def resize(self, clients: int, per_client: int, queue: int) -> None:
        """New bounds (a reload); rings over them are cut, oldest first."""
        self.clients, self.limit = clients, queue
        while len(self._rings) > clients:
            self._rings.popitem(last=False)
            self.evicted += 1
        if per_client != self.per_client:
            self.per_client = per_client
            for key, ring in self._rings.items():
                self._rings[key] = deque(ring, maxlen=per_client)

    def set_steps(self, family: str, handlers: Iterable[Any]) -> None:
        """The pipeline's handlers of ``family`` (shown as the decision path's steps)."""
        self.steps[family] = tuple(type(h).__name__ for h in handlers)

    # --- the packet path ----------------------------------------------------------------------
    def record(self, family: str, outcome: Any, meta: Any, now: float, status: str) -> None:
        """Hand one exchange over; never blocks, never decodes."""
        queue = self._queue
        if len(queue) >= self.limit:
            self.overflow += 1
            return
        queue.append((family, outcome, meta, now, status))
        if not self._scheduled:
            loop = self.loop
            if loop is None:
                self.drain()
                return
            self._scheduled = True
            loop.call_soon(self.drain)

    # --- off the packet path ------------------------------------------------------------------
    def drain(self) -> None:
        """File every waiting exchange in its client's ring."""
        self._scheduled = False
        queue = self._queue
        while queue:
            family, outcome, meta, now, status = queue.popleft()
            tx = outcome.tx
            if tx is None:
                self.unattributed += 1
                continue
            entry = self._entry(family, tx, outcome, meta, now, status)
            self._file((family, entry.ids[0][1]), entry)

    def _entry(self, family: str, tx: Any, outcome: Any, meta: Any, now: float, status: str) -> Entry:
        if isinstance(tx, Transaction4):
            entry = Entry(family, now, status, tx.request, meta)
            entry.ids = (
                ("mac", tx.request.mac),
                ("client-id", tx.client_id),
                ("circuit-id", tx.circuit_id),
                ("remote-id", tx.remote_id),
            )
            if outcome.data is not None:
                entry.dest = (_ip4(tx.dest_ip), tx.dest_port)
            entry.subnet = tx.subnet.name if tx.subnet is not None else ""
        else:
            assert isinstance(tx, Transaction6)
            entry = Entry(family, now, status, tx.relays[0] if tx.relays else tx.request, meta)
            entry.ids = (
                ("duid", tx.duid),
                ("mac", tx.client_mac),
                ("interface-id", tx.circuit_id),
                ("remote-id", tx.remote_id),
            )
            if outcome.dest is not None:
                entry.dest = (outcome.dest[0], outcome.dest[1])
            entry.subnet = tx.subnet.name if tx.subnet is not None else ""
        entry.reply = outcome.data
        entry.drop_reason = outcome.drop_reason
        entry.drop_detail = outcome.drop_detail
        if tx.dropped_by is not None:
            entry.dropped_by = step_name(tx.dropped_by)
        answer = tx.answer
        if answer is not None:
            entry.source = answer.source
            entry.action = answer.action.name.lower()
        entry.state = tx.state
        entry.done = tx.done
        entry.steps = self.steps.get(family, ())
        return entry

    def _file(self, key: tuple[str, bytes], entry: Entry) -> None:
        rings = self._rings
        ring = rings.get(key)
        if ring is None:
            if len(rings) >= self.clients:
                rings.popitem(last=False)
                self.evicted += 1
            ring = rings[key] = deque(maxlen=self.per_client)
        else:
            rings.move_to_end(key)
        ring.append(entry)
        self.filed += 1

    # --- looking ------------------------------------------------------------------------------
    def find(self, client: str) -> list[tuple[str, bytes, list[Entry]]]:
        """The clients one of whose identifiers is ``client`` (hex with any separators, or the
        text of a circuit-id / remote-id / interface-id), most recently seen first, each with its
        exchanges oldest first: ``(family, key, entries)``."""
        self.drain()
        want, text = _hex_bytes(client), client.encode()
        found: list[tuple[str, bytes, list[Entry]]] = []
        for (family, key), ring in reversed(self._rings.items()):
            if key == want or any(e.matches(want, text) for e in ring):
                found.append((family, key, list(ring)))
        return found

    def recent(self, limit: int = 50) -> list[tuple[str, bytes, list[Entry]]]:
        """The ``limit`` most recently seen clients, most recent first."""
        self.drain()
        out: list[tuple[str, bytes, list[Entry]]] = []
        for (family, key), ring in reversed(self._rings.items()):
            if len(out) >= limit:
                break
            out.append((family, key, list(ring)))
        return out

    def stats(self) -> dict[str, int]:
        return {
            "clients": len(self._rings),
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
