"""``sqlite:///PATH``: the embedded default store — an in-memory index made durable in SQLite.

One process owns the file (an ``flock`` on ``PATH.lock`` keeps a second server out, so two
servers can never hand out the same address from one file). The engine's changes queue up and
``flush`` makes a whole batch durable at once; the server sends ACKs only after it returns, so a
``kill -9`` never loses a lease a client was told about. Offers are never written.

Durability has two steps, so the hot path pays one ``write`` per batch instead of one SQLite
transaction: ``flush`` appends the batch's changed rows to ``PATH.journal`` (one length-prefixed
record per batch, one ``os.write``). Every ``checkpoint`` seconds (default 1) the journal is
rotated to ``PATH.journal.old``, and the rows it holds are moved into the SQLite file (WAL mode,
one writer) a slice per flush (at most ``CHECKPOINT_STEP`` rows, a few milliseconds), so the
server never stalls for a whole second's worth of rows; when they are all in SQLite the old
journal is deleted. SQLite never waits for a lock on the hot path (busy timeout 0): a step that
finds the database locked (another process reading it) fails at once and the next flush retries;
the rows are durable in the journal meanwhile. Opening the store loads the SQLite rows and
replays ``.journal.old`` then ``.journal`` (format: ``journal.py``; a frame torn by a crash at the
very end is ignored and cut off; damaged frames followed by good ones refuse the start until
``dhcpbridge leases salvage``; replaying a row twice is harmless), then saves everything. A write
that fails is cut back off the journal, so a later frame never follows a torn one; a journal that
cannot be reopened after a rotation is reopened at the next flush, and ``failing()`` tells the
server how long flushes have failed (``/healthz``).

Files are private: the directory is created 0700, every file 0600 (an existing file readable by
others is narrowed, with a warning). ``?sync=full`` fsyncs the journal on every flush (survives power loss, not just a
process crash). Read-only opens (``dhcpbridge leases list`` beside a server without a control
socket) replay the journal too, so they see every committed lease.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import json
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dhcpbridge import logs
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.addresses import addr_int, addr_text
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.embedded.indexed import IndexedStore
from dhcpbridge.leases.embedded.journal import DELETED as _DELETED
from dhcpbridge.leases.embedded.journal import HEADER_BYTES, JournalError, Scan, frame, packed_addr, scan

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (
    kind INTEGER NOT NULL,
    address TEXT NOT NULL,
    prefix_len INTEGER NOT NULL,
    client BLOB NOT NULL,
    state INTEGER NOT NULL,
    starts REAL NOT NULL,
    expires REAL NOT NULL,
    hwaddr BLOB NOT NULL,
    hostname TEXT NOT NULL,
    subnet TEXT NOT NULL,
    source TEXT NOT NULL,
    relay TEXT NOT NULL,
    circuit_id BLOB NOT NULL,
    remote_id BLOB NOT NULL,
    info TEXT NOT NULL,
    PRIMARY KEY (kind, address)
);
"""
_DELETE = "DELETE FROM leases WHERE kind = ? AND address = ?"


log = logs.get("dhcpbridge.leases")


CHECKPOINT_STEP = 1000  # rows moved into SQLite per flush while a rotated journal drains
OPEN_BUSY_TIMEOUT = 5.0  # seconds SQLite may wait for a lock while opening and closing (not on the hot path)
PRIVATE = 0o600
SALVAGE_HINT = "stop the server and run `dhcpbridge leases salvage -c CONFIG` (keeps every valid frame)"


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files and directories created inside are private to the owner (umask 077)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def narrow_mode(path: Path) -> None:
    """Make an existing lease file 0600 when group or others could read it (logged)."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return
    if mode & 0o077:
        os.chmod(path, PRIVATE)
        log.warning("lease file was readable by others; made it private", file=str(path), mode=oct(mode))


def scan_journal(path: Path) -> Scan:
    """The frames of a journal file (none when it does not exist); ``StoreError`` when it is not
    a journal of this format."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = b""
    try:
        return scan(data, str(path))
    except JournalError as exc:
        raise StoreError(str(exc)) from None


