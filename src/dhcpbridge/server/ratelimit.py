"""Per-client and per-relay token buckets, checked on the raw datagram before the engine parses it.

Why here: the endpoint sees every datagram first, and a flood must cost as little as possible. The
keys are read straight from fixed offsets of the bytes (no parse, no option decoding, except a
short walk of DHCPv6 options down to the client's Client ID), so a refused packet
costs two slices, two dict lookups and a few float operations. Anything too short to read a key
from passes on to the engine, which drops it as malformed.

- DHCPv4: client = htype + chaddr[:hlen]; relay = giaddr, or the receiving interface for direct
  traffic (then the bucket is that link's).
- DHCPv6: client = the Client ID (DUID) of the client's message (found by walking down the Relay
  Message options of a relayed one; without a DUID, the sender or the outermost relay's link and
  peer address); relay = the outermost RELAY-FORW's link-address (its sender when that is ``::``),
  or the receiving interface.

- Relay circuit (optional, ``circuit-rate``): DHCPv4 giaddr + the option 82 Circuit-ID
  sub-option, DHCPv6 the outermost relay's link-address + its Interface-ID: one flooding port of an
  access switch or DSLAM spends its own tokens, not those of the relay's other ports. Looked up
  only for relayed packets and only when the table is on (a walk of the v4 options to option 82).

The client bucket is checked first, so one chatty client does not spend its relay's tokens; then
the circuit's, then the relay's.
Memory is bounded: each table holds at most ``max_buckets`` keys; when full, the oldest key goes
(``evicted``). Eviction only ever forgets a bucket — it never refuses a packet.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Final

from dhcpbridge.engine.limits import Buckets

_ZERO4: Final = b"\0\0\0\0"
_ZERO16: Final = bytes(16)
_COOKIE: Final = b"\x63\x82\x53\x63"


class RateLimiter:
    """Both tables for one family; ``check`` gives the drop reason or ``None`` (pass)."""

    __slots__ = ("circuits", "clients", "relays", "settings")

    def __init__(
        self,
        client: tuple[float, int],
        relay: tuple[float, int],
        cap: int,
        counts: Counter[str],
        circuit: tuple[float, int] = (0.0, 1),
    ) -> None:
        """``client``/``relay``/``circuit``: (rate per second, burst); a rate of 0 turns that
        table off. ``counts`` receives the evictions (the family's ``Stats.errors``)."""
        self.clients = Buckets(client[0], client[1], cap, counts) if client[0] > 0 else None
        self.relays = Buckets(relay[0], relay[1], cap, counts) if relay[0] > 0 else None
        self.circuits = Buckets(circuit[0], circuit[1], cap, counts) if circuit[0] > 0 else None
        self.settings: Any = (client, relay, cap, circuit)

    def keys(self, data: bytes, meta: Any) -> tuple[Any, Any] | None:
        raise NotImplementedError

    def circuit(self, data: bytes) -> bytes | None:
        """The relay circuit of a relayed packet (relay address + circuit id), else None."""
        raise NotImplementedError

    def check(self, data: bytes, meta: Any, now: float) -> str | None:
        keys = self.keys(data, meta)
        if keys is None:
            return None
        clients, relays, circuits = self.clients, self.relays, self.circuits
        if clients is not None and not clients.take(keys[0], now):
            return "rate-client"
        if circuits is not None:
            circuit = self.circuit(data)
            if circuit is not None and not circuits.take(circuit, now):
                return "rate-circuit"
        if relays is not None and not relays.take(keys[1], now):
            return "rate-relay"
        return None


class RateLimiter4(RateLimiter):
    """DHCPv4 keys; see the module docstring."""

    __slots__ = ()

    def keys(self, data: bytes, meta: Any) -> tuple[Any, Any] | None:
        if len(data) < 44:
            return None
        hlen = data[2]
        client = data[1:2] + data[28 : 28 + (hlen if hlen < 16 else 16)]
        giaddr = data[24:28]
        return client, (giaddr if giaddr != _ZERO4 else meta.ifindex)

    def circuit(self, data: bytes) -> bytes | None:
        giaddr = data[24:28]
        if giaddr == _ZERO4 or data[236:240] != _COOKIE:
            return None
        i, n = 240, len(data)
        for _ in range(255):  # at most one option per byte after the cookie: the walk ends
            if i >= n:
                return None
            code = data[i]
            if code == 0:
                i += 1
                continue
            if code == 255 or i + 1 >= n:
                return None
            end = i + 2 + data[i + 1]
            if code == 82:
                j = i + 2
                while j + 1 < end and j + 1 < n:  # the sub-options: Circuit-ID is 1
                    sub_end = j + 2 + data[j + 1]
                    if data[j] == 1:
                        return giaddr + data[j + 2 : min(sub_end, end, n)]
                    j = sub_end
                return None
            i = end
        return None


class RateLimiter6(RateLimiter):
    """DHCPv6 keys; see the module docstring."""

    __slots__ = ()

    def keys(self, data: bytes, meta: Any) -> tuple[Any, Any] | None:
        n = len(data)
        if n < 4:
            return None
        if data[0] != 12:  # a client's own message
            duid = _option(data, 4, n, 1)
            return (data[duid[0] : duid[1]] if duid is not None else meta.src), meta.ifindex
        if n < 34:
            return None
        link = data[2:18]
        relay = link if link != _ZERO16 else meta.src
        start, end = 0, n
        for _ in range(32):  # down the Relay Message options to the client's message (RFC 8415: 32 hops)
            inner = _option(data, start + 34, end, 9)
            if inner is None:
                break
            start, end = inner
            if end - start < 4:
                break
            if data[start] != 12:
                duid = _option(data, start + 4, end, 1)
                if duid is not None:
                    return data[duid[0] : duid[1]], relay
                break
            if end - start < 34:
                break
        return data[2:34], relay  # no DUID found: the outermost relay's link and peer address

    def circuit(self, data: bytes) -> bytes | None:
        if len(data) < 34 or data[0] != 12:
            return None
        found = _option(data, 34, len(data), 18)  # the outermost relay's Interface-ID
        return data[2:18] + data[found[0] : found[1]] if found is not None else None


def _option(data: bytes, i: int, end: int, code: int) -> tuple[int, int] | None:
    """Where the body of the first option ``code`` among the options in ``data[i:end]`` lies
    (looks at 16 options at most: the ones wanted here come early)."""
    for _ in range(16):
        if i + 4 > end:
            return None
        length = data[i + 2] << 8 | data[i + 3]
        if data[i] == code >> 8 and data[i + 1] == code & 0xFF:
            return (i + 4, min(i + 4 + length, end))
        i += 4 + length
    return None
