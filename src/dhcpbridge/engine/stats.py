"""Plain counters the engine and the runtime bump on the hot path (read by metrics and the CLI).

Deliberately not prometheus_client objects: a dict increment costs a fraction of a labelled
counter's, and the metrics collector turns these into Prometheus families at scrape time.
"""

from __future__ import annotations

from collections import Counter


class Stats:
    """Counters by message type and by drop reason, for one protocol family."""

    __slots__ = ("drops", "errors", "received", "refused", "sent")

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.drops: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        # parts of an answered request that were refused (an IA over a cap, a DECLINE over its
        # rate limit), by reason: the request itself got its reply, so these are no drops
        self.refused: Counter[str] = Counter()

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {
            "received": dict(self.received),
            "sent": dict(self.sent),
            "drops": dict(self.drops),
            "errors": dict(self.errors),
            "refused": dict(self.refused),
        }