def check_journal(path: Path) -> Scan:
    """``scan_journal``, and ``StoreError`` (with the offset) when damaged bytes are followed by
    good frames: records after a damaged one would be lost or replayed out of order."""
    found = scan_journal(path)
    if found.damaged:
        start, end, why = found.damaged[0]
        raise StoreError(
            f"{path} is corrupt at offset {start} ({why}; {end - start} bytes before the next good "
            f"frame, {len(found.damaged)} damaged region(s)): {SALVAGE_HINT}"
        )
    return found


def read_journal(path: Path) -> list[tuple[Any, ...]]:
    """Every row record of a journal file, in order (a torn last frame is ignored)."""
    return check_journal(path).records


def _row(lease: Lease) -> tuple[Any, ...]:
    return (
        int(lease.kind),
        addr_text(lease.kind, lease.address),
        lease.prefix_len,
        lease.client,
        int(lease.state),
        lease.starts,
        lease.expires,
        lease.hwaddr,
        lease.hostname,
        lease.subnet,
        lease.source,
        lease.relay,
        lease.circuit_id,
        lease.remote_id,
        json.dumps(lease.info, separators=(",", ":")) if lease.info else "{}",
    )


def _bindable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """``row`` with its ``bytes`` values as ``bytearray``: the same BLOBs in the table, but
    Python's sqlite3 binds a bytearray at once and sends every ``bytes`` value through its
    adapter lookup first (2.5 of 4 µs per row of four BLOB columns, measured with executemany)."""
    return tuple([bytearray(v) if type(v) is bytes else v for v in row])


def _columns(db: sqlite3.Connection) -> list[str]:
    """The lease table's column names, in table order (the order of :func:`_row`)."""
    return [info[1] for info in db.execute("PRAGMA table_info(leases)")]


def _upsert_statement(db: sqlite3.Connection) -> str:
    """The row upsert, columns from the table itself. ``ON CONFLICT DO UPDATE`` rewrites a lease
    row in place: half the cost of ``INSERT OR REPLACE`` (a delete and an insert in the table and
    in its key index) when the row exists, as it does for every renewal (10 -> 5.5 µs per row in
    a 50,000-row table). SQLite before 3.24 (2018) has no upsert: ``INSERT OR REPLACE`` there."""
    columns = _columns(db)
    marks = ",".join("?" * len(columns))
    if sqlite3.sqlite_version_info < (3, 24, 0):
        return f"INSERT OR REPLACE INTO leases VALUES ({marks})"
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in ("kind", "address"))
    return f"INSERT INTO leases VALUES ({marks}) ON CONFLICT (kind, address) DO UPDATE SET {updates}"


def path_from_url(url: str) -> Path:
    """``sqlite:///var/lib/x.db`` -> /var/lib/x.db; ``sqlite://rel/x.db`` and ``sqlite:x.db`` -> relative."""
    rest = url.removeprefix("sqlite:")
    if rest.startswith("//"):
        rest = rest[2:]
    rest = rest.split("?", 1)[0]
    if rest.startswith("/"):
        rest = "/" + rest.lstrip("/")  # sqlite:////var/x.db (SQLAlchemy style) is /var/x.db too
    if not rest:
        raise StoreError(f"{url!r} names no file")
    return Path(rest)


