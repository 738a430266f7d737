"""The SQLite store: durability of flushed changes (reopen, os._exit, SIGKILL), offers never written,
one writer per file (flock), read-only opens beside a running writer, flush failures that keep the
pending changes, ``open_store`` URLs, and a schema plain ``sqlite3`` can read."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.inline import run_inline as run
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import MemoryStore, SqliteStore, StoreError, open_store
from dhcpbridge.leases.embedded.sqlite import path_from_url, read_journal
from dhcpbridge.wire.v4.message import ip4_int as ip
from dhcpbridge.wire.v4.message import ip4_str as ip_text

NOW = 1_700_000_000.0
X = ip("10.67.0.10")
SRC = str(Path(__file__).resolve().parents[3] / "src")


class R:
    def __init__(self, first: int, last: int) -> None:
        self.first, self.last = first, last


def full_lease(addr: int = X, client: bytes = b"\x01\x02\x67\x00\x00\x00\x0a") -> Lease:
    return Lease(
        addr,
        client,
        LeaseState.BOUND,
        NOW,
        NOW + 3600,
        hwaddr=bytes.fromhex("02670000000a"),
        hostname="laptop",
        subnet="10.67.0.0/24",
        source="pools",
        relay="10.68.0.2",
        circuit_id=b"port-7",
        remote_id=b"\x02\x00\x00\x00\x00\x07",
        info={"tag": "lab", "n": 3},
    )


def commit(store: SqliteStore, lease: Lease) -> Lease:
    got = run(store.commit(lease, NOW))
    assert got is not None
    return got


def test_commit_flush_reopen_gives_the_same_leases(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path)
    a = commit(store, full_lease())
    v6 = commit(
        store, Lease(0xFD67 << 112 | 5, b"duid-iaid", LeaseState.BOUND, NOW, NOW + 60, LeaseKind.NA, 128)
    )
    pd = commit(
        store, Lease(0xFD67_1000 << 96, b"duid-pd", LeaseState.BOUND, NOW, NOW + 60, LeaseKind.PD, 56)
    )
    assert store.pending == 3
    run(store.flush())
    assert store.pending == 0
    run(store.close())
    again = SqliteStore(path)
    try:
        assert run(again.get(LeaseKind.V4, X)) == a
        assert run(again.get(LeaseKind.NA, v6.address)) == v6
        assert run(again.get(LeaseKind.PD, pd.address)) == pd
        assert run(again.find_client(LeaseKind.V4, a.client)) == [a]
        # the reloaded index is live: the address stays taken for others
        other = Lease(X, b"other", LeaseState.BOUND, NOW, NOW + 60)
        assert run(again.commit(other, NOW + 1)) is None
    finally:
        run(again.close())


def test_every_durable_change_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path)
    for i in range(4):
        commit(store, full_lease(X + i, b"c%d" % i))
    run(store.release(LeaseKind.V4, X + 1, b"c1", NOW + 10))
    run(store.decline(LeaseKind.V4, X + 2, b"c2", NOW + 10, NOW + 600))
    run(store.commit(Lease(X + 3, b"c3", LeaseState.BOUND, NOW + 20, NOW + 30), NOW + 20))
    run(store.close())  # close flushes
    store = SqliteStore(path)
    states = {lease.address - X: lease.state for lease in run(store.leases())}
    assert states == {
        0: LeaseState.BOUND,
        1: LeaseState.RELEASED,
        2: LeaseState.DECLINED,
        3: LeaseState.BOUND,
    }
    expired = run(store.reap(NOW + 100))
    assert [lease.address for lease in expired] == [X + 3]
    run(store.close())
    store = SqliteStore(path)
    assert run(store.get(LeaseKind.V4, X + 3)).state == LeaseState.EXPIRED  # type: ignore[union-attr]
    store.retention = 10.0
    run(store.reap(NOW + 1000))  # declined -> expired, and old records are purged; written too
    run(store.close())
    store = SqliteStore(path)
    assert {lease.address - X: lease.state for lease in run(store.leases())} == {0: LeaseState.BOUND}
    run(store.close())


def test_each_flush_appends_its_changes_once(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "leases.db")
    for i in range(3):
        commit(store, full_lease(X + i, b"c%d" % i))
    run(store.flush())
    run(store.flush())  # nothing pending: nothing written
    assert [r[1] for r in read_journal(store.journal_path)] == ["10.67.0.10", "10.67.0.11", "10.67.0.12"]
    run(store.close())


def test_offers_are_never_written(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path)
    tpl = Lease(0, b"a", LeaseState.OFFERED, NOW, NOW + 30)
    assert run(store.allocate(Hold(tpl, [R(X, X + 9)], NOW, 0))) is not None
    assert run(store.offer(Lease(X + 5, b"b", LeaseState.OFFERED, NOW, NOW + 30), NOW)) is not None
    run(store.unhold(LeaseKind.V4, X + 5, b"b"))
    assert store.pending == 0
    run(store.close())
    rows = sqlite3.connect(path).execute("SELECT COUNT(*) FROM leases").fetchone()
    assert rows == (0,)


def test_schema_is_plain_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path)
    commit(store, full_lease())
    run(store.close())
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("1",)
    cols = [row[1] for row in db.execute("PRAGMA table_info(leases)")]
    assert cols[:7] == ["kind", "address", "prefix_len", "client", "state", "starts", "expires"]
    row = db.execute("SELECT kind, address, state, expires, hostname, hwaddr, info FROM leases").fetchone()
    assert row == (
        4,
        "10.67.0.10",
        1,
        NOW + 3600,
        "laptop",
        bytes.fromhex("02670000000a"),
        '{"tag":"lab","n":3}',
    )
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_second_writer_is_refused_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    first = SqliteStore(path)
    with pytest.raises(StoreError, match="in use by another dhcpbridge server"):
        SqliteStore(path)
    with pytest.raises(StoreError, match="in use"):
        open_store(f"sqlite:///{path}")
    run(first.close())
    second = SqliteStore(path)  # the lock goes with the store
    run(second.close())


def test_second_writer_in_another_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    first = SqliteStore(path)
    try:
        code = f"from dhcpbridge.leases import SqliteStore; SqliteStore(__import__('pathlib').Path({str(path)!r}))"
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and "in use by another dhcpbridge server" in proc.stderr
    finally:
        run(first.close())


def test_read_only_beside_a_running_writer(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    writer = SqliteStore(path)
    try:
        commit(writer, full_lease())
        run(writer.flush())
        commit(writer, full_lease(X + 1, b"unflushed"))
        reader = SqliteStore(path, readonly=True)
        try:
            assert [lease.address for lease in run(reader.leases())] == [X]  # what is durable
            run(reader.release(LeaseKind.V4, X, full_lease().client, NOW))
            with pytest.raises(StoreError, match="read-only"):
                run(reader.flush())
        finally:
            run(reader.close())  # a read-only store never writes, not even on close
    finally:
        run(writer.close())


def test_read_only_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        SqliteStore(tmp_path / "nope.db", readonly=True)


def test_corrupt_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    path.write_bytes(b"this is not a database, just text " * 200)
    with pytest.raises(StoreError, match=str(path)):
        SqliteStore(path)
    SqliteStore(tmp_path / "other.db")  # and the failed open left no lock on anything else


def test_flush_failure_keeps_pending_changes(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path)
    commit(store, full_lease())
    good = store._journal_fd
    store._journal_fd = os.open(path.with_suffix(".ro"), os.O_RDONLY | os.O_CREAT)  # writes now fail
    with pytest.raises(StoreError, match="cannot write 1 lease change"):
        run(store.flush())
    assert store.pending == 1
    commit(store, full_lease(X + 1, b"later"))
    assert store.pending == 2
    assert store._journal_fd is None  # the failed write could not be cut back: closed, reopened later
    store._journal_fd = good
    run(store.flush())
    assert store.pending == 0
    run(store.close())
    reader = SqliteStore(path, readonly=True)
    assert len(run(reader.leases())) == 2
    run(reader.close())


def test_checkpoint_failure_keeps_rows_in_the_journal(tmp_path: Path) -> None:
    """A failing SQLite write does not fail the flush (the batch is durable in the journal) and
    the rows reach SQLite at the next successful checkpoint."""
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=0)
    store.db.execute("PRAGMA query_only = ON")  # every SQLite write now fails
    commit(store, full_lease())
    run(store.flush())
    assert store.pending == 0 and store.checkpoint_failures == 1
    assert SqliteStore(path, readonly=True).index.get(LeaseKind.V4, X) is not None  # journal replayed
    store.db.execute("PRAGMA query_only = OFF")
    commit(store, full_lease(X + 1, b"later"))
    run(store.flush())  # saves the rows that failed before
    run(store.flush())  # rotates the journal with the later row and saves it
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM leases").fetchone() == (2,)
    assert store.journal_path.stat().st_size == 0
    assert not store.old_journal_path.exists()
    run(store.close())


def test_a_slice_holds_neighbouring_keys(tmp_path: Path) -> None:
    """A rotated journal drains in key order (the table's key index order), so each slice's
    transaction touches neighbouring index pages, whatever order the leases were made in."""
    from dhcpbridge.leases.embedded import sqlite as module

    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=0)
    n = module.CHECKPOINT_STEP * 2
    order = [(i * 7919) % n for i in range(n)]  # a permutation: made out of address order
    for i in order:
        commit(store, full_lease(X + i, b"c%d" % i))
    run(store.flush())  # journaled, rotated, the first slice saved
    saved = [row[0] for row in sqlite3.connect(path).execute("SELECT address FROM leases")]
    assert sorted(saved) == sorted(ip_text(X + i) for i in range(n))[: len(saved)]
    assert list(store._draining) == sorted(store._draining)
    run(store.close())


def test_rows_drain_into_sqlite_a_slice_per_flush(tmp_path: Path) -> None:
    """A rotated journal is saved in slices (no long stall), and a crash mid-way loses nothing."""
    from dhcpbridge.leases.embedded import sqlite as module

    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=0)
    for i in range(module.CHECKPOINT_STEP * 2 + 10):
        commit(store, full_lease(X + i, b"c%d" % i))
    run(store.flush())  # journaled, rotated, first slice saved
    count = sqlite3.connect(path).execute("SELECT COUNT(*) FROM leases").fetchone()[0]
    assert count == module.CHECKPOINT_STEP
    assert store.old_journal_path.exists()
    store._unlock()  # crash with the old journal half drained
    again = SqliteStore(path)
    assert len(again.index.all(LeaseKind.V4)) == module.CHECKPOINT_STEP * 2 + 10
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM leases").fetchone()[0] == count * 2 + 10
    assert not again.old_journal_path.exists()
    run(again.close())


def test_kill_before_checkpoint_replays_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=3600)
    commit(store, full_lease())
    run(store.flush())
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM leases").fetchone() == (0,)
    with store.journal_path.open("ab") as handle:
        handle.write(b"\x00\x00\x01\x00torn")  # a record cut short by a crash
    store._unlock()  # as if the process died: no checkpoint, no close
    again = SqliteStore(path)
    assert again.index.get(LeaseKind.V4, X) is not None
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM leases").fetchone() == (1,)
    run(again.close())


CHILD = """
import os, sys, time
from pathlib import Path
from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.leases import SqliteStore
from dhcpbridge.engine.inline import run_inline

store = SqliteStore(Path(sys.argv[1]))
for i in range(50):
    run_inline(store.commit(Lease(0x0A430000 + i, b"c%d" % i, LeaseState.BOUND, 1.0, 9e9), 1.0))
run_inline(store.flush())
run_inline(store.commit(Lease(0x0A4300FF, b"unflushed", LeaseState.BOUND, 1.0, 9e9), 1.0))
if sys.argv[2] == "exit":
    os._exit(0)
print("flushed", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_flushed_writes_survive_a_hard_kill(tmp_path: Path, how: str) -> None:
    path = tmp_path / "leases.db"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.Popen([sys.executable, str(script), str(path), how], stdout=subprocess.PIPE, env=env)
    try:
        if how == "sigkill":
            assert proc.stdout is not None and proc.stdout.readline().strip() == b"flushed"
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == (0 if how == "exit" else -signal.SIGKILL)
    store = SqliteStore(path)  # the dead process's lock is gone with it
    try:
        leases = run(store.leases())
        assert len(leases) == 50 and all(lease.state == LeaseState.BOUND for lease in leases)
        assert run(store.get(LeaseKind.V4, 0x0A4300FF)) is None  # never flushed, never promised
    finally:
        run(store.close())


# --- URLs -------------------------------------------------------------------------------------------------
def test_open_store_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory://"), MemoryStore)
    absolute = open_store(f"sqlite://{tmp_path}/a.db")
    assert isinstance(absolute, SqliteStore) and absolute.path == tmp_path / "a.db"
    run(absolute.close())
    relative = open_store("sqlite://sub/b.db", base_dir=str(tmp_path))
    assert isinstance(relative, SqliteStore) and relative.path == tmp_path / "sub" / "b.db"
    assert relative.db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    run(relative.close())
    full = open_store("sqlite:c.db?sync=full", base_dir=str(tmp_path))
    assert isinstance(full, SqliteStore) and full.path == tmp_path / "c.db"
    assert full.db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    run(full.close())
    for bad in ("mysql://localhost", "sqlite:", "sqlite://"):
        with pytest.raises(StoreError):
            open_store(bad, base_dir=str(tmp_path))


def test_path_from_url() -> None:
    assert path_from_url("sqlite:///var/lib/dhcpbridge/leases.db") == Path("/var/lib/dhcpbridge/leases.db")
    assert path_from_url("sqlite://rel/x.db") == Path("rel/x.db")
    assert path_from_url("sqlite:x.db?sync=full") == Path("x.db")
