"""The looking glass kept in a SQLite file (``[looking-glass] persist``), so a restart does not
forget what clients did.

``GlassFile`` holds one row per exchange: the client key, the request and reply bytes and the
decision's facts as plain values (the step, subnet and action by name), never decoded JSON, so
writing costs little and a look decodes as it does from memory. ``keep`` is the retention limit:
after each write the oldest rows beyond it go. ``keep_forever`` runs off the packet path: every
``interval`` seconds it takes what the glass filed since the last batch (``LookingGlass.since``)
and writes it in one transaction on a worker thread; at the end it writes the last batch.
``load`` reads the newest rows back into a glass at a start (``LookingGlass.restore``).

What a client sends faster than its ring turns over between two batches is not all written: a
batch holds what the glass still holds.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dhcpbridge import logs
from dhcpbridge.glass.ring import LookingGlass, Record

SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    family TEXT NOT NULL,
    client BLOB NOT NULL,
    time REAL NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    detail TEXT NOT NULL,
    dropped_by TEXT NOT NULL,
    state TEXT NOT NULL,
    done INTEGER NOT NULL,
    request BLOB NOT NULL,
    reply BLOB,
    peer TEXT NOT NULL,
    subnet TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL
)
"""
COLUMNS = (
    "family, client, time, status, reason, detail, dropped_by, state, done, request, reply, "
    "peer, subnet, source, action"
)
Row = tuple[Any, ...]
log = logs.get("dhcpbridge.glass")


def to_row(family: str, key: bytes, record: Record) -> Row:
    """A glass record as a row: objects by name, where it came from and went to as JSON."""
    r = record.named()
    src, src_port, ifname = r.meta
    dest = r.dest
    peer = json.dumps([src, src_port, ifname, list(dest) if isinstance(dest, tuple) else dest, r.port])
    facts = (r.time, r.status, r.reason, r.detail, r.dropped_by, r.state, int(r.done), r.raw, r.reply)
    return (family, key, *facts, peer, r.subnet, r.source, r.action)


def from_row(row: Row) -> tuple[str, bytes, Record]:
    """``to_row`` undone: the family, the client key and the record to ``restore``."""
    family, key, now, status, reason, detail, dropped_by, state, done, raw, reply, peer = row[:12]
    src, src_port, ifname, dest, port = json.loads(peer)
    raw, reply = bytes(raw), None if reply is None else bytes(reply)
    dest = tuple(dest) if isinstance(dest, list) else dest
    facts = (now, status, reason, detail, dropped_by, state, bool(done), raw, (src, src_port, ifname), reply)
    record = Record(*facts, dest, port, *row[12:15])
    return family, bytes(key), record


class GlassFile:
    """The SQLite file of the glass (see the module docstring); used from one thread at a time."""

    def __init__(self, path: Path, keep: int) -> None:
        self.path = path
        self.keep = keep
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(SCHEMA)
        self.written = 0

    def write(self, rows: list[Row]) -> None:
        """Append ``rows`` in one transaction, then drop the oldest beyond ``keep``."""
        if not rows:
            return
        db = self.db
        db.execute("BEGIN")
        try:
            db.executemany(f"INSERT INTO exchanges ({COLUMNS}) VALUES ({', '.join('?' * 15)})", rows)
            db.execute("DELETE FROM exchanges WHERE id <= (SELECT MAX(id) FROM exchanges) - ?", (self.keep,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.written += len(rows)

    def load(self, limit: int) -> list[tuple[str, bytes, Record]]:
        """The newest ``limit`` exchanges, oldest first."""
        rows = self.db.execute(
            f"SELECT {COLUMNS} FROM exchanges ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [from_row(row) for row in reversed(rows)]

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM exchanges").fetchone()[0])

    def close(self) -> None:
        self.db.close()


def load_into(glass: LookingGlass, file: GlassFile) -> int:
    """Restore the file's newest exchanges (as many as the glass holds) into ``glass``."""
    rows = file.load(glass.slots)
    for family, key, record in rows:
        glass.restore(family, key, record)
    return len(rows)


class Keeper:
    """Writes what ``glass()`` (the server's current glass, None while off) filed since the last
    batch to ``file``, every ``interval`` seconds, off the loop."""

    def __init__(self, file: GlassFile, glass: Callable[[], LookingGlass | None], interval: float) -> None:
        self.file = file
        self.glass = glass
        self.interval = interval
        self._seen: LookingGlass | None = None
        self._mark = 0
        self.failures = 0

    def start_from(self, glass: LookingGlass) -> None:
        """What ``glass`` holds now is in the file already (it was just loaded)."""
        self._seen, self._mark = glass, glass.filed

    def batch(self) -> list[Row]:
        """The rows filed since the last batch (a new glass, after a reload, starts from 0)."""
        glass = self.glass()
        if glass is None:
            return []
        if glass is not self._seen:
            self._seen, self._mark = glass, 0
        mark, self._mark = self._mark, glass.filed
        return [to_row(family, key, record) for _, family, key, record in glass.since(mark)]

    async def write_batch(self) -> None:
        rows = self.batch()
        if rows:
            await asyncio.to_thread(self.file.write, rows)

    async def keep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.write_batch()
            except sqlite3.Error as exc:
                self.failures += 1  # that batch is lost (not retried); the next one tries again
                log.warning("looking glass: write failed", path=str(self.file.path), error=str(exc))
