"""The persisted queue: pending updates and published records in one small SQLite file (WAL).

Every call runs on one dedicated thread (``UpdateQueue.run``), never on the event loop; the
updater hands over a batch of changes per turn, written in one transaction. After a restart
``load`` returns the jobs still to send (oldest first) and the records published so far.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dhcpbridge.dns.jobs import Job, Key, Record

T = TypeVar("T")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL,
                                 attempts INTEGER NOT NULL DEFAULT 0, due REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS published (family INTEGER NOT NULL, address TEXT NOT NULL,
                                      body TEXT NOT NULL, PRIMARY KEY (family, address));
"""


@dataclass
class Batch:
    """Changes to write in one transaction."""

    added: list[Job] = field(default_factory=list)
    retried: dict[int, Job] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)
    published: dict[Key, Record | None] = field(default_factory=dict)  # None: forget

    def __bool__(self) -> bool:
        return bool(self.added or self.retried or self.done or self.published)


class UpdateQueue:
    """See the module docstring."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="dns-queue")
        self._db: sqlite3.Connection | None = None

    async def run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    # --- on the queue's thread ----------------------------------------------------------------
    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        self._db = db

    def load(self) -> tuple[list[Job], dict[Key, Record]]:
        db = self._require()
        jobs = [
            Job.from_json(row[0], row[1], row[2], row[3])
            for row in db.execute("SELECT id, body, attempts, due FROM jobs ORDER BY id")
        ]
        published = {}
        for (body,) in db.execute("SELECT body FROM published"):
            record = Record.from_json(body)
            published[record.key] = record
        return jobs, published

    def save(self, batch: Batch) -> None:
        db = self._require()
        published = {k: r.to_json() for k, r in batch.published.items() if r is not None}
        jobs = []
        for j in batch.added:  # an added name's job carries the record just encoded for published
            shared = j.op == "add" and batch.published.get(j.record.key) is j.record
            jobs.append((j.id, j.to_json(published[j.record.key] if shared else None), j.attempts, j.due))
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR REPLACE INTO jobs (id, body, attempts, due) VALUES (?, ?, ?, ?)", jobs)
            db.executemany(
                "UPDATE jobs SET attempts = ?, due = ? WHERE id = ?",
                [(j.attempts, j.due, j.id) for j in batch.retried.values()],
            )
            db.executemany("DELETE FROM jobs WHERE id = ?", [(i,) for i in batch.done])
            db.executemany(
                "INSERT OR REPLACE INTO published (family, address, body) VALUES (?, ?, ?)",
                [(k[0], k[1], body) for k, body in published.items()],
            )
            db.executemany(
                "DELETE FROM published WHERE family = ? AND address = ?",
                [k for k, r in batch.published.items() if r is None],
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close_db(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _require(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the DNS update queue is not open")
        return self._db

    # --- from the loop ------------------------------------------------------------------------
    async def close(self) -> None:
        await self.run(self.close_db)
        self._executor.shutdown(wait=True)
