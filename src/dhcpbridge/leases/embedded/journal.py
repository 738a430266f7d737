"""The SQLite store's journal file format: data only, versioned, a checksum per frame.

A journal is a 12-byte header (``MAGIC``, a 16-bit format ``VERSION``, 16 reserved bits) and
then one frame per flushed batch: a 10-byte frame head (the 16-bit ``MARK``, the body length, the
CRC-32 of length and body) and a JSON body, a list of row records. Row records are lists of plain
values (bytes as hex text), never objects: reading a journal runs no code. The mark lets
``dhcpbridge leases salvage`` find the next frame after a damaged one.

``scan`` reads a whole file into frames and reports what it could not read: a damaged tail (the
last write cut short by a crash: normal, ignored) or damaged bytes followed by good frames
(corruption: the store refuses to start until the operator salvages). A journal in the old pickle
format is recognised and refused, never unpickled.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any

MAGIC = b"dhcpbjnl"
VERSION = 1
HEADER = struct.Struct("!8sHH")
HEADER_BYTES = HEADER.pack(MAGIC, VERSION, 0)
MARK = 0xD4B7
FRAME = struct.Struct("!HII")  # mark, body length, crc32 of (length, body)
_LENGTH = struct.Struct("!I")
MAX_FRAME = 1 << 30
DELETED = "-"  # a deleted row's record: (DELETED, kind, address text)
ROW_FIELDS = 15
_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode  # records hold no cycles


class JournalError(Exception):
    """The journal cannot be read as it is; the message says where and what to do."""


def encode_record(r: tuple[Any, ...]) -> list[Any]:
    """One row record (SQLite column values, bytes included) as JSON-ready values."""
    if r[0] == DELETED:
        return [DELETED, r[1], r[2]]
    return [
        r[0],
        r[1],
        r[2],
        r[3].hex(),
        r[4],
        r[5],
        r[6],
        r[7].hex(),
        r[8],
        r[9],
        r[10],
        r[11],
        r[12].hex(),
        r[13].hex(),
        r[14],
    ]


def decode_record(v: Any) -> tuple[Any, ...]:
    """A record read back from JSON; ``ValueError`` when it is not one this format writes."""
    if not isinstance(v, list):
        raise ValueError("a record is a list")
    if len(v) == 3 and v[0] == DELETED:
        if not isinstance(v[1], int) or not isinstance(v[2], str):
            raise ValueError("bad deleted-row record")
        return (DELETED, v[1], v[2])
    if len(v) != ROW_FIELDS:
        raise ValueError(f"a row record has {ROW_FIELDS} fields, not {len(v)}")
    for i in (0, 2, 4):
        if not isinstance(v[i], int) or isinstance(v[i], bool):
            raise ValueError(f"field {i} is not an integer")
    for i in (5, 6):
        if not isinstance(v[i], (int, float)) or isinstance(v[i], bool):
            raise ValueError(f"field {i} is not a number")
    for i in (1, 3, 7, 8, 9, 10, 11, 12, 13, 14):
        if not isinstance(v[i], str):
            raise ValueError(f"field {i} is not text")
    return (
        v[0],
        v[1],
        v[2],
        bytes.fromhex(v[3]),
        v[4],
        float(v[5]),
        float(v[6]),
        bytes.fromhex(v[7]),
        v[8],
        v[9],
        v[10],
        v[11],
        bytes.fromhex(v[12]),
        bytes.fromhex(v[13]),
        v[14],
    )


def frame(records: list[tuple[Any, ...]]) -> bytes:
    """One frame holding ``records`` (without the file header)."""
    body = _ENCODE([encode_record(r) for r in records]).encode()
    length = _LENGTH.pack(len(body))
    return FRAME.pack(MARK, len(body), zlib.crc32(body, zlib.crc32(length))) + body


def _frame_at(data: bytes, pos: int) -> tuple[int, list[tuple[Any, ...]]] | str:
    """The frame at ``pos``: (its end, its records), or why it is not one."""
    if pos + FRAME.size > len(data):
        return "cut short"
    mark, size, crc = FRAME.unpack_from(data, pos)
    if mark != MARK:
        return "no frame mark"
    end = pos + FRAME.size + size
    if size > MAX_FRAME or end > len(data):
        return "cut short"
    body = data[pos + FRAME.size : end]
    if zlib.crc32(body, zlib.crc32(_LENGTH.pack(size))) != crc:
        return "checksum mismatch"
    try:
        values = json.loads(body)
        if not isinstance(values, list):
            return "body is not a list of records"
        return end, [decode_record(v) for v in values]
    except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
        return f"bad record: {exc}"


class Scan:
    """What ``scan`` read: every good frame, the damaged byte ranges, a torn tail."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, list[tuple[Any, ...]]]] = []  # (offset, records)
        self.damaged: list[tuple[int, int, str]] = []  # (start, end, why) followed by good frames
        self.tail: tuple[int, str] | None = None  # (offset, why): unreadable bytes up to the end
        self.size = 0  # bytes in the file
        self.good_end = 0  # end of the last good frame (or of the header)

    @property
    def records(self) -> list[tuple[Any, ...]]:
        return [r for _, records in self.frames for r in records]


def is_pickle_journal(data: bytes) -> bool:
    """The journal of dhcpbridge before format 1: 4-byte length frames of pickles."""
    return len(data) >= 6 and data[4] == 0x80 and not data.startswith(MAGIC[:4])


def scan(data: bytes, where: str) -> Scan:
    """Every frame of a journal's bytes; ``JournalError`` when it is not a journal of this format
    (an old pickle journal, another file, a newer version)."""
    out = Scan()
    out.size = len(data)
    if not data:
        return out
    if len(data) < HEADER.size:
        if MAGIC.startswith(data[: len(MAGIC)]):
            out.tail = (0, "header cut short")
            return out
        raise JournalError(_not_a_journal(data, where))
    magic, version, _ = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise JournalError(_not_a_journal(data, where))
    if version != VERSION:
        raise JournalError(f"{where}: journal format version {version}; this dhcpbridge reads {VERSION}")
    pos = out.good_end = HEADER.size
    bad_start = -1
    bad_why = ""
    while pos < len(data):
        got = _frame_at(data, pos)
        if isinstance(got, str):
            if bad_start < 0:
                bad_start, bad_why = pos, got
            nxt = data.find(MARK.to_bytes(2, "big"), pos + 1)
            if nxt < 0:
                break
            pos = nxt
            continue
        if bad_start >= 0:
            out.damaged.append((bad_start, pos, bad_why))
            bad_start = -1
        end, records = got
        out.frames.append((pos, records))
        pos = out.good_end = end
    if bad_start >= 0:
        out.tail = (bad_start, bad_why)
    return out


def _not_a_journal(data: bytes, where: str) -> str:
    if is_pickle_journal(data):
        return (
            f"{where} is a journal in the old pickle format, which this version does not read "
            "(unpickling can run code). Convert it, with no server running, by "
            "`dhcpbridge leases salvage -c CONFIG` (it reads the pickles as plain data only and "
            "rewrites the journal in the new format)"
        )
    return f"{where} is not a dhcpbridge journal (no {MAGIC.decode()} header)"


def encode_file(frames: list[list[tuple[Any, ...]]]) -> bytes:
    """A whole journal file holding ``frames`` (used by salvage and tests)."""
    return HEADER_BYTES + b"".join(frame(records) for records in frames if records)
