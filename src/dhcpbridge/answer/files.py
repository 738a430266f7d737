"""The directory backend: one JSON or TOML file per key, indexed in memory, reloaded on change.

The file name (without ``.json`` / ``.toml``) is the key, in any spelling ``keys.normalise_key``
accepts: ``02-67-00-00-00-02.json``, ``duid-000100012e6b1c3a026700000002.toml``,
``subnet-10.67.0.0_24.toml``, ``relay-10.68.0.2.json``, ``default.json``. Sub-directories are
read too; names starting with a dot (``.git``) and files with other suffixes (``README.md``) are
skipped.

Requests never touch the disk: :meth:`FileStore.get` is a dict lookup. :meth:`FileStore.refresh`
(run by the service every poll interval, in a worker thread) stats every file, re-reads only those
whose (mtime, size, inode) changed, and swaps in a new index. A file that fails to parse or check
keeps its last good version (if it had one) and is reported until fixed.
"""

from __future__ import annotations

import asyncio
import json
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dhcpbridge.answer.entries import Entry, EntryError, check_entry
from dhcpbridge.answer.keys import InvalidKey, normalise_key
from dhcpbridge.answer.memory import InMemoryStore

Signature = tuple[int, int, int]
_PARSERS: dict[str, Callable[[str], Any]] = {".json": json.loads, ".toml": tomllib.loads}


@dataclass(slots=True)
class FileState:
    """What one file gave at its last change."""

    signature: Signature
    key: str | None
    entry: Entry | None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kept_last_good: bool = False


@dataclass(slots=True)
class Change:
    """One scan's result, computed off the event loop and applied on it."""

    current: dict[str, Signature]
    changed: dict[str, FileState]
    removed: list[str]


class FileStore(InMemoryStore):
    """Entries from a directory of static files."""

    name = "files"

    def __init__(self, directory: Path, log: Any) -> None:
        super().__init__(directory, log)
        self.directory = directory
        self._files: dict[str, FileState] = {}
        self._duplicates: list[str] = []

    # -- loading -----------------------------------------------------------------------------

    def _scan(self) -> dict[str, Signature]:
        found: dict[str, Signature] = {}
        pending = [self.directory]
        while pending:
            folder = pending.pop()
            try:
                items = list(os.scandir(folder))
            except OSError as exc:
                self.log.error("cannot read directory", path=str(folder), error=str(exc))
                continue
            for item in items:
                if item.name.startswith("."):
                    continue
                try:
                    if item.is_dir():
                        pending.append(Path(item.path))
                    elif item.is_file() and os.path.splitext(item.name)[1].lower() in _PARSERS:
                        stat = item.stat()
                        found[item.path] = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
                except OSError:
                    continue  # vanished between listing and stat: the next scan will tell
        return found

    def _parse(self, path: str, signature: Signature, old: FileState | None) -> FileState:
        stem, suffix = os.path.splitext(os.path.basename(path))
        try:
            key = normalise_key(stem)
        except InvalidKey as exc:
            return FileState(signature, None, None, [f"file name: {exc}"])
        try:
            text = Path(path).read_text(encoding="utf-8")
            data = _PARSERS[suffix.lower()](text)
            entry, warnings = check_entry(key, data, self._origin(path))
        except (OSError, UnicodeDecodeError) as exc:
            problems = [f"cannot read: {exc}"]
        except json.JSONDecodeError as exc:
            problems = [f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        except tomllib.TOMLDecodeError as exc:
            problems = [f"not TOML: {exc}"]
        except EntryError as exc:
            problems = exc.problems
        else:
            return FileState(signature, key, entry, [], warnings)
        if old is not None and old.entry is not None and old.key == key:
            return FileState(signature, key, old.entry, problems, [], kept_last_good=True)
        return FileState(signature, key, None, problems)

    def _origin(self, path: str) -> str:
        return os.path.relpath(path, self.directory)

    def scan(self) -> Change:
        """Stat everything and parse what changed (blocking: run it in a thread)."""
        current = self._scan()
        changed = {
            path: self._parse(path, signature, self._files.get(path))
            for path, signature in current.items()
            if path not in self._files or self._files[path].signature != signature
        }
        removed = [path for path in self._files if path not in current]
        return Change(current, changed, removed)

    def apply(self, change: Change) -> bool:
        """Swap in a scan's result; True when the index changed."""
        if not change.changed and not change.removed:
            return False
        for path in change.removed:
            self.log.info("file removed", store=self.name, path=self._origin(path))
            del self._files[path]
        for path, state in change.changed.items():
            origin = self._origin(path)
            if state.problems:
                self.log.error(
                    "bad answer file",
                    store=self.name,
                    path=origin,
                    problems=state.problems,
                    kept_last_good=state.kept_last_good,
                )
            else:
                self.log.info("file loaded", store=self.name, path=origin, key=state.key)
            for warning in state.warnings:
                self.log.warning("answer file", store=self.name, path=origin, warning=warning)
            self._files[path] = state
        index: dict[str, Entry] = {}
        duplicates: list[str] = []
        for path in sorted(self._files):
            state = self._files[path]
            if state.entry is None or state.key is None:
                continue
            if state.key in index:
                duplicates.append(self._origin(path))
                self.log.error(
                    "two files for one key; using the first",
                    store=self.name,
                    key=state.key,
                    used=index[state.key].origin,
                    ignored=self._origin(path),
                )
                continue
            index[state.key] = state.entry
        self._index = index
        self._duplicates = duplicates
        self.generation += 1
        return True

    def load(self) -> None:
        """The first load, synchronously (before serving)."""
        self.apply(self.scan())

    async def refresh(self) -> bool:
        """Look for changes without blocking the event loop; True when something changed."""
        change = await asyncio.to_thread(self.scan)
        return self.apply(change)

    def problems(self) -> list[str]:
        """Every current problem, one line each (for ``--check`` and health)."""
        lines = [
            f"{self._origin(path)}: {problem}"
            for path, state in sorted(self._files.items())
            for problem in state.problems
        ]
        lines += [f"{origin}: duplicate key, ignored" for origin in self._duplicates]
        return lines
