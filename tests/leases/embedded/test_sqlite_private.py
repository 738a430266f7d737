"""The SQLite store's files are private (directory 0700 when created, files 0600, wider existing
files narrowed with a warning), and another process holding a lock on the database never stalls
a flush: the step fails at once, the rows stay durable in the journal, a later flush saves them."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dhcpbridge.engine.inline import run_inline as run
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import SqliteStore

NOW = 1_700_000_000.0
X = 0x0A43000A


def lease(i: int) -> Lease:
    return Lease(X + i, b"c%d" % i, LeaseState.BOUND, NOW, NOW + 3600, hostname=f"host{i}")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> object:
    old = os.umask(0o022)  # the usual default: files 0644, directories 0755
    yield
    os.umask(old)


def test_new_files_are_private(tmp_path: Path, open_umask: object) -> None:
    path = tmp_path / "state" / "leases.db"
    store = SqliteStore(path, checkpoint=0)
    for i in range(3):
        assert run(store.commit(lease(i), NOW)) is not None
        run(store.flush())
    assert mode(path.parent) == 0o700
    files = [p for p in path.parent.iterdir()]
    names = {p.name for p in files}
    assert {"leases.db", "leases.db.lock", "leases.db.journal", "leases.db-wal", "leases.db-shm"} <= names
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    run(store.close())


def test_wider_existing_files_are_narrowed_with_a_warning(
    tmp_path: Path, open_umask: object, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "leases.db"
    run(SqliteStore(path).close())
    for name in ("leases.db", "leases.db.lock", "leases.db.journal"):
        if (tmp_path / name).exists():
            os.chmod(tmp_path / name, 0o644)
    os.chmod(tmp_path, 0o755)  # an existing directory is the operator's: left alone
    store = SqliteStore(path)
    assert mode(path) == 0o600 and mode(tmp_path / "leases.db.lock") == 0o600
    assert mode(tmp_path) == 0o755
    assert "made it private" in capsys.readouterr().out
    run(store.close())


HOLDER = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_SH, 8, 120)  # SQLite's WAL write/checkpoint/read lock bytes, shared
print("locked", flush=True)
time.sleep(60)
"""


def test_a_foreign_lock_on_the_shm_file_does_not_stall_flushes(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=0)
    assert run(store.commit(lease(0), NOW)) is not None
    run(store.flush())
    shm = Path(f"{path}-shm")
    assert shm.exists()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(shm)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"locked"
        slowest = 0.0
        for i in range(1, 6):
            assert run(store.commit(lease(i), NOW)) is not None
            started = time.monotonic()
            run(store.flush())  # durable in the journal; the SQLite step fails at once
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 0.5, f"a flush waited {slowest:.2f} s for the foreign lock"
        assert store.checkpoint_failures >= 1 and store.pending == 0
    finally:
        holder.kill()
        holder.wait()
    assert run(store.commit(lease(6), NOW)) is not None
    run(store.flush())  # the lock is gone: the rows reach SQLite
    run(store.flush())
    run(store.close())
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM leases").fetchone() == (7,)
    reader = SqliteStore(path, readonly=True)
    assert len(reader.index.all(LeaseKind.V4)) == 7
    reader.db.close()
