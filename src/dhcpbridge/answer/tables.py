"""The table backends: a CSV file (held in memory) or an SQLite table (read per key, cached).

Both use the same columns (``entries.row_to_entry``): ``key`` (required; any spelling of a key
for CSV, the canonical spelling for SQLite), any answer field (``client_ip``, ``lease_time``,
``router``, ``options`` as a JSON array, ...) and ``json`` for anything else as a JSON object.

* CSV: UTF-8 (a BOM is fine), a header line, ``#`` in the first cell starts a comment row. The
  whole file is re-read when its (mtime, size, inode) changes; a row that fails its check keeps its
  key's last good entry.
* SQLite: opened read-only; other programs own the data. A lookup runs one indexed
  ``SELECT ... WHERE key IN (...)`` for the keys not in the cache; the cache (misses included) is
  dropped when ``PRAGMA data_version`` says another connection committed, or the file was replaced.
"""

from __future__ import annotations

import asyncio
import csv
import re
import sqlite3
from pathlib import Path
from typing import Any

from dhcpbridge.answer.entries import TABLE_COLUMNS, Entry, EntryError, row_to_entry
from dhcpbridge.answer.keys import InvalidKey, normalise_key
from dhcpbridge.answer.memory import InMemoryStore

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class CsvStore(InMemoryStore):
    """Entries from a CSV file."""

    name = "csv"

    def __init__(self, path: Path, log: Any) -> None:
        super().__init__(path, log)
        self.path = path
        self._signature: tuple[int, int, int] | None = None
        self._problems: list[str] = []

    def _read(self) -> tuple[dict[str, Entry], list[str], list[str]]:
        """Parse the whole file: (entries, problems, warnings). Blocking."""
        index: dict[str, Entry] = {}
        problems: list[str] = []
        warnings: list[str] = []
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                header = [name.strip() for name in reader.fieldnames or []]
                if "key" not in header:
                    return self._index, ["the header has no key column"], []
                unknown = sorted(set(header) - TABLE_COLUMNS)
                if unknown:
                    return self._index, [f"unknown column(s) in the header: {', '.join(unknown)}"], []
                reader.fieldnames = header
                for row in reader:
                    where = f"{self.path.name}:{reader.line_num}"
                    first = (row.get(header[0]) or "").lstrip()
                    if first.startswith("#") or not any((v or "").strip() for v in row.values()):
                        continue
                    if None in row:
                        problems.append(f"{where}: more cells than columns")
                        continue
                    try:
                        entry, row_warnings = row_to_entry(row, where)
                    except EntryError as exc:
                        problems += [f"{where}: {problem}" for problem in exc.problems]
                        self._keep_last_good(row.get("key"), index)
                        continue
                    warnings += [f"{where}: {warning}" for warning in row_warnings]
                    if entry.key in index:
                        problems.append(
                            f"{where}: duplicate key {entry.key} (first at {index[entry.key].origin})"
                        )
                        continue
                    index[entry.key] = entry
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            return self._index, [f"cannot read {self.path}: {exc}"], []
        return index, problems, warnings

    def _keep_last_good(self, key_text: str | None, index: dict[str, Entry]) -> None:
        try:
            key = normalise_key(key_text or "")
        except InvalidKey:
            return
        if key in self._index and key not in index:
            index[key] = self._index[key]

    def _refresh_blocking(self) -> bool:
        signature = _signature(self.path)
        if signature == self._signature:
            return False
        index, problems, warnings = self._read()
        self._signature = signature
        self._index = index
        self._problems = problems
        self.generation += 1
        for problem in problems:
            self.log.error("bad csv row", store=self.name, problem=problem)
        for warning in warnings:
            self.log.warning("csv row", store=self.name, warning=warning)
        self.log.info(
            "csv loaded", store=self.name, path=str(self.path), entries=len(index), errors=len(problems)
        )
        return True

    def load(self) -> None:
        """The first load (before serving)."""
        self._refresh_blocking()

    async def refresh(self) -> bool:
        """Re-read the file if it changed; True when it did."""
        if _signature(self.path) == self._signature:
            return False
        return await asyncio.to_thread(self._refresh_blocking)

    def problems(self) -> list[str]:
        """Current problems, one line each."""
        return list(self._problems)


