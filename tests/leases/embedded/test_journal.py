"""The SQLite store's journal: a data-only format with a checksum per frame, old pickle journals
refused (never unpickled) and converted by salvage, damaged frames reported with their offset
and salvaged, failed writes cut back off the file, a lost journal reopened at the next flush."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dhcpbridge.engine.inline import run_inline as run
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import SqliteStore, StoreError
from dhcpbridge.leases.embedded import journal
from dhcpbridge.leases.embedded.salvage import salvage_store
from dhcpbridge.leases.embedded.sqlite import _row, read_journal
from dhcpbridge.wire.v4.message import ip4_int as ip

NOW = 1_700_000_000.0
X = ip("10.67.0.10")
SRC = str(Path(__file__).resolve().parents[3] / "src")


def lease(i: int) -> Lease:
    return Lease(
        X + i,
        b"client-%d" % i,
        LeaseState.BOUND,
        NOW,
        NOW + 3600,
        hwaddr=bytes.fromhex("02670000000a"),
        hostname=f"host{i}",
        circuit_id=b"\x00port",
        info={"n": i},
    )


def flushed(store: SqliteStore, *numbers: int) -> None:
    for i in numbers:
        assert run(store.commit(lease(i), NOW)) is not None
    run(store.flush())


def addresses(path: Path) -> list[int]:
    store = SqliteStore(path, readonly=True)
    try:
        return sorted(lease.address - X for lease in store.index.all(LeaseKind.V4))
    finally:
        store.db.close()


def test_records_round_trip_as_plain_data() -> None:
    row = _row(lease(3))
    deleted = (journal.DELETED, 4, "10.67.0.13")
    data = journal.encode_file([[row, deleted]])
    assert data.startswith(journal.MAGIC) and b"\x80\x05" not in data  # no pickle
    found = journal.scan(data, "j")
    assert found.records == [row, deleted] and not found.damaged and found.tail is None


def test_journal_is_versioned_data_with_a_checksum_per_frame(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=3600)
    flushed(store, 0)
    flushed(store, 1)
    data = store.journal_path.read_bytes()
    assert data[:8] == journal.MAGIC
    assert struct.unpack_from("!H", data, 8)[0] == journal.VERSION
    assert len(journal.scan(data, "j").frames) == 2
    store._unlock()


def test_an_old_pickle_journal_is_refused_never_unpickled(tmp_path: Path) -> None:
    """Whoever can write the journal must not run code at the next start (it runs as root)."""
    path = tmp_path / "leases.db"
    run(SqliteStore(path).close())
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    body = pickle.dumps([Evil()])
    Path(f"{path}.journal").write_bytes(struct.pack("!I", len(body)) + body)
    with pytest.raises(StoreError, match=r"old pickle format.*dhcpbridge leases salvage"):
        SqliteStore(path)
    assert not marker.exists()
    # salvage reads pickles as data only: the planted batch is dropped, nothing runs
    report = salvage_store(path)
    assert not marker.exists()
    assert any("refusing" in line for line in report)
    run(SqliteStore(path).close())


def test_salvage_converts_an_old_pickle_journal(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    run(SqliteStore(path).close())
    old = b""
    for batch in ([_row(lease(0))], [_row(lease(1)), _row(lease(2))]):
        body = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        old += struct.pack("!I", len(body)) + body
    Path(f"{path}.journal").write_bytes(old)
    report = salvage_store(path)
    assert "old pickle format converted: 2 batch(es), 3 record(s) kept" in report[0]
    assert addresses(path) == [0, 1, 2]
    store = SqliteStore(path)
    assert store.index.get(LeaseKind.V4, X + 1) == lease(1)
    run(store.close())


def torn_in_the_middle(path: Path) -> None:
    """Frames A, half of B, C, C: what a failed write followed by later flushes used to leave."""
    a, b, c = (journal.frame([_row(lease(i))]) for i in range(3))
    Path(f"{path}.journal").write_bytes(journal.HEADER_BYTES + a + b[: len(b) // 2] + c + c)


def test_damage_before_good_frames_refuses_the_start_with_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    run(SqliteStore(path).close())
    torn_in_the_middle(path)
    offset = len(journal.HEADER_BYTES) + len(journal.frame([_row(lease(0))]))
    with pytest.raises(StoreError, match=f"corrupt at offset {offset} .*dhcpbridge leases salvage"):
        SqliteStore(path)
    report = salvage_store(path)
    assert f"dropped at offset {offset}" in "\n".join(report)
    assert addresses(path) == [0, 2]  # A and C kept, only half of B lost
    run(SqliteStore(path).close())


def test_a_frame_with_a_bad_checksum_is_corruption(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=3600)
    flushed(store, 0)
    flushed(store, 1)
    store._unlock()
    data = bytearray(store.journal_path.read_bytes())
    data[len(journal.HEADER_BYTES) + journal.FRAME.size + 5] ^= 0x01  # one bit in frame A's body
    store.journal_path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=f"offset {len(journal.HEADER_BYTES)} \\(checksum mismatch"):
        SqliteStore(path)
    with pytest.raises(StoreError, match="corrupt"):
        read_journal(store.journal_path)


def test_a_record_that_is_no_lease_is_reported_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    run(SqliteStore(path).close())
    bad = list(_row(lease(0)))
    bad[0], bad[1] = 9, "::a"  # no such lease kind (a 16-byte address, as the kinds but v4 have)
    Path(f"{path}.journal").write_bytes(journal.encode_file([[tuple(bad)]]))
    with pytest.raises(StoreError, match="corrupt at offset 12 \\(a record that is no lease"):
        SqliteStore(path)


def test_a_torn_last_frame_is_cut_off_at_open(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=3600)
    flushed(store, 0)
    store._unlock()
    with store.journal_path.open("ab") as handle:
        handle.write(journal.frame([_row(lease(1))])[:20])
    again = SqliteStore(path, checkpoint=3600)
    assert addresses(path) == [0]
    flushed(again, 2)
    found = journal.scan(again.journal_path.read_bytes(), "j")
    assert not found.damaged and found.tail is None and len(found.frames) == 1
    run(again.close())
    assert addresses(path) == [0, 2]


CHILD_SHORT_WRITE = """
import resource, signal, sys
from pathlib import Path
from dhcpbridge.engine.inline import run_inline as run
from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.leases import SqliteStore, StoreError

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
store = SqliteStore(Path(sys.argv[1]), checkpoint=3600)

