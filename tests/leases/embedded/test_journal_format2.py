"""Journal format 2 (struct-packed records): every field round-trips, damaged bodies are reported,
and journals written in format 1 (JSON) still replay into a store that then writes format 2."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from dhcpbridge.engine.inline import run_inline as run
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import SqliteStore, StoreError
from dhcpbridge.leases.embedded import journal
from dhcpbridge.leases.embedded.sqlite import _row

NOW = 1_700_000_000.0


def v6_lease(i: int) -> Lease:
    return Lease(
        (0x20010DB8 << 96) + i,
        b"\x00\x00\x00\x01\x00\x03\x00\x01" + bytes([i]) * 6,
        LeaseState.DECLINED,
        NOW + 0.25,
        NOW + 3600.5,
        kind=LeaseKind.PD,
        prefix_len=56,
        hostname="h\u00f4te",
        subnet="2001:db8::/48",
        source="pools",
        relay="2001:db8:ffff::1",
        circuit_id=b"\x00eth0",
        remote_id=b"\x00\x00\x0d\xe9" + b"r" * 300,
        info={"kept": [1, "two"]},
    )


def test_every_field_round_trips() -> None:
    row = _row(v6_lease(1))
    odd = (*row[:8], "x-\udcff", *row[9:])  # a lone surrogate is kept
    rows = [_row(v6_lease(1)), odd, (journal.DELETED, 4, "10.0.0.9"), (journal.DELETED, 7, "2001:db8::")]
    found = journal.scan(journal.encode_file([rows]), "j")
    assert found.version == journal.VERSION == 2
    assert found.records == rows and not found.damaged and found.tail is None


@pytest.mark.parametrize("cut", [1, 5, 30])
def test_a_body_that_does_not_parse_is_a_bad_record_with_its_offset(cut: int) -> None:
    """A frame whose checksum matches but whose records do not parse (a writer bug, not a torn
    write) is reported as damage, never raised as an exception from struct."""
    body = journal.pack_record(_row(v6_lease(3)))[:-cut]
    length = struct.pack("!I", len(body))
    bad = journal.FRAME.pack(journal.MARK, len(body), zlib.crc32(body, zlib.crc32(length))) + body
    good = journal.frame([_row(v6_lease(4))])
    found = journal.scan(journal.HEADER_BYTES + bad + good, "j")
    assert found.damaged and found.damaged[0][0] == len(journal.HEADER_BYTES)
    assert "bad record" in found.damaged[0][2]
    assert found.records == [_row(v6_lease(4))]


def test_an_unknown_record_tag_is_damage() -> None:
    found = journal.scan(journal.HEADER_BYTES + journal._framed(b"\x07" + b"\x00" * 40), "j")
    assert found.tail is not None and "unknown record tag 7" in found.tail[1]


def test_a_newer_format_is_refused() -> None:
    data = journal.HEADER.pack(journal.MAGIC, 3, 0) + journal.frame([_row(v6_lease(5))])
    with pytest.raises(journal.JournalError, match="version 3; this dhcpbridge reads 1, 2"):
        journal.scan(data, "j")


def test_a_format_1_journal_replays_and_the_store_writes_format_2(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    run(SqliteStore(path).close())
    old = [_row(v6_lease(6)), _row(v6_lease(7))]
    header_v1 = journal.HEADER.pack(journal.MAGIC, journal.JSON_VERSION, 0)
    Path(f"{path}.journal").write_bytes(
        header_v1 + journal.json_frame(old) + journal.json_frame([(journal.DELETED, 7, "2001:db8::7")])
    )
    store = SqliteStore(path, checkpoint=3600)
    assert [_row(lease) for lease in store.index.all(LeaseKind.PD)] == [old[0]]
    fresh = Lease(0x0A000001, b"\x01c", LeaseState.BOUND, NOW, NOW + 60)
    assert run(store.commit(fresh, NOW)) is not None
    run(store.flush())
    found = journal.scan(store.journal_path.read_bytes(), "j")
    assert found.version == 2 and found.records == [_row(fresh)]
    run(store.close())
    again = SqliteStore(path, readonly=True)
    assert sorted(lease.address for lease in again.index.all()) == [0x0A000001, v6_lease(6).address]
    again.db.close()


def test_a_damaged_format_2_frame_before_good_ones_refuses_the_start_with_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "leases.db"
    run(SqliteStore(path).close())
    a = journal.frame([_row(v6_lease(8))])
    b = journal.frame([_row(v6_lease(9))])
    data = bytearray(journal.HEADER_BYTES + a + b)
    data[len(journal.HEADER_BYTES) + journal.FRAME.size + 3] ^= 0x40
    Path(f"{path}.journal").write_bytes(bytes(data))
    with pytest.raises(StoreError, match=f"offset {len(journal.HEADER_BYTES)} \\(checksum mismatch"):
        SqliteStore(path)