class SqliteStore:
    """Entries from an SQLite table, looked up per key with a cache."""

    name = "sqlite"
    wants_prefetch = True

    def __init__(self, path: Path, table: str, log: Any, cache_size: int = 200_000) -> None:
        if not _IDENTIFIER.match(table):
            raise ValueError(f"{table!r} is not a plain SQL table name")
        self.path = path
        self.table = table
        self.log = log
        self.cache_size = cache_size
        self.generation = 0
        self._cache: dict[str, Entry | None] = {}
        self._problems: dict[str, list[str]] = {}
        self._db: sqlite3.Connection | None = None
        self._inode = 0
        self._data_version = -1
        self._columns: list[str] = []
        self._rows = 0

    def _open(self) -> None:
        if self._db is not None:
            self._db.close()
        uri = self.path.resolve().as_uri() + "?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        db.row_factory = sqlite3.Row
        columns = [row["name"] for row in db.execute(f"PRAGMA table_info({self.table})")]
        if not columns:
            db.close()
            raise ValueError(f"{self.path}: no table {self.table!r}")
        if "key" not in columns:
            db.close()
            raise ValueError(f"{self.path}: table {self.table} has no key column")
        unknown = sorted(set(columns) - TABLE_COLUMNS)
        if unknown:
            db.close()
            raise ValueError(f"{self.path}: table {self.table} has unknown column(s) {', '.join(unknown)}")
        self._db = db
        self._columns = columns
        self._inode = self.path.stat().st_ino
        self._data_version = self._version()

    def _version(self) -> int:
        assert self._db is not None
        return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def _scan_keys(self) -> tuple[int, list[str]]:
        """Count the rows and check every key's spelling (own connection: runs in a thread)."""
        uri = self.path.resolve().as_uri() + "?mode=ro"
        db = sqlite3.connect(uri, uri=True)
        try:
            rows = 0
            bad: list[str] = []
            for (key,) in db.execute(f"SELECT key FROM {self.table}"):
                rows += 1
                text = str(key) if key is not None else ""
                try:
                    canonical = normalise_key(text)
                except InvalidKey as exc:
                    bad.append(str(exc))
                    continue
                if canonical != text:
                    bad.append(f"key {text!r} is not in canonical form {canonical!r}: it will never match")
            return rows, bad
        finally:
            db.close()

    def _take_scan(self, rows: int, bad: list[str]) -> None:
        self._rows = rows
        self._problems = {"(keys)": bad} if bad else {}
        for problem in bad[:20]:
            self.log.error("bad sqlite key", store=self.name, problem=problem)
        self.log.info("sqlite table read", store=self.name, path=str(self.path), rows=rows, errors=len(bad))

    def load(self) -> None:
        """Open the table and check every key's spelling once (before serving)."""
        self._open()
        self._take_scan(*self._scan_keys())

    def get(self, key: str) -> Entry | None:
        """The entry stored under ``key``: from the cache, else one query."""
        try:
            return self._cache[key]
        except KeyError:
            pass
        self.prefetch([key])
        return self._cache.get(key)

    def prefetch(self, keys: list[str]) -> None:
        """Load every uncached key of ``keys`` with one query (misses are cached too)."""
        missing = [key for key in keys if key not in self._cache]
        if not missing or self._db is None:
            return
        if len(self._cache) + len(missing) > self.cache_size:
            self._cache.clear()
        marks = ",".join("?" * len(missing))
        found: dict[str, Entry | None] = dict.fromkeys(missing)
        for row in self._db.execute(f"SELECT * FROM {self.table} WHERE key IN ({marks})", missing):
            record = {name: row[name] for name in self._columns}
            origin = f"{self.path.name}:{self.table}[{record['key']}]"
            try:
                entry, _warnings = row_to_entry(record, origin)
            except EntryError as exc:
                if str(record["key"]) not in self._problems:
                    self.log.error("bad sqlite row", store=self.name, origin=origin, problems=exc.problems)
                self._problems[str(record["key"])] = exc.problems
                continue
            found[entry.key] = entry
        self._cache.update(found)

    async def refresh(self) -> bool:
        """Drop the cache when the data changed; True when it did."""
        try:
            inode = self.path.stat().st_ino
        except OSError:
            return False
        if inode != self._inode:
            self.log.info("sqlite file replaced; reopening", store=self.name, path=str(self.path))
            self._open()
        else:
            version = self._version()
            if version == self._data_version:
                return False
            self._data_version = version
        self._cache.clear()
        self.generation += 1
        self._take_scan(*await asyncio.to_thread(self._scan_keys))
        return True

    def problems(self) -> list[str]:
        """Problems seen so far (rows are checked when first read)."""
        return [f"{key}: {problem}" for key, problems in self._problems.items() for problem in problems]

    def stats(self) -> dict[str, Any]:
        """Counters for ``/healthz``."""
        return {
            "name": self.name,
            "path": str(self.path),
            "entries": self._rows,
            "cached": len(self._cache),
            "errors": len(self.problems()),
            "generation": self.generation,
        }

    def close(self) -> None:
        """Close the connection."""
        if self._db is not None:
            self._db.close()
            self._db = None


def check_rows(store: SqliteStore) -> list[str]:
    """Read and check every row of an SQLite store (for ``--check``); one line per problem."""
    assert store._db is not None
    keys = [str(key) for (key,) in store._db.execute(f"SELECT key FROM {store.table}")]
    for start in range(0, len(keys), 500):
        store.prefetch(keys[start : start + 500])
    return store.problems()