def commit(i):
    run(store.commit(Lease(0x0A43000A + i, b"c%d" % i, LeaseState.BOUND, 1.0, 9e9, hostname="h" * 200), 1.0))

commit(0)
run(store.flush())
size = store.journal_path.stat().st_size
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 100, hard))  # the next frame is written half
commit(1)
try:
    run(store.flush())
    print("flush did not fail")
    sys.exit(1)
except StoreError as exc:
    print("failed:", exc)
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
commit(2)
run(store.flush())
store._unlock()  # crash: no checkpoint
print("ok")
"""


def test_a_failed_write_is_cut_back_so_later_frames_are_replayed(tmp_path: Path) -> None:
    """A half-written frame (file size limit) is removed again; the next flush writes the
    pending changes after frame A and every lease survives a restart."""
    path = tmp_path / "leases.db"
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD_SHORT_WRITE))
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [sys.executable, str(script), str(path)], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "failed:" in done.stdout and "cannot write 1 lease change" in done.stdout
    found = journal.scan(Path(f"{path}.journal").read_bytes(), "j")
    assert not found.damaged and found.tail is None
    assert addresses(path) == [0, 1, 2]


def test_a_journal_lost_by_a_failed_rotation_is_reopened_at_the_next_flush(tmp_path: Path) -> None:
    """A rotation that cannot reopen the journal (EMFILE) left no journal to write to, and every
    later flush failed for good; now the next flush reopens it."""
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=3600)
    flushed(store, 0)
    assert store._journal_fd is not None
    os.close(store._journal_fd)
    store._journal_fd = None  # what the failed reopen leaves
    flushed(store, 1)
    store._unlock()
    assert addresses(path) == [0, 1]


def test_a_rotation_that_fails_is_a_store_error_and_the_server_keeps_committing(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path, checkpoint=0)
    blocker = Path(f"{path}.journal.old")
    blocker.mkdir()
    (blocker / "x").write_text("not empty: os.replace onto it fails")
    flushed(store, 0)  # the batch is durable; only the rotation failed (counted)
    assert store.checkpoint_failures >= 1 and store.pending == 0
    flushed(store, 1)
    (blocker / "x").unlink()
    blocker.rmdir()
    flushed(store, 2)
    flushed(store, 3)
    store._unlock()
    assert addresses(path) == [0, 1, 2, 3]


def test_failing_reports_consecutive_failed_flushes(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    store = SqliteStore(path)
    assert store.failing() is None
    assert store._journal_fd is not None
    os.close(store._journal_fd)
    store._journal_fd = None
    store.journal_path.unlink()
    store.journal_path.mkdir()  # the journal cannot be reopened now
    for i in range(3):
        assert run(store.commit(lease(i), NOW)) is not None
        with pytest.raises(StoreError, match="cannot open to write"):
            run(store.flush())
    failing = store.failing()
    assert failing is not None and failing[0] == 3 and failing[1] >= 0
    store.journal_path.rmdir()
    run(store.flush())
    assert store.failing() is None
    run(store.close())
