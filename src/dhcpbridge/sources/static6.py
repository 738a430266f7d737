"""Static DHCPv6 assignments: a fixed address and/or delegated prefix per DUID, Interface-ID or
Remote-ID, from ``[[static6]]`` entries, dhcpkit-style CSV files, or SQLite or DBM files built
from them.

CSV (dhcpkit's format): a header row naming ``id``, ``address`` and ``prefix`` (other columns are
ignored), one assignment per row; ``id`` is ``duid:HEX``, ``interface-id:HEX``,
``interface-id-str:TEXT``, ``remote-id:ENTERPRISE:HEX`` or ``remote-id-str:ENTERPRISE:TEXT``;
``address`` and ``prefix`` may be empty (not both); rows whose id starts with ``#`` are comments.

SQLite (``dhcpbridge build-sqlite a.csv a.db``): the same rows with the id turned into its lookup
key, looked up per request, so a table of millions of lines costs no memory and a rebuilt file
(replaced atomically) is picked up on reload. A file is read as SQLite when its name ends in
``.db``, ``.sqlite`` or ``.sqlite3``.

DBM (``dhcpbridge build-dbm a.csv a.dbm``, dhcpkit's "shelf" use case): the same rows in a
key-value file of Python's ``dbm`` module (whichever flavour the Python has: gdbm, ndbm, or the
portable ``dbm.dumb``; the reader detects it), key = the lookup key, value = id, address,
prefix and line as tab-separated text (no pickles, unlike dhcpkit's shelves, which hold pickled
objects of its own classes and so are not read here). Looked up per request like SQLite. A file
is read as DBM when its name ends in ``.dbm`` or ``.gdbm``.

Lookup order, as in dhcpkit: the client's DUID, then the Interface-ID and then the Remote-ID of the
relay closest to the client. IAs an assignment does not cover (a second IA_NA, or an IA_NA when
only a prefix is assigned) are served from the link's pools, if it has any.
"""

from __future__ import annotations

import contextlib
import csv
import dbm
import ipaddress
import os
import sqlite3
import struct
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhcpbridge.config.model6 import (
    KEY_DUID,
    KEY_INTERFACE_ID,
    KEY_REMOTE_ID,
    Static6Config,
    canonical_static_id,
    parse_static_id,
)
from dhcpbridge.engine.model import NO_ANSWER, Action, Answer
from dhcpbridge.engine.ports import Query
from dhcpbridge.sources.errors import SourceError

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
DBM_SUFFIXES = (".dbm", ".gdbm")
DBM_SCHEMA_KEY = b"\x00schema"  # no lookup key starts with a zero byte
DBM_SCHEMA = b"dhcpbridge-static6 1"
SCHEMA_VERSION = "1"
_U32 = struct.Struct("!I")
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE assignments (
    key BLOB PRIMARY KEY,
    id TEXT NOT NULL,
    address TEXT,
    prefix TEXT,
    line INTEGER NOT NULL
) WITHOUT ROWID;
"""


class Static6Error(SourceError):
    """Assignments that cannot be used; ``errors`` has one ``file:line N: message`` per problem."""


@dataclass(frozen=True, slots=True)
class Assignment6:
    """One static assignment: what ``id`` (canonical text) gets."""

    id: str
    address: int | None
    prefix: tuple[int, int] | None


def parse_row(ident: str, address: str, prefix: str) -> tuple[bytes, Assignment6]:
    """One CSV row (id, address, prefix as text) -> (lookup key, assignment); ``ValueError`` says why."""
    key = parse_static_id(ident)
    addr = int(ipaddress.IPv6Address(address.strip())) if address.strip() else None
    pfx = None
    if prefix.strip():
        net = ipaddress.IPv6Network(prefix.strip(), strict=True)
        pfx = (int(net.network_address), net.prefixlen)
    if addr is None and pfx is None:
        raise ValueError("neither address nor prefix")
    return key, Assignment6(canonical_static_id(key), addr, pfx)


def read_csv(path: Path) -> Generator[tuple[int, bytes, Assignment6], None, None]:
    """Rows of a dhcpkit CSV file as (line number, key, assignment); ``Static6Error`` at the first
    bad row (with its line number) or a missing column."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise Static6Error([f"{path}: {exc.strerror or exc}"]) from None
    with handle:
        reader = csv.DictReader(handle)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        missing = [c for c in ("id", "address", "prefix") if c not in fields]
        if missing:
            raise Static6Error(
                [f"{path}:line 1: header lacks column(s) {', '.join(missing)} (need id,address,prefix)"]
            )
        reader.fieldnames = fields
        try:
            for row in reader:
                ident = (row.get("id") or "").strip()
                if not ident or ident.startswith("#"):
                    continue
                try:
                    key, assignment = parse_row(ident, row.get("address") or "", row.get("prefix") or "")
                except ValueError as exc:
                    raise Static6Error([f"{path}:line {reader.line_num}: {exc}"]) from None
                yield reader.line_num, key, assignment
        except (csv.Error, UnicodeDecodeError) as exc:
            raise Static6Error([f"{path}:line {reader.line_num}: {exc}"]) from None


