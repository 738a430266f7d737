"""Plain counters the engine and the runtime bump on the hot path (read by metrics and the CLI).

Deliberately not prometheus_client objects: a dict increment costs a fraction of a labelled
counter's, and the metrics collector turns these into Prometheus families at scrape time.
"""

from __future__ import annotations

from collections import Counter

from mypy_extensions import mypyc_attr


@mypyc_attr(native_class=False)  # a plain Python class: compiled code cannot subclass Counter
class Counts(Counter[str]):
    """A ``Counter`` whose ``counts[key] += 1`` stores with dict's own C code.

    ``Counter`` defines ``__delitem__`` in Python, and CPython then routes every item assignment
    through a Python-level method lookup as well (one type slot serves both): about 1,300
    instructions a stored count instead of 150, two per message. Here ``__delitem__`` is dict's,
    so the slot stays C; deleting a missing key raises ``KeyError`` as a dict does (nothing
    deletes these counters)."""

    __slots__ = ()
    __delitem__ = dict.__delitem__  # type: ignore[assignment]


class Stats:
    """Counters by message type and by drop reason, for one protocol family."""

    __slots__ = ("drops", "errors", "received", "refused", "sent")

    def __init__(self) -> None:
        self.received: Counter[str] = Counts()
        self.sent: Counter[str] = Counts()
        self.drops: Counter[str] = Counts()
        self.errors: Counter[str] = Counts()
        # parts of an answered request that were refused (an IA over a cap, a DECLINE over its
        # rate limit), by reason: the request itself got its reply, so these are no drops
        self.refused: Counter[str] = Counts()

    def snapshot(self) -> dict[str, dict[str, int]]:
        return {
            "received": dict(self.received),
            "sent": dict(self.sent),
            "drops": dict(self.drops),
            "errors": dict(self.errors),
            "refused": dict(self.refused),
        }
