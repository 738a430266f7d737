"""The chain of sources: asks each in configured order until one has an answer."""

from __future__ import annotations

from collections.abc import Sequence

from dhcpbridge.engine.model import NO_ANSWER, Action, Answer
from dhcpbridge.engine.ports import Query, Source


class NeedsIO(Exception):
    """A source cannot answer without IO now (e.g. the HTTP bridge's cache has no fresh answer):
    the runtime runs the request again as a task, where sources are awaited."""


class SourceChain:
    """First answer that is not ``Action.NONE`` wins; no source with an answer means no answer."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = tuple(sources)
        # sources that can also answer synchronously (``answer(query)``: in-process lookups) let
        # the engine skip a coroutine per source and packet
        answers = [getattr(s, "answer", None) for s in self.sources]
        self.sync = all(callable(a) for a in answers)
        self._answers = answers if self.sync else []

    def answer(self, query: Query) -> Answer:
        """``ask`` without coroutines; only when ``sync`` is true. May raise ``NeedsIO``."""
        for answer_now in self._answers:
            assert answer_now is not None
            answer: Answer = answer_now(query)
            if answer.action is not Action.NONE:
                return answer
        return NO_ANSWER

    async def ask(self, query: Query) -> Answer:
        for source in self.sources:
            answer = await source.ask(query)
            if answer.action is not Action.NONE:
                return answer
        return NO_ANSWER

    def reserved(self) -> frozenset[int]:
        out: frozenset[int] = frozenset()
        for source in self.sources:
            out |= source.reserved()
        return out
