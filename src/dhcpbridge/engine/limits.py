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
