"""The SQLite store's journal file format: data only, versioned, a checksum per frame.

A journal is a 12-byte header (``MAGIC``, a 16-bit format ``VERSION``, 16 reserved bits) and
then one frame per flushed batch: a 10-byte frame head (the 16-bit ``MARK``, the body length, the
CRC-32 of length and body) and a body of row records. Format 2 (written) packs each record with
``struct``: a 40-byte head (tag, kind, prefix length, state, starts, expires, and the lengths of
the nine variable fields: client, hwaddr, hostname, subnet, source, relay, circuit id, remote id,
info JSON), the address (4 or 16 bytes), then the fields' bytes (text as UTF-8); a deleted row is
its tag, kind and address. Format 1 (still read, never written) has a JSON body: a list of row records, lists of
plain values (bytes as hex text). Either way a record is data, never objects: reading a journal
runs no code. The mark lets ``dhcpbridge leases salvage`` find the next frame after a damaged one.

``scan`` reads a whole file into frames and reports what it could not read: a damaged tail (the
last write cut short by a crash: normal, ignored) or damaged bytes followed by good frames
(corruption: the store refuses to start until the operator salvages). A journal in the old pickle
format is recognised and refused, never unpickled.
"""

from __future__ import annotations

import json
import socket
import struct
import zlib
from typing import Any, Final

MAGIC = b"dhcpbjnl"
VERSION = 2  # written; READS are read
JSON_VERSION = 1
READS = (JSON_VERSION, VERSION)
HEADER = struct.Struct("!8sHH")
HEADER_BYTES = HEADER.pack(MAGIC, VERSION, 0)
MARK = 0xD4B7
FRAME = struct.Struct("!HII")  # mark, body length, crc32 of (length, body)
_LENGTH = struct.Struct("!I")
MAX_FRAME = 1 << 30
DELETED = "-"  # a deleted row's record: (DELETED, kind, address text)
ROW_FIELDS = 15
V4_KIND = 4  # LeaseKind.V4: a 4-byte address; the other kinds have 16
_ROW, _GONE = 0, 1  # record tags (format 2)
# a row: tag, kind, prefix_len, state, starts, expires, then the lengths of client, hwaddr,
# hostname, subnet, source, relay, circuit_id, remote_id and info; the address and the fields follow
_FIXED = struct.Struct("!BBBBddHHHHHHHHI")
_GONE_HEAD = struct.Struct("!BB")  # tag, kind; the address follows
_TEXT = "surrogatepass"  # any str a lease holds round-trips
_ENCODE = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode  # format 1: no cycles


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


_AF_INET6: Final = socket.AF_INET6  # Final: compiled, C statics, not module attribute lookups
_inet_pton: Final = socket.inet_pton


def _packed_addr(kind: int, text: str) -> bytes:
    if kind == V4_KIND:
        return socket.inet_aton(text)
    return _inet_pton(_AF_INET6, text)


def packed_addr(kind: int, addr: int) -> bytes:
    """A row's address (an int) as ``pack_record`` writes it: 4 bytes for IPv4, 16 for IPv6."""
    return addr.to_bytes(4 if kind == V4_KIND else 16, "big")


