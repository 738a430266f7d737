"""The PostgreSQL store's planner statistics: when to run ``ANALYZE leases`` while the table grows.

The store's statements are prepared once per connection and planned once (``generic_plans`` in
``postgresql``), from the statistics PostgreSQL has of ``leases`` at that moment. A new database
has none (autovacuum looks at a table once a minute at most), and a plan made for an empty table
may read a lookup by ``(kind, address)`` through ``leases_by_client`` (matching ``kind`` only): it
reads every lease of that kind, so each statement costs more as the table fills. Measured in the
bench (a fresh database per point, 1,000 DORA/s offered): the first-search statement took 0.5-0.7 s
after a few thousand leases, and the server completed 400-500 DORA/s. ``ANALYZE`` refreshes the
statistics and makes PostgreSQL plan the prepared statements again; after it they probe the primary
key. So the store runs it when its writes reach 500, then each time they double: a few times
while a pool fills (each a few milliseconds), and from then on autovacuum keeps up.
"""

from __future__ import annotations

FIRST_ANALYZE = 500  # rows written by this server before its first ANALYZE


class Growth:
    """Counts the rows this server wrote; ``wrote`` says when the table is due an ``ANALYZE``."""

    __slots__ = ("analyzes", "next_at", "written")

    def __init__(self, first: int = FIRST_ANALYZE) -> None:
        self.written = 0
        self.next_at = first
        self.analyzes = 0

    def wrote(self, rows: int) -> bool:
        """Count ``rows`` more; True when their total reached the next threshold (twice the last)."""
        self.written += rows
        if self.written < self.next_at:
            return False
        self.next_at = 2 * self.written
        self.analyzes += 1
        return True
