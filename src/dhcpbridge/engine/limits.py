"""Rate limits the engine applies to what clients may do to the store (DECLINE, both families).

A token bucket on the engine's own clock (``now`` comes with each transaction, so it stays pure
and testable): one for the whole server and one per client, the per-client table bounded (the
oldest client is forgotten first). A refused request is the caller's counted drop.
"""

from __future__ import annotations


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; ``take`` spends one if there is one."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: float, now: float = 0.0) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = now

    def refill(self, now: float) -> None:
        elapsed = now - self.stamp
        if elapsed > 0:
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
            self.stamp = now

    def take(self, now: float) -> bool:
        self.refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class DeclineLimiter:
    """How many DECLINEs the server accepts: ``rate`` per second server-wide (``burst`` at once),
    and per client ``client_burst`` at once, one more every ``client_interval`` seconds. At most
    ``max_clients`` clients are tracked; beyond that the longest-tracked one is forgotten.
    ``check`` says why a decline is refused ("" when it is accepted, and then counts it)."""

    __slots__ = ("client_burst", "client_rate", "clients", "max_clients", "server")

    def __init__(
        self,
        rate: float = 10.0,
        burst: float = 100.0,
        client_burst: float = 4.0,
        client_interval: float = 60.0,
        max_clients: int = 10_000,
    ) -> None:
        self.server = TokenBucket(rate, burst)
        self.client_burst = client_burst
        self.client_rate = 1.0 / client_interval if client_interval > 0 else float(client_burst)
        self.clients: dict[bytes, TokenBucket] = {}
        self.max_clients = max_clients

    def check(self, client: bytes, now: float) -> str:
        clients = self.clients
        bucket = clients.get(client)
        if bucket is None:
            if len(clients) >= self.max_clients:
                del clients[next(iter(clients))]
            bucket = clients[client] = TokenBucket(self.client_rate, self.client_burst, now)
        bucket.refill(now)
        if bucket.tokens < 1.0:  # the client's own budget is spent: the server's is not touched
            return "decline-rate-limited:client"
        if not self.server.take(now):
            return "decline-rate-limited:server"
        bucket.tokens -= 1.0
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
        self.groups: dict[Group, dict[bytes, float]] = {}

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
                    del table[next(iter(table))]
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
