"""The chain of sources: asks each in configured order until one has an answer."""

from __future__ import annotations

from collections.abc import Sequence

from dhcpbridge.engine.model import NO_ANSWER, Action, Answer
from dhcpbridge.engine.ports import Query, Source


class SourceChain:
    """First answer that is not ``Action.NONE`` wins; no source with an answer means no answer."""

    def __init__(self, sources: Sequence[Source]) -> None:
        self.sources = tuple(sources)

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
