"""The answer service's decisions: from a question to a checked answer, with no HTTP in sight.

Order of business for one question:

1. the client entry: the first client key (``keys.client_keys``, most specific first) found in a
   store (stores in the order given: files, CSV, SQLite);
2. else the hook, if there is one (its ``none`` falls through to 3);
3. else the unknown-client answer (``--default``, or ``{"action": "none"}``).

An ``assign`` from any of them is laid over the layers the question matches (``default``,
``interface-*``, ``relay-*``, ``subnet-*``, each from the first store that has it).

Every answer that leaves is checked against the contract: entries when they are loaded, hook
output on every run, and each merged answer when it is built (``entries.answer_problems``: the
pydantic models, the schema's tested twin, decide in ~10 µs; jsonschema words the rejections). If a
merged answer ever fails, the service logs why and answers ``none``. Answers from stores are
deterministic for a given store generation, so the serialised answer is cached per
(client key, layer keys) until a store changes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from dhcpbridge.answer.entries import Entry, answer_problems, lay
from dhcpbridge.answer.hook import HookRunner
from dhcpbridge.answer.keys import client_keys, layer_keys
from dhcpbridge.contract.models import Question4, Question6

NONE_BODY = b'{"action":"none"}'


class Store(Protocol):
    """A backend that holds entries by key (files, CSV, SQLite)."""

    name: str
    generation: int
    #: True when ``prefetch`` saves work (one query for all of a question's keys)
    wants_prefetch: bool

    def get(self, key: str) -> Entry | None: ...

    def prefetch(self, keys: list[str]) -> None: ...

    def load(self) -> None: ...

    async def refresh(self) -> bool: ...

    def problems(self) -> list[str]: ...

    def stats(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Resolution:
    """One answer: the bytes to send, the object, and what it was made of (for the log)."""

    body: bytes
    answer: dict[str, Any]
    source: str
    origin: str | None
    layers: tuple[str, ...]
    cached: bool = False


def _encode(answer: dict[str, Any]) -> bytes:
    return json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class AnswerService:
    """Stores + optional hook + unknown-client default -> answers."""

    def __init__(
        self,
        stores: Sequence[Store],
        log: Any,
        *,
        hook: HookRunner | None = None,
        default: dict[str, Any] | None = None,
        cache_size: int = 100_000,
    ) -> None:
        self.stores = list(stores)
        self.log = log
        self.hook = hook
        self.default: dict[str, Any] = default if default is not None else {"action": "none"}
        self.cache_size = cache_size
        self._cache: dict[tuple[str | None, tuple[str, ...]], Resolution] = {}
        self._refreshing = asyncio.Lock()
        self._prefetching = [store for store in self.stores if store.wants_prefetch]
        self.questions = 0
        self.invalid_answers = 0

    # -- lookups -----------------------------------------------------------------------------

    def _find(self, key: str) -> Entry | None:
        for store in self.stores:
            entry = store.get(key)
            if entry is not None:
                return entry
        return None

    def _layers(self, question: Question4 | Question6) -> list[Entry]:
        found = []
        for key in layer_keys(question):
            entry = self._find(key)
            if entry is not None:
                found.append(entry)
        return found

    def _client(self, question: Question4 | Question6) -> Entry | None:
        for key in client_keys(question):
            entry = self._find(key)
            if entry is not None:
                return entry
        return None

    def _finish(
        self, answer: dict[str, Any], source: str, origin: str | None, layers: list[Entry]
    ) -> Resolution:
        problems = answer_problems(answer)
        if problems:
            self.invalid_answers += 1
            self.log.error(
                "built an invalid answer; sending none", source=source, origin=origin, problems=problems
            )
            return Resolution(NONE_BODY, {"action": "none"}, "error", origin, ())
        used = tuple(layer.origin for layer in layers) if answer["action"] == "assign" else ()
        return Resolution(_encode(answer), answer, source, origin, used)

    async def resolve(self, question: Question4 | Question6, body: bytes) -> Resolution:
        """The answer to one question (``body`` is the question's JSON, handed to the hook as is)."""
        self.questions += 1
        if self._prefetching:
            wanted = client_keys(question) + layer_keys(question)
            for store in self._prefetching:
                store.prefetch(wanted)
        client = self._client(question)
        layers = self._layers(question)
        if client is None and self.hook is not None:
            result = await self.hook.ask(body, question)
            if result.answer.get("action") != "none" or result.error is not None:
                source = "hook-fallback" if result.error else "hook"
                answer = (
                    lay(layers, result.answer) if result.answer.get("action") == "assign" else result.answer
                )
                return self._finish(answer, source, str(self.hook.executable), layers)
        cache_key = (client.key if client is not None else None, tuple(layer.key for layer in layers))
        cached = self._cache.get(cache_key)
        if cached is not None:
            return Resolution(cached.body, cached.answer, cached.source, cached.origin, cached.layers, True)
        if client is not None:
            resolution = self._finish(
                lay(layers, client.answer), self._source_of(client), client.origin, layers
            )
        else:
            resolution = self._finish(lay(layers, self.default), "default", None, layers)
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[cache_key] = resolution
        return resolution

    def _source_of(self, entry: Entry) -> str:
        for store in self.stores:
            if store.get(entry.key) is entry:
                return store.name
        return "store"

    # -- upkeep ------------------------------------------------------------------------------

    def load(self) -> None:
        """First load of every store (blocking, before serving)."""
        for store in self.stores:
            store.load()

    async def refresh(self) -> bool:
        """Poll every store once; drop the answer cache if any changed."""
        async with self._refreshing:
            changed = False
            for store in self.stores:
                try:
                    changed = await store.refresh() or changed
                except Exception as exc:  # a broken backend must not stop the poller
                    self.log.error("refresh failed", store=store.name, error=repr(exc))
            if changed:
                self._cache.clear()
            return changed

    async def poll(self, interval: float) -> None:
        """Refresh every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval)
            await self.refresh()

    def problems(self) -> list[str]:
        """Every store's current problems, prefixed with the store name."""
        return [f"{store.name}: {problem}" for store in self.stores for problem in store.problems()]

    def stats(self) -> list[dict[str, Any]]:
        """Per-backend counters for ``/healthz``."""
        out = [store.stats() for store in self.stores]
        if self.hook is not None:
            out.append(
                {
                    "name": "hook",
                    "path": str(self.hook.executable),
                    "runs": self.hook.runs,
                    "errors": self.hook.failures,
                }
            )
        return out

    def close(self) -> None:
        """Release every store."""
        for store in self.stores:
            store.close()
