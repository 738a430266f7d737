"""``sqlite:///PATH``: the embedded default store — an in-memory index made durable in SQLite.

One process owns the file (an ``flock`` on ``PATH.lock`` keeps a second server out, so two
servers can never hand out the same address from one file). WAL journal, one writer, group
commit: the engine's changes queue up and ``flush`` writes a whole batch in one transaction; the
runtime sends ACKs only after it returns, so a ``kill -9`` never loses a lease a client was told
about. ``synchronous=NORMAL`` (the default) survives a process crash; ``?sync=full`` also survives
power loss at the cost of an fsync per batch. Offers are never written. The file can be read
while the server runs (``dhcpbridge leases list``).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sqlite3
from pathlib import Path
from typing import Any

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.indexed import IndexedStore

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
_UPSERT = "INSERT OR REPLACE INTO leases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_DELETE = "DELETE FROM leases WHERE kind = ? AND address = ?"


class StoreError(Exception):
    """The store cannot do its job (file locked by another server, disk full, corrupt file)."""


def _addr_text(kind: LeaseKind, addr: int) -> str:
    if kind == LeaseKind.V4:
        return socket.inet_ntoa(addr.to_bytes(4, "big"))
    if addr >> 32 in (0, 0xFFFF):  # ::/96 and ::ffff:0:0/96: libc writes them dotted; keep ipaddress's text
        import ipaddress

        return str(ipaddress.IPv6Address(addr))
    # the same RFC 5952 text as str(ipaddress.IPv6Address(addr)), ten times faster (0.3 vs 3 µs)
    return socket.inet_ntop(socket.AF_INET6, addr.to_bytes(16, "big"))


def _addr_int(kind: LeaseKind, text: str) -> int:
    if kind == LeaseKind.V4:
        return int.from_bytes(socket.inet_aton(text), "big")
    return int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")


def _row(lease: Lease) -> tuple[Any, ...]:
    return (
        int(lease.kind),
        _addr_text(lease.kind, lease.address),
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


def path_from_url(url: str) -> Path:
    """``sqlite:///var/lib/x.db`` -> /var/lib/x.db; ``sqlite://rel/x.db`` and ``sqlite:x.db`` -> relative."""
    rest = url.removeprefix("sqlite:")
    if rest.startswith("//"):
        rest = rest[2:]
    rest = rest.split("?", 1)[0]
    if not rest:
        raise StoreError(f"{url!r} names no file")
    return Path(rest)


class SqliteStore(IndexedStore):
    """See the module docstring."""

    def __init__(self, path: Path, sync: str = "normal", readonly: bool = False) -> None:
        super().__init__()
        self.path = path
        self.readonly = readonly
        self._pending: dict[tuple[int, int], Lease | None] = {}
        self._lock_fd: int | None = None
        try:
            if not readonly:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(self._lock_fd)
                    self._lock_fd = None
                    raise StoreError(f"{path} is in use by another dhcpbridge server") from None
                self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute(f"PRAGMA synchronous={'FULL' if sync == 'full' else 'NORMAL'}")
                self.db.execute("PRAGMA wal_autocheckpoint=8192")
                self.db.executescript(_SCHEMA)
                self.db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            else:
                if not path.exists():
                    raise StoreError(f"{path} does not exist")
                self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self._load()
        except sqlite3.Error as exc:
            self._unlock()
            raise StoreError(f"{path}: {exc}") from None

    def _load(self) -> None:
        try:
            rows = self.db.execute("SELECT * FROM leases").fetchall()
        except sqlite3.OperationalError as exc:
            if self.readonly and "no such table" in str(exc):
                return
            raise
        for row in rows:
            kind = LeaseKind(row[0])
            self.index.load(
                Lease(
                    address=_addr_int(kind, row[1]),
                    prefix_len=row[2],
                    client=bytes(row[3]),
                    state=LeaseState(row[4]),
                    starts=row[5],
                    expires=row[6],
                    hwaddr=bytes(row[7]),
                    hostname=row[8],
                    subnet=row[9],
                    source=row[10],
                    relay=row[11],
                    circuit_id=bytes(row[12]),
                    remote_id=bytes(row[13]),
                    info=json.loads(row[14]) if row[14] and row[14] != "{}" else None,
                    kind=kind,
                )
            )

    def _persist(self, lease: Lease) -> None:
        self._pending[(lease.kind, lease.address)] = lease

    def _forget(self, lease: Lease) -> None:
        self._pending[(lease.kind, lease.address)] = None

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        self.flush_sync()

    def flush_sync(self) -> None:
        """Write every pending change in one transaction; on failure keep them for the next try."""
        if not self._pending:
            return
        if self.readonly:
            raise StoreError(f"{self.path} is open read-only")
        pending = self._pending
        upserts = [_row(lease) for lease in pending.values() if lease is not None]
        deletes = [
            (kind, _addr_text(LeaseKind(kind), addr))
            for (kind, addr), lease in pending.items()
            if lease is None
        ]
        try:
            self.db.execute("BEGIN")
            if upserts:
                self.db.executemany(_UPSERT, upserts)
            if deletes:
                self.db.executemany(_DELETE, deletes)
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            try:
                self.db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            raise StoreError(f"{self.path}: cannot commit {len(pending)} lease change(s): {exc}") from None
        self._pending = {}

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    async def close(self) -> None:
        try:
            if not self.readonly:
                self.flush_sync()
        finally:
            self.db.close()
            self._unlock()