def _utf8(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate (bytes that were not UTF-8): kept as they were
        return text.encode("utf-8", _TEXT)


def _text(raw: bytes) -> str:
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("utf-8", _TEXT)  # still a ValueError when it is not even that


def pack_record(r: tuple[Any, ...], addr: bytes = b"") -> bytes:
    """One row record (SQLite column values) in format 2; ``addr``: its address already packed
    (``packed_addr``), else it is read back from the row's text."""
    if r[0] == DELETED:
        return _GONE_HEAD.pack(_GONE, r[1]) + (addr or _packed_addr(r[1], r[2]))
    kind: int = r[0]
    client: bytes = r[3]
    hwaddr: bytes = r[7]
    host = _utf8(r[8])
    subnet = _utf8(r[9])
    source = _utf8(r[10])
    relay = _utf8(r[11])
    circuit: bytes = r[12]
    remote: bytes = r[13]
    info = _utf8(r[14])
    fixed = _FIXED.pack(
        _ROW,
        kind,
        r[2],
        r[4],
        r[5],
        r[6],
        len(client),
        len(hwaddr),
        len(host),
        len(subnet),
        len(source),
        len(relay),
        len(circuit),
        len(remote),
        len(info),
    )
    return b"".join(
        (
            fixed,
            addr or _packed_addr(kind, r[1]),
            client,
            hwaddr,
            host,
            subnet,
            source,
            relay,
            circuit,
            remote,
            info,
        )
    )


def _addr_text(kind: int, packed: bytes) -> str:
    if kind == V4_KIND:
        return socket.inet_ntoa(packed)
    return socket.inet_ntop(socket.AF_INET6, packed)


def unpack_records(body: bytes) -> list[tuple[Any, ...]]:
    """The records of a format-2 frame body; ``ValueError`` when it does not parse exactly."""
    out: list[tuple[Any, ...]] = []
    pos = 0
    end = len(body)
    unpack = _FIXED.unpack_from
    try:
        while pos < end:
            tag = body[pos]
            kind = body[pos + 1]
            size = 4 if kind == V4_KIND else 16
            if tag == _GONE:
                pos += _GONE_HEAD.size
                if pos + size > end:
                    raise ValueError("deleted-row record cut short")
                out.append((DELETED, kind, _addr_text(kind, body[pos : pos + size])))
                pos += size
                continue
            if tag != _ROW:
                raise ValueError(f"unknown record tag {tag}")
            _, _, prefix_len, state, starts, expires, a, b, c, d, e, f, g, h, i = unpack(body, pos)
            pos += _FIXED.size
            p0 = pos + size
            p1 = p0 + a
            p2 = p1 + b
            p3 = p2 + c
            p4 = p3 + d
            p5 = p4 + e
            p6 = p5 + f
            p7 = p6 + g
            p8 = p7 + h
            p9 = p8 + i
            if p9 > end:
                raise ValueError("row record cut short")
            out.append(
                (
                    kind,
                    _addr_text(kind, body[pos:p0]),
                    prefix_len,
                    body[p0:p1],
                    state,
                    starts,
                    expires,
                    body[p1:p2],
                    _text(body[p2:p3]),
                    _text(body[p3:p4]),
                    _text(body[p4:p5]),
                    _text(body[p5:p6]),
                    body[p6:p7],
                    body[p7:p8],
                    _text(body[p8:p9]),
                )
            )
            pos = p9
    except (struct.error, IndexError, OSError) as exc:  # inet_ntop of a wrong size is an OSError
        raise ValueError(f"record at body offset {pos}: {exc}") from None
    return out


def _framed(body: bytes) -> bytes:
    length = _LENGTH.pack(len(body))
    return FRAME.pack(MARK, len(body), zlib.crc32(body, zlib.crc32(length))) + body


def frame(records: list[tuple[Any, ...]], addrs: list[bytes] | None = None) -> bytes:
    """One frame holding ``records`` (without the file header), in format ``VERSION``; ``addrs``:
    their addresses already packed, in the same order (``packed_addr``)."""
    if addrs is not None:
        return _framed(b"".join([pack_record(r, a) for r, a in zip(records, addrs, strict=True)]))
    return _framed(b"".join([pack_record(r) for r in records]))


def json_frame(records: list[tuple[Any, ...]]) -> bytes:
    """One frame in format 1 (JSON): what journals written before format 2 hold (tests, benches)."""
    return _framed(_ENCODE([encode_record(r) for r in records]).encode())


def _frame_at(data: bytes, pos: int, version: int = VERSION) -> tuple[int, list[tuple[Any, ...]]] | str:
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
        if version == VERSION:
            return end, unpack_records(body)
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
        self.version = VERSION  # the format of the file's frames
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
    if version not in READS:
        raise JournalError(
            f"{where}: journal format version {version}; this dhcpbridge reads {', '.join(map(str, READS))}"
        )
    out.version = version
    pos = out.good_end = HEADER.size
    bad_start = -1
    bad_why = ""
    while pos < len(data):
        got = _frame_at(data, pos, version)
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
