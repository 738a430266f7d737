"""Dynamic pools: "give this client a free address from its subnet's pools"."""

from __future__ import annotations

from dhcpbridge.engine.model import NO_ANSWER, Action, Answer
from dhcpbridge.engine.ports import Query


class PoolSource:
    """Answers every client on a subnet that has pools; the engine allocates through the store."""

    in_process = True  # answers without IO: the runtime may drive it inline

    def __init__(self, name: str = "pools") -> None:
        self.name = name
        self._answer = Answer(Action.ASSIGN, source=name, dynamic=True, known=False)  # deny-unknown pools

    def reserved(self) -> frozenset[int]:
        return frozenset()

    async def ask(self, query: Query) -> Answer:
        subnet = query.subnet
        if subnet is None or not (subnet.pools or getattr(subnet, "pd_pools", None)):
            return NO_ANSWER  # (a DHCPv6 link may have prefix-delegation pools only)
        return self._answer

    def answer(self, query: Query) -> Answer:
        """``ask`` without a coroutine (the v6 engine uses it when every source has one)."""
        subnet = query.subnet
        if subnet is None or not (subnet.pools or getattr(subnet, "pd_pools", None)):
            return NO_ANSWER
        return self._answer
