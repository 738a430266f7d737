"""The base of the answer stores that hold every entry in memory (the directory and the CSV file).

A lookup is a dict lookup, prefetching has nothing to do and there is nothing to close; the
subclasses load and refresh ``_index`` and say their problems.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dhcpbridge.answer.entries import Entry


class InMemoryStore:
    """Entries by key in ``_index``; ``location`` is the file or directory they come from."""

    name = "memory"
    wants_prefetch = False

    def __init__(self, location: Path, log: Any) -> None:
        self.location = location
        self.log = log
        self.generation = 0
        self._index: dict[str, Entry] = {}

    def get(self, key: str) -> Entry | None:
        """The entry stored under ``key`` (no IO)."""
        return self._index.get(key)

    def prefetch(self, keys: list[str]) -> None:
        """Nothing to do: everything is in memory."""

    def problems(self) -> list[str]:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """Counters for ``/healthz``."""
        return {
            "name": self.name,
            "path": str(self.location),
            "entries": len(self._index),
            "errors": len(self.problems()),
            "generation": self.generation,
        }

    def close(self) -> None:
        """Nothing to release."""
