"""Rate limits the engine applies to what clients may do to the store (DECLINE, both families).

Token buckets on the engine's own clock (``now`` comes with each transaction, so it stays pure
and testable): one for the whole server and one per client, the per-client table bounded (the
oldest client is forgotten first). A refused request is the caller's counted drop. The same
``Buckets`` serve the server's packet limits (``server.ratelimit``).
"""

from __future__ import annotations

from collections import Counter, OrderedDict, deque
from typing import Any

EVICTED = "rate-buckets-evicted"  # a key forgotten to make room (the packet limits count it)


class Buckets:
    """Token buckets by key: ``rate`` tokens a second, at most ``burst``; ``take`` spends one (a
    new key starts full). At most ``cap`` keys: when full, the oldest goes (counted as ``EVICTED``
    in ``counts`` when given); forgetting a bucket never refuses anything. ``now`` may step back
    (a wall clock): a bucket refills only when it moves on."""

    __slots__ = ("burst", "cap", "counts", "order", "rate", "table")

    def __init__(self, rate: float, burst: float, cap: int, counts: Counter[str] | None = None) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.cap = cap
        self.table: dict[Any, list[float]] = {}
        # the keys in the order they came: the oldest is found in O(1). ``next(iter(table))``
        # after deleting from the front rescans every deleted slot (CPython dicts), O(cap) per
        # new key once the table is full: 68 µs per packet at 100,000 keys, a flood's best friend
        self.order: deque[Any] = deque()
        self.counts = counts

    def take(self, key: Any, now: float) -> bool:
        table = self.table
        bucket = table.get(key)
        if bucket is None:
            if len(table) >= self.cap:
                del table[self.order.popleft()]
                if self.counts is not None:
                    self.counts[EVICTED] += 1
            table[key] = [self.burst - 1.0, now]
            self.order.append(key)
            return True
        tokens = bucket[0]
        elapsed = now - bucket[1]
        if elapsed > 0.0:
            tokens += elapsed * self.rate
            if tokens > self.burst:
                tokens = self.burst
            bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True

    def give_back(self, key: Any) -> None:
        """Return the token ``take`` just spent for ``key``."""
        bucket = self.table.get(key)
        if bucket is not None:
            bucket[0] += 1.0


class DeclineLimiter:
    """How many DECLINEs the server accepts: ``rate`` per second server-wide (``burst`` at once),
    and per client ``client_burst`` at once, one more every ``client_interval`` seconds. At most
    ``max_clients`` clients are tracked; beyond that the longest-tracked one is forgotten.
    ``check`` says why a decline is refused ("" when it is accepted, and then counts it)."""

    __slots__ = ("clients", "server")

    def __init__(
        self,
        rate: float = 10.0,
        burst: float = 100.0,
        client_burst: float = 4.0,
        client_interval: float = 60.0,
        max_clients: int = 10_000,
    ) -> None:
        self.server = Buckets(rate, burst, 1)
        client_rate = 1.0 / client_interval if client_interval > 0 else float(client_burst)
        self.clients = Buckets(client_rate, client_burst, max_clients)

    def check(self, client: bytes, now: float) -> str:
        if not self.clients.take(client, now):
            return "decline-rate-limited:client"
        if not self.server.take(None, now):
            self.clients.give_back(client)  # the client's own budget is not spent on a refusal
            return "decline-rate-limited:server"
        return ""


#: One cap group: ("circuit", relay, circuit-id) or ("mac-prefix", first bytes of the MAC).
Group = tuple[str, bytes, bytes]


class LeaseCaps:
    """How many clients may hold a dynamic lease per relay circuit (the relay plus its option 82
    circuit-id / DHCPv6 interface-id) and per MAC prefix (its first ``prefix_len`` bytes: 3 = the
    OUI), so one flooding port or one vendor's random MACs cannot empty a pool for everyone.

    The engine fills the table as it offers and commits (``hold``), a release empties it
    (``forget``), and time does the rest: an entry past its expiry no longer counts. The table is
    this process's own: after a restart it fills again as clients renew, and on a shared store each
    server counts the clients it served. Bounded: ``max_groups`` groups (the oldest goes first),
    each holding at most its cap of clients. A cap of 0 turns that kind off.
    """

    __slots__ = ("groups", "max_groups", "on", "per_circuit", "per_prefix", "prefix_len")

    def __init__(
        self, per_circuit: int = 0, per_prefix: int = 0, prefix_len: int = 3, max_groups: int = 65_536
    ) -> None:
        self.per_circuit = per_circuit
        self.per_prefix = per_prefix
        self.prefix_len = prefix_len
        self.max_groups = max_groups
        self.on = per_circuit > 0 or per_prefix > 0
        # ordered: the oldest group goes in O(1) (see ``Buckets.order``)
        self.groups: OrderedDict[Group, dict[bytes, float]] = OrderedDict()

    def of(self, relay: bytes, circuit: bytes, mac: bytes) -> tuple[Group, ...]:
        """The groups a client seen through ``relay`` on ``circuit`` with ``mac`` belongs to."""
        found: list[Group] = []
        if self.per_circuit and circuit:
            found.append(("circuit", relay, circuit))
        if self.per_prefix and len(mac) >= self.prefix_len:
            found.append(("mac-prefix", mac[: self.prefix_len], b""))
        return tuple(found)

    def _cap(self, group: Group) -> int:
        return self.per_circuit if group[0] == "circuit" else self.per_prefix

    def refuse(self, groups: tuple[Group, ...], client: bytes, now: float) -> str:
        """Why ``client`` may not take a new lease ("lease-cap-circuit" / "lease-cap-mac-prefix"),
        or "" (it may, or it is counted already)."""
        for group in groups:
            members = self.groups.get(group)
            if members is None or (client in members and members[client] > now):
                continue
            cap = self._cap(group)
            if len(members) >= cap:
                for other in [c for c, until in members.items() if until <= now]:
                    del members[other]  # lapsed: no longer counts
                if len(members) >= cap:
                    return "lease-cap-" + group[0]
        return ""

    def hold(self, groups: tuple[Group, ...], client: bytes, until: float) -> None:
        """Count ``client`` in its groups until ``until`` (a group already full of others is left
        as it is: a client that held its lease before this process started is not refused)."""
        table = self.groups
        for group in groups:
            members = table.get(group)
            if members is None:
                if len(table) >= self.max_groups:
                    table.popitem(last=False)
                members = table[group] = {}
            if client in members or len(members) < self._cap(group):
                members[client] = until

    def forget(self, groups: tuple[Group, ...], client: bytes) -> None:
        """``client`` let its lease go."""
        for group in groups:
            members = self.groups.get(group)
            if members is not None:
                members.pop(client, None)
                if not members:
                    del self.groups[group]
