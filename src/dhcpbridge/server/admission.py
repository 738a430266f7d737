"""How many packets may wait for IO at once (packets that run as tasks: an async store, a bridge
source): as many as the server finished in the last ``TARGET`` seconds, at least ``FLOOR``, at
most ``[limits] max-pending``.

By Little's law the packets waiting divided by the rate they finish at is how long each waits;
bounding them to a share of the recent rate bounds the wait. Without this bound an overloaded
server admitted ``max-pending`` (4,096) packets at once, each waited seconds, and every answer
came too late for its client (perfdhcp counts answers after a second as lost, a real client has
retransmitted by then): at 40,000 DISCOVERs/s offered the PostgreSQL store completed 64 DORA/s.
With it the packets beyond the bound are dropped at once (``overload``, before any work), and the
ones admitted are answered in time.

Packets that start an exchange (DHCPDISCOVER, SOLICIT, relayed or not) may fill only
``NEW_SHARE`` of the bound; the rest is kept for the packets that finish one (REQUEST, RENEW, ...).
Under overload most arrivals are new DISCOVERs, and without the share they took nearly every
place that came free: the REQUESTs that follow the OFFERs already sent were dropped, and the work
of those DISCOVERs was lost (at 40,000 DISCOVERs/s offered the PostgreSQL store completed 692
DORA/s, about a third of what it completes at its knee). An overloaded server now sheds new
exchanges first and finishes the ones it started.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from dhcpbridge.wire.v4.message import MAGIC
from dhcpbridge.wire.v6.relay_chain import RELAY_FORW, RELAY_MSG

TARGET: Final = 0.5  # seconds of the recent finishing rate that may wait
FLOOR: Final = 256  # packets that may always wait (start-up, a quiet server)
WINDOW: Final = 1.0  # seconds over which the finishing rate is counted
NEW_SHARE: Final = 0.5  # of the bound, what packets that start an exchange may fill
DISCOVER: Final = 1  # DHCPv4 message type (option 53)
SOLICIT: Final = 1  # DHCPv6 message type
RELAY_HEADER: Final = 34  # msg-type, hop-count, link-address, peer-address
MAX_HOPS: Final = 32  # RFC 8415 HOP_COUNT_LIMIT


def starts_exchange(family: str, data: bytes) -> bool:
    """Whether ``data`` starts an exchange: a DHCPDISCOVER (``family`` "v4") or a SOLICIT ("v6",
    also inside relay messages). Malformed data is not (the engine drops it, cheaply)."""
    if family == "v4":
        return _v4_type(data) == DISCOVER
    return _v6_type(data) == SOLICIT


def _v4_type(data: bytes) -> int:
    """Option 53 of a DHCPv4 packet (its main options field), 0 if none."""
    end = len(data)
    if end < 243 or data[236:240] != MAGIC:
        return 0
    i = 240
    while i + 2 < end:
        code = data[i]
        if code == 0:  # pad
            i += 1
            continue
        if code == 255:
            return 0
        if code == 53:
            return int(data[i + 2]) if data[i + 1] else 0
        i += 2 + data[i + 1]
    return 0


def _v6_type(data: bytes) -> int:
    """The message type of a DHCPv6 packet, of the innermost message for relay messages."""
    for _ in range(MAX_HOPS + 1):
        if not data:
            return 0
        kind = int(data[0])
        if kind != RELAY_FORW:
            return kind
        i, end, inner = RELAY_HEADER, len(data), b""
        while i + 4 <= end:
            code = (data[i] << 8) | data[i + 1]
            length = (data[i + 2] << 8) | data[i + 3]
            if code == RELAY_MSG:
                inner = data[i + 4 : i + 4 + length]
                break
            i += 4 + length
        data = inner
    return 0


class Admission:
    """See the module docstring: ``limit`` is the bound now; ``finished`` counts one packet."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.limit = FLOOR
        self._since = clock()
        self._finished = 0

    def finished(self) -> None:
        self._finished += 1
        now = self.clock()
        elapsed = now - self._since
        if elapsed >= WINDOW:
            self.limit = max(FLOOR, int(self._finished / elapsed * TARGET))
            self._since, self._finished = now, 0