def load_csv(path: Path) -> dict[bytes, Assignment6]:
    """A whole CSV file in memory; duplicate ids are errors."""
    table: dict[bytes, Assignment6] = {}
    lines: dict[bytes, int] = {}
    with contextlib.closing(read_csv(path)) as rows:  # a repeated id stops early: close the file now
        for line, key, assignment in rows:
            if key in table:
                raise Static6Error([f"{path}:line {line}: {assignment.id} repeats line {lines[key]}"])
            table[key] = assignment
            lines[key] = line
    return table


def count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def build_sqlite(
    csv_path: Path, db_path: Path, progress: Callable[[int], None] | None = None, batch: int = 5000
) -> int:
    """Convert a dhcpkit CSV file into an SQLite file for the ``static6`` source; returns the row
    count. The target is written beside itself and renamed over it only when complete, so a
    running server never sees half a file and a bad row (``Static6Error`` with its line number)
    leaves the old file alone. ``progress`` is called with the line number reached."""
    db_path = db_path.resolve()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    count = 0
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.executescript(_SCHEMA)
            db.execute(
                "INSERT INTO meta VALUES ('schema_version', ?), ('source', ?)",
                (SCHEMA_VERSION, str(csv_path)),
            )
            db.execute("BEGIN")
            rows: list[tuple[Any, ...]] = []
            with contextlib.closing(read_csv(csv_path)) as csv_rows:
                for line, key, a in csv_rows:
                    address = str(ipaddress.IPv6Address(a.address)) if a.address is not None else None
                    prefix = (
                        f"{ipaddress.IPv6Address(a.prefix[0])}/{a.prefix[1]}"
                        if a.prefix is not None
                        else None
                    )
                    rows.append((key, a.id, address, prefix, line))
                    if len(rows) >= batch:
                        count += _insert(db, rows, csv_path)
                        rows = []
                        if progress is not None:
                            progress(line)
            count += _insert(db, rows, csv_path)
            db.execute("COMMIT")
        finally:
            db.close()
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        os.replace(tmp, db_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _insert(db: sqlite3.Connection, rows: list[tuple[Any, ...]], csv_path: Path) -> int:
    try:
        db.executemany("INSERT INTO assignments VALUES (?,?,?,?,?)", rows)
    except sqlite3.IntegrityError:
        for row in rows:  # find the repeated id for the message
            try:
                db.execute("INSERT INTO assignments VALUES (?,?,?,?,?)", row)
            except sqlite3.IntegrityError:
                first = db.execute("SELECT line FROM assignments WHERE key = ?", (row[0],)).fetchone()
                raise Static6Error([f"{csv_path}:line {row[4]}: {row[1]} repeats line {first[0]}"]) from None
    return len(rows)


class _SqliteTable:
    """Per-request lookups in a file made by :func:`build_sqlite` (opened read-only)."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise Static6Error(
                [f"{path}: no such file (build it with: dhcpbridge build-sqlite FILE.csv {path})"]
            )
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            version = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            self.rows = int(self.db.execute("SELECT count(*) FROM assignments").fetchone()[0])
        except sqlite3.Error as exc:
            raise Static6Error([f"{path}: not a static6 SQLite file ({exc})"]) from None
        if version is None or version[0] != SCHEMA_VERSION:
            raise Static6Error([f"{path}: schema version {version} is not {SCHEMA_VERSION}; rebuild it"])
        self.path = path

    def get(self, key: bytes) -> Assignment6 | None:
        row = self.db.execute("SELECT id, address, prefix FROM assignments WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        address = int(ipaddress.IPv6Address(row[1])) if row[1] else None
        prefix = None
        if row[2]:
            net = ipaddress.IPv6Network(row[2])
            prefix = (int(net.network_address), net.prefixlen)
        return Assignment6(row[0], address, prefix)

    def values(self) -> Iterator[tuple[int | None, tuple[int, int] | None]]:
        for address, prefix in self.db.execute("SELECT address, prefix FROM assignments"):
            addr = int(ipaddress.IPv6Address(address)) if address else None
            pfx = None
            if prefix:
                net = ipaddress.IPv6Network(prefix)
                pfx = (int(net.network_address), net.prefixlen)
            yield addr, pfx

    def close(self) -> None:
        self.db.close()


def _dbm_value(a: Assignment6, line: int) -> bytes:
    address = str(ipaddress.IPv6Address(a.address)) if a.address is not None else ""
    prefix = f"{ipaddress.IPv6Address(a.prefix[0])}/{a.prefix[1]}" if a.prefix is not None else ""
    return f"{a.id}\t{address}\t{prefix}\t{line}".encode()


def _from_dbm(value: bytes) -> tuple[Assignment6, int]:
    ident, address, prefix, line = value.decode().split("\t")
    addr = int(ipaddress.IPv6Address(address)) if address else None
    pfx = None
    if prefix:
        net = ipaddress.IPv6Network(prefix)
        pfx = (int(net.network_address), net.prefixlen)
    return Assignment6(ident, addr, pfx), int(line)


def build_dbm(csv_path: Path, dbm_path: Path, progress: Callable[[int], None] | None = None) -> int:
    """Convert a dhcpkit CSV file into a DBM file for the ``static6`` source; returns the row
    count. Written beside the target and renamed over it when complete (a bad row, reported by
    ``Static6Error`` with its line number, leaves the old file alone); a flavour that keeps
    several files (``dbm.dumb``: .dat and .dir) has them renamed one after the other."""
    dbm_path = dbm_path.resolve()
    dbm_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = dbm_path.parent / f".{dbm_path.name}.{os.getpid()}.tmp"
    count = 0
    try:
        with dbm.open(str(tmp), "n", 0o644) as db, contextlib.closing(read_csv(csv_path)) as rows:
            db[DBM_SCHEMA_KEY] = DBM_SCHEMA
            for line, key, assignment in rows:
                old = db.get(key)
                if old is not None:
                    first = _from_dbm(old)[1]
                    raise Static6Error([f"{csv_path}:line {line}: {assignment.id} repeats line {first}"])
                db[key] = _dbm_value(assignment, line)
                count += 1
                if progress is not None and not count % 5000:
                    progress(line)
        for made in sorted(tmp.parent.glob(tmp.name + "*")):
            os.replace(made, dbm_path.parent / (dbm_path.name + made.name[len(tmp.name) :]))
    finally:
        for left in tmp.parent.glob(tmp.name + "*"):
            left.unlink(missing_ok=True)
    return count


class _DbmTable:
    """Per-request lookups in a file made by :func:`build_dbm` (opened read-only)."""

    def __init__(self, path: Path) -> None:
        kind = dbm.whichdb(str(path))
        if kind is None:
            raise Static6Error(
                [f"{path}: no such file (build it with: dhcpbridge build-dbm FILE.csv {path})"]
            )
        try:
            self.db = dbm.open(str(path), "r")  # noqa: SIM115 - open while the source lives
        except dbm.error as exc:  # (a tuple: the error of each flavour)
            raise Static6Error(
                [f"{path}: not a DBM file this Python reads ({kind or 'unknown'}: {exc})"]
            ) from None
        if self.db.get(DBM_SCHEMA_KEY) != DBM_SCHEMA:
            self.db.close()
            raise Static6Error([f"{path}: not a static6 DBM file of this version; rebuild it"])
        self.rows = len(self.db) - 1
        self.path = path

    def get(self, key: bytes) -> Assignment6 | None:
        value = self.db.get(key)
        return None if value is None else _from_dbm(value)[0]

    def values(self) -> Iterator[tuple[int | None, tuple[int, int] | None]]:
        for key in self.db.keys():  # noqa: SIM118 - not every flavour iterates
            if key != DBM_SCHEMA_KEY:
                a = _from_dbm(self.db[key])[0]
                yield a.address, a.prefix

    def close(self) -> None:
        self.db.close()


class Static6Source:
    """The ``static6`` source; see the module docstring.

    ``keep`` decides which assigned addresses / prefix starts are reported by ``reserved()`` (so
    the pools never hand them out): pass the pools' membership test, so a large table outside the
    pools costs nothing there.
    """

    in_process = True  # answers without IO that can suspend: the runtime may drive it inline
    families = frozenset({6})  # the v4 engine leaves it out of its chain

    def __init__(
        self,
        table: dict[bytes, Assignment6],
        databases: Iterable[_SqliteTable | _DbmTable] = (),
        name: str = "static6",
        keep: Callable[[int], bool] | None = None,
        options: dict[bytes, dict[int, bytes]] | None = None,
    ) -> None:
        self.name = name
        self.table = table
        self.databases = list(databases)
        self._options = options or {}
        self._answers: dict[bytes, Answer] = {}
        keep = keep or (lambda _value: True)
        reserved: set[int] = set()
        values: Iterable[tuple[int | None, tuple[int, int] | None]] = (
            (a.address, a.prefix) for a in table.values()
        )
        for source in [values, *(db.values() for db in self.databases)]:
            for address, prefix in source:
                if address is not None and keep(address):
                    reserved.add(address)
                if prefix is not None and keep(prefix[0]):
                    reserved.add(prefix[0])
        self._reserved = frozenset(reserved)

    @classmethod
    def open(
        cls,
        entries: Iterable[Static6Config],
        files: Iterable[Path],
        encode_options: Callable[[dict[str, Any]], dict[int, bytes]],
        keep: Callable[[int], bool] | None = None,
        name: str = "static6",
    ) -> Static6Source:
        """From ``[[static6]]`` entries and CSV/SQLite/DBM files; ``Static6Error`` lists every problem."""
        table: dict[bytes, Assignment6] = {}
        options: dict[bytes, dict[int, bytes]] = {}
        databases: list[_SqliteTable | _DbmTable] = []
        errors: list[str] = []
        for i, entry in enumerate(entries):
            key = parse_static_id(entry.id)
            address = int(entry.address) if entry.address is not None else None
            prefix = (int(entry.prefix.network_address), entry.prefix.prefixlen) if entry.prefix else None
            table[key] = Assignment6(canonical_static_id(key), address, prefix)
            if entry.options:
                try:
                    options[key] = encode_options(entry.options)
                except ValueError as exc:
                    errors.append(f"static6[{i}].options: {exc}")
        for path in files:
            try:
                if path.suffix.lower() in SQLITE_SUFFIXES:
                    databases.append(_SqliteTable(path))
                elif path.suffix.lower() in DBM_SUFFIXES:
                    databases.append(_DbmTable(path))
                else:
                    for key, assignment in load_csv(path).items():
                        table.setdefault(key, assignment)  # [[static6]] entries win
            except Static6Error as exc:
                errors += exc.errors
        if errors:
            for db in databases:
                db.close()
            raise Static6Error(errors)
        return cls(table, databases, name, keep, options)

    def __len__(self) -> int:
        return len(self.table) + sum(db.rows for db in self.databases)

    def reserved(self) -> frozenset[int]:
        return self._reserved

    def _lookup(self, key: bytes) -> Answer | None:
        answer = self._answers.get(key)
        if answer is not None:
            return answer
        found = self.table.get(key)
        cacheable = found is not None
        if found is None:
            for db in self.databases:
                found = db.get(key)
                if found is not None:
                    break
        if found is None:
            return None
        answer = Answer(
            Action.ASSIGN,
            source=self.name,
            dynamic=True,  # IAs this assignment does not cover may use the link's pools
            options=self._options.get(key, {}),
            addresses6=(found.address,) if found.address is not None else (),
            prefixes=(found.prefix,) if found.prefix is not None else (),
        )
        if cacheable:
            self._answers[key] = answer
        return answer

    async def ask(self, query: Query) -> Answer:
        return self.answer(query)

    def answer(self, query: Query) -> Answer:
        """``ask`` without a coroutine (in-process lookups; SQLite reads are local and short)."""
        if query.protocol != 6:
            return NO_ANSWER
        answer = self._lookup(KEY_DUID + query.client_id) if query.client_id else None
        if answer is None:
            interface_id: bytes = getattr(query, "interface_id", b"")
            if interface_id:
                answer = self._lookup(KEY_INTERFACE_ID + interface_id)
        if answer is None:
            enterprise: int | None = getattr(query, "remote_enterprise", None)
            if enterprise is not None:
                answer = self._lookup(KEY_REMOTE_ID + _U32.pack(enterprise) + query.remote_id)
        return answer if answer is not None else NO_ANSWER

    async def close(self) -> None:
        for db in self.databases:
            db.close()