class SqliteStore(IndexedStore):
    """See the module docstring."""

    def __init__(
        self, path: Path, sync: str = "normal", readonly: bool = False, checkpoint: float = 1.0
    ) -> None:
        super().__init__()
        self.path = path
        self.journal_path = Path(f"{path}.journal")
        self.old_journal_path = Path(f"{path}.journal.old")
        self.readonly = readonly
        self.sync = sync
        self.checkpoint_interval = checkpoint
        self._pending: dict[tuple[int, int], Lease | None] = {}
        self._unsaved: dict[tuple[int, str], tuple[Any, ...]] = {}  # in .journal, not yet in SQLite
        self._draining: dict[tuple[int, str], tuple[Any, ...]] = {}  # in .journal.old, being saved
        self._last_checkpoint = time.monotonic()
        self.checkpoint_failures = 0
        self.failed_flushes = 0  # consecutive flushes that could not write the journal
        self._failing_since = 0.0  # monotonic time of the first of them
        self._checkpoint_streak = 0  # consecutive failed checkpoint steps (logged once per streak)
        self._lock_fd: int | None = None
        self._journal_fd: int | None = None
        self._journal_size = 0
        self._upsert = ""  # set for writers, from the table's columns
        try:
            if not readonly:
                with private_umask():
                    self._open_writer(path)
            else:
                if not path.exists():
                    raise StoreError(f"{path} does not exist")
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
                self._load()
        except sqlite3.Error as exc:
            self._unlock()
            raise StoreError(f"{path}: {exc}") from None
        except OSError as exc:
            self._unlock()
            raise StoreError(f"{exc.filename or self.journal_path}: {exc.strerror or exc}") from None
        except StoreError:
            self._unlock()
            raise

    def _open_writer(self, path: Path) -> None:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name in ("", ".lock", "-wal", "-shm", "-journal", ".journal", ".journal.old"):
            narrow_mode(Path(f"{path}{name}"))
        self._lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, PRIVATE)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            self._lock_fd = None
            raise StoreError(f"{path} is in use by another dhcpbridge server") from None
        self.db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=OPEN_BUSY_TIMEOUT
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={'FULL' if self.sync == 'full' else 'NORMAL'}")
        self.db.executescript(_SCHEMA)
        self.db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
            (str(SCHEMA_VERSION),),
        )
        self._upsert = _upsert_statement(self.db)
        self._load()
        self._open_journal()
        self.checkpoint()
        self._busy_timeout(0.0)  # from now on a locked database fails a step at once; the next flush retries

    def _busy_timeout(self, seconds: float) -> None:
        self.db.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def _open_journal(self) -> None:
        """Open ``.journal`` for appending, a torn last frame cut off (an empty file gets the
        format header with its first frame). ``OSError`` when the file cannot be opened or cut."""
        found = scan_journal(self.journal_path)
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE)
        try:
            if found.tail is not None:
                log.warning(
                    "lease journal ends in a torn frame (a write cut short); cutting it off",
                    file=str(self.journal_path),
                    offset=found.tail[0],
                    reason=found.tail[1],
                )
                os.ftruncate(fd, found.good_end)
            size = os.lseek(fd, 0, os.SEEK_END)
        except OSError:
            os.close(fd)
            raise
        self._journal_fd = fd
        self._journal_size = size

    def _load(self) -> None:
        # a restart makes a million objects that all live on: no collection pass while it does
        # (each would walk every lease made so far; a quarter of the load's time at 100,000 rows)
        collecting = gc.isenabled()
        gc.disable()
        self.index.begin_load()
        try:
            self._load_rows()
        finally:
            self.index.end_load()
            if collecting:
                gc.enable()

    def _load_rows(self) -> None:
        shared: dict[str, str] = {}  # one str object per distinct subnet, source and relay text
        try:
            rows = self.db.execute("SELECT * FROM leases")
        except sqlite3.OperationalError as exc:
            if self.readonly and "no such table" in str(exc):
                rows = None
            else:
                raise
        if rows is not None:
            load = self.index.load
            for row in rows:
                load(_lease(row, shared))
        for path in (self.old_journal_path, self.journal_path):
            for offset, records in check_journal(path).frames:
                for record in records:
                    try:
                        if record[0] == _DELETED:
                            kind = LeaseKind(record[1])
                            self.index.delete(kind, addr_int(kind, record[2]))
                            key = (record[1], record[2])
                        else:
                            self.index.load(_lease(record, shared))
                            key = (record[0], record[1])
                    except (ValueError, TypeError, KeyError, OSError) as exc:
                        raise StoreError(
                            f"{path} is corrupt at offset {offset} (a record that is no lease: {exc}): "
                            f"{SALVAGE_HINT}"
                        ) from None
                    self._unsaved[key] = record

    def _persist(self, lease: Lease) -> None:
        self._pending[(lease.kind, lease.address)] = lease

    def _forget(self, lease: Lease) -> None:
        self._pending[(lease.kind, lease.address)] = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    def failing(self) -> tuple[int, float] | None:
        """While flushes fail: (how many in a row, seconds since the first); None when healthy."""
        if not self.failed_flushes:
            return None
        return self.failed_flushes, time.monotonic() - self._failing_since

    async def flush(self) -> None:
        self.flush_sync()

    def flush_sync(self) -> None:
        """Make every pending change durable with one journal write; on failure keep them.
        Then move a slice of the previous second's rows into SQLite (see the module docstring)."""
        if self._pending:
            if self.readonly:
                raise StoreError(f"{self.path} is open read-only")
            try:
                self._write_pending()
            except StoreError:
                if not self.failed_flushes:
                    self._failing_since = time.monotonic()
                self.failed_flushes += 1
                raise
            if self.failed_flushes:
                log.warning("lease journal writable again", failed_flushes=self.failed_flushes)
                self.failed_flushes = 0
        try:
            if self._draining:
                self._save_step()
            elif self._unsaved and time.monotonic() - self._last_checkpoint >= self.checkpoint_interval:
                self._rotate()
        except StoreError as exc:  # the batch is durable in the journal: not a flush failure
            self.checkpoint_failures += 1
            self._checkpoint_streak += 1
            if self._checkpoint_streak == 1:
                log.error(
                    "lease checkpoint into SQLite failed; the journal keeps the rows, the next flush retries",
                    error=str(exc),
                )
            return
        if self._checkpoint_streak:
            log.info("lease checkpoint into SQLite works again", failed_steps=self._checkpoint_streak)
            self._checkpoint_streak = 0

    def _write_pending(self) -> None:
        """One frame with every pending change, appended to the journal; a write that fails is
        cut back off the file (``StoreError``), the changes stay pending."""
        records: list[tuple[Any, ...]] = []
        addrs: list[bytes] = []  # packed for the journal from the int, not parsed back from the text
        for (kind, addr), lease in self._pending.items():
            if lease is None:
                records.append((_DELETED, int(kind), addr_text(LeaseKind(kind), addr)))
            else:
                records.append(_row(lease))
            addrs.append(packed_addr(kind, addr))
        try:
            if self._journal_fd is None:
                self._open_journal()  # lost by a failed rotation or write: reopen now
            fd = self._journal_fd
            assert fd is not None
        except OSError as exc:
            raise StoreError(
                f"{self.journal_path}: cannot open to write {len(records)} lease change(s): "
                f"{exc.strerror or exc}"
            ) from None
        data = frame(records, addrs)
        if not self._journal_size:
            data = HEADER_BYTES + data
        try:
            _write_all(fd, data)
            if self.sync == "full":
                os.fsync(fd)
        except OSError as exc:
            self._cut_back(fd)
            raise StoreError(
                f"{self.journal_path}: cannot write {len(records)} lease change(s): {exc.strerror or exc}"
            ) from None
        self._journal_size += len(data)
        self._pending = {}
        unsaved = self._unsaved
        for r in records:
            unsaved[(r[1], r[2]) if r[0] == _DELETED else (r[0], r[1])] = r

    def _cut_back(self, fd: int) -> None:
        """Remove what a failed write left at the journal's end; if even that fails, close the
        file so the next flush reopens it (and cuts the torn frame off then)."""
        try:
            os.ftruncate(fd, self._journal_size)
        except OSError:
            self._journal_fd = None
            with contextlib.suppress(OSError):
                os.close(fd)

    def _rotate(self) -> None:
        """Start draining: the current journal becomes ``.journal.old``, a new one takes writes.
        An ``OSError`` is a ``StoreError``; a journal that cannot be reopened is reopened by the
        next flush."""
        self._last_checkpoint = time.monotonic()
        fd, self._journal_fd = self._journal_fd, None
        try:
            if fd is not None:
                os.close(fd)
            os.replace(self.journal_path, self.old_journal_path)
        except OSError as exc:
            raise StoreError(f"{self.journal_path}: cannot rotate: {exc.strerror or exc}") from None
        # in key order: a step's rows then fall on neighbouring pages of the table's key index,
        # so each step's transaction writes fewer pages (4-5.5 against 7-12 µs per new v6 row
        # with steps of 1,000 out of 10,000 into 50,000 rows; the sort costs about 1.5 µs a row)
        unsaved = self._unsaved
        self._draining, self._unsaved = {key: unsaved[key] for key in sorted(unsaved)}, {}
        try:
            self._open_journal()
        except OSError as exc:
            raise StoreError(
                f"{self.journal_path}: cannot reopen after rotating: {exc.strerror or exc}"
            ) from None
        self._save_step()

    def _save_step(self, limit: int = CHECKPOINT_STEP) -> None:
        """Save up to ``limit`` draining rows into SQLite in one transaction."""
        draining = self._draining
        batch: list[tuple[Any, ...]] = []
        for key in list(draining)[:limit]:
            batch.append(draining[key])
        self._save(batch)
        for r in batch:
            draining.pop((r[1], r[2]) if r[0] == _DELETED else (r[0], r[1]), None)
        if not draining:
            try:
                self.old_journal_path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StoreError(f"{self.old_journal_path}: cannot remove: {exc.strerror or exc}") from None

    def _save(self, rows: list[tuple[Any, ...]]) -> None:
        upserts = [_bindable(r) for r in rows if r[0] != _DELETED]
        deletes = [(r[1], r[2]) for r in rows if r[0] == _DELETED]
        try:
            self.db.execute("BEGIN")
            if upserts:
                self.db.executemany(self._upsert, upserts)
            if deletes:
                self.db.executemany(_DELETE, deletes)
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            # the rows stay in the journal (durable) and in memory: a later step retries
            raise StoreError(f"{self.path}: cannot save {len(rows)} lease row(s): {exc}") from None

    def checkpoint(self) -> None:
        """Save every journaled row into SQLite now and empty both journals (start, close, and
        operator actions that should show in the file at once)."""
        self._last_checkpoint = time.monotonic()
        if self._journal_fd is None:
            return
        rows = {**self._draining, **self._unsaved}
        if rows:
            self._save(list(rows.values()))
        self._draining = {}
        self._unsaved = {}
        try:
            os.ftruncate(self._journal_fd, 0)
            self._journal_size = 0
            self.old_journal_path.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{self.journal_path}: cannot empty after a checkpoint: {exc.strerror or exc}"
            ) from None

    def _unlock(self) -> None:
        if self._journal_fd is not None:
            os.close(self._journal_fd)
            self._journal_fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    async def close(self) -> None:
        try:
            if not self.readonly:
                self.flush_sync()
                self._busy_timeout(OPEN_BUSY_TIMEOUT)
                self.checkpoint()
        finally:
            self.db.close()
            self._unlock()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        # not ``view[os.write(...):]``: mypyc 2.4 evaluates a memoryview slice's start
        # twice, which wrote every batch twice
        written = os.write(fd, view)
        view = view[written:]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every lease row of a store (the SQLite file plus what its journals hold), read-only, as
    ``column -> value`` dicts: what the file will hold after the next checkpoint."""
    store = SqliteStore(path, readonly=True)
    try:
        columns = _columns(store.db)
        return [dict(zip(columns, _row(lease), strict=True)) for lease in store.index.all()]
    finally:
        store.db.close()


_KINDS: dict[int, LeaseKind] = {int(k): k for k in LeaseKind}
_STATES: dict[int, LeaseState] = {int(s): s for s in LeaseState}


def _lease(row: tuple[Any, ...], shared: dict[str, str] | None = None) -> Lease:
    """The lease of a row; ``shared`` (when given) makes equal subnet, source and relay texts one
    object (a restart loads a million rows that name a few subnets). ``KeyError``/``ValueError``
    for values no lease has."""
    kind = _KINDS[row[0]]
    subnet: str = row[9]
    source: str = row[10]
    relay: str = row[11]
    if shared is not None:
        subnet = shared.setdefault(subnet, subnet)
        source = shared.setdefault(source, source)
        relay = shared.setdefault(relay, relay)
    info = row[14]
    return Lease(
        addr_int(kind, row[1]),
        bytes(row[3]),
        _STATES[row[4]],
        float(row[5]),
        float(row[6]),
        kind,
        int(row[2]),
        bytes(row[7]),
        str(row[8]),
        subnet,
        source,
        relay,
        bytes(row[12]),
        bytes(row[13]),
        json.loads(info) if info and info != "{}" else None,
    )
