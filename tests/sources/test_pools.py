"""The pools source: "allocate from the selected subnet's pools" for every client on such a subnet."""

from __future__ import annotations

from dataclasses import dataclass, field

from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Action
from dhcpbridge.sources.pools import PoolSource


@dataclass
class Pool:
    first: int
    last: int


@dataclass
class Subnet:
    name: str
    pools: list[Pool] = field(default_factory=list)

    def contains(self, addr: int) -> bool:
        return True


@dataclass
class Q:
    subnet: Subnet | None
    protocol: int = 4


def test_answers_dynamic_for_a_subnet_with_pools() -> None:
    source = PoolSource()
    answer = run_inline(source.ask(Q(Subnet("10.67.0.0/24", [Pool(100, 199)]))))  # type: ignore[arg-type]
    assert answer.action is Action.ASSIGN and answer.dynamic and answer.address is None
    assert answer.source == "pools" and answer.options == {}
    assert source.reserved() == frozenset() and source.in_process


def test_no_answer_without_subnet_or_pools() -> None:
    source = PoolSource("dyn")
    assert run_inline(source.ask(Q(None))).action is Action.NONE  # type: ignore[arg-type]
    assert run_inline(source.ask(Q(Subnet("10.68.0.0/16")))).action is Action.NONE  # type: ignore[arg-type]
    assert run_inline(source.ask(Q(Subnet("x", [Pool(1, 2)])))).source == "dyn"  # type: ignore[arg-type]
