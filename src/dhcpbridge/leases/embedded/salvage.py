"""``dhcpbridge leases salvage``: rewrite a store's damaged or old-format journals so it starts.

Every valid frame is kept, in order; damaged bytes are dropped and reported with their offsets.
A journal in the old pickle format is converted: its pickles are read as plain data only (an
unpickler that refuses every class and function, so a planted pickle cannot run code), each
record is checked to be a lease row, and the journal is rewritten in the current format. The
store's lock is held while salvaging, so a running server is never changed under its feet.
"""

from __future__ import annotations

import fcntl
import io
import os
import pickle
import struct
from pathlib import Path
from typing import Any

from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.embedded.journal import (
    JournalError,
    decode_record,
    encode_file,
    encode_record,
    is_pickle_journal,
    scan,
)
from dhcpbridge.leases.embedded.sqlite import PRIVATE, private_umask

_OLD_FRAME = struct.Struct("!I")


class _DataOnly(pickle.Unpickler):
    """Unpickles lists, tuples, text, bytes and numbers; refuses every class and function."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing {module}.{name}: a journal holds data only")


def _old_frames(data: bytes) -> tuple[list[list[tuple[Any, ...]]], list[str]]:
    """The batches of a pickle journal, as data, and what could not be read."""
    frames: list[list[tuple[Any, ...]]] = []
    problems: list[str] = []
    pos = 0
    while pos + 4 <= len(data):
        (size,) = _OLD_FRAME.unpack_from(data, pos)
        body = data[pos + 4 : pos + 4 + size]
        if len(body) < size:
            problems.append(f"offset {pos}: last batch cut short ({len(data) - pos} bytes dropped)")
            return frames, problems
        try:
            records = _DataOnly(io.BytesIO(body)).load()
            if not isinstance(records, list):
                raise ValueError("a batch is a list")
            # round trip through the new format's checks: only lease rows pass
            frames.append([decode_record(encode_record(tuple(r))) for r in records])
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
            problems.append(f"offset {pos}: batch of {size} bytes dropped ({exc})")
        pos += 4 + size
    if pos < len(data):
        problems.append(f"offset {pos}: {len(data) - pos} trailing bytes dropped")
    return frames, problems


def salvage_journal(path: Path) -> list[str]:
    """Rewrite one journal file keeping every valid frame; returns the report lines."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    if is_pickle_journal(data):
        frames, problems = _old_frames(data)
        kept = sum(len(f) for f in frames)
        report = [f"{path}: old pickle format converted: {len(frames)} batch(es), {kept} record(s) kept"]
    else:
        try:
            found = scan(data, str(path))
        except JournalError as exc:
            raise StoreError(f"{exc}; move it aside to start without it") from None
        frames = [records for _, records in found.frames]
        problems = [f"offset {a}: {b - a} bytes dropped ({why})" for a, b, why in found.damaged]
        if found.tail is not None:
            problems.append(
                f"offset {found.tail[0]}: {found.size - found.tail[0]} bytes dropped ({found.tail[1]})"
            )
        if not problems:
            return [f"{path}: intact, {len(frames)} frame(s), nothing to do"]
        report = [f"{path}: {len(frames)} valid frame(s), {len(found.records)} record(s) kept"]
    tmp = Path(f"{path}.salvage")
    with private_umask():
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
        try:
            os.write(fd, encode_file(frames))
            os.fsync(fd)
        finally:
            os.close(fd)
    os.replace(tmp, path)
    return report + [f"{path}: dropped at {p}" for p in problems]


def salvage_store(path: Path) -> list[str]:
    """Salvage both journals of the store at ``path`` (``StoreError`` while a server holds it)."""
    if not path.exists():
        raise StoreError(f"{path} does not exist")
    with private_umask():
        lock = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, PRIVATE)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{path} is in use by a running dhcpbridge server: stop it first") from None
        lines: list[str] = []
        for journal in (Path(f"{path}.journal.old"), Path(f"{path}.journal")):
            lines += salvage_journal(journal)
        return lines or [f"{path}: no journal, nothing to do"]
    finally:
        os.close(lock)
