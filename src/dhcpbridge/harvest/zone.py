"""The ``$INCLUDE`` fragment: its text for a list of records, and writing it atomically (a temp
file in the same directory, fsynced, renamed over the old one) only when the text changed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from dhcpbridge.harvest.entries import Entry

HEADER = "; written by dhcpbridge harvest: do not edit (the next harvest replaces this file)\n"


def render(entries: Sequence[Entry], ttl: int | None = None) -> str:
    return HEADER + "".join(entry.line(ttl) + "\n" for entry in entries)


def record_lines(text: str) -> set[str]:
    """The record lines of a fragment (to tell what a harvest changed)."""
    return {line for line in text.splitlines() if line.strip() and not line.startswith(";")}


def read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so a reader sees the old or the new file, never a part."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        if not path.exists():
            os.chmod(tmp, 0o644)  # named (often another user) must read it
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
