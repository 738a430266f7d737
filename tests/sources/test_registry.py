"""The source registry: the one list of ``[[source]]`` types, each with its config model and factory."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from dhcpbridge.assemble import AssemblyError, build_sources
from dhcpbridge.config import ConfigError, loader
from dhcpbridge.config.model import HttpSourceConfig, SourceConfig
from dhcpbridge.engine.model import NO_ANSWER, Answer
from dhcpbridge.engine.ports import Query
from dhcpbridge.sources import registry
from dhcpbridge.sources.errors import SourceError
from dhcpbridge.sources.registry import SOURCE_TYPES, SourceContext, SourceType, source_type


def test_the_registry_knows_what_the_config_accepts() -> None:
    accepted = {
        tag
        for model in (SourceConfig, HttpSourceConfig)
        for tag in get_args(model.model_fields["type"].annotation)
    }
    assert set(SOURCE_TYPES) == accepted
    for name, kind in SOURCE_TYPES.items():
        assert name in get_args(kind.model.model_fields["type"].annotation)


def test_an_unknown_type_names_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        loader.from_dict({"source": [{"type": "ldap"}]})
    assert all(name in caught.value.errors[0] for name in SOURCE_TYPES)
    with pytest.raises(
        ValueError, match="unknown source type 'ldap' \\(known: http, pools, reservations, static6\\)"
    ):
        source_type("ldap")


class Fixed:
    name = "fixed"

    async def ask(self, query: Query) -> Answer:
        return NO_ANSWER

    def reserved(self) -> frozenset[int]:
        return frozenset()


def test_build_sources_looks_every_type_up(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, SourceContext]] = []

    def build(spec: Any, ctx: SourceContext, where: str) -> Fixed:
        seen.append((where, ctx))
        return Fixed()

    def broken(spec: Any, ctx: SourceContext, where: str) -> None:
        raise SourceError([f"{where}: broken"])

    monkeypatch.setitem(registry.SOURCE_TYPES, "pools", SourceType(SourceConfig, build))
    cfg = loader.from_dict(
        {
            "subnet4": [{"subnet": "10.68.0.0/16"}],
            "subnet6": [{"subnet": "fd69::/64", "pools": ["fd69::100-fd69::1ff"]}],
            "source": [{"type": "pools"}],
        }
    )
    [built] = build_sources(cfg)
    assert isinstance(built, Fixed)
    [(where, ctx)] = seen
    assert where == "source[0]"
    assert [str(n) for n in ctx.networks] == ["10.68.0.0/16", "fd69::/64"]
    assert ctx.pools6 == (
        (int(ctx.networks[1].network_address) + 0x100, int(ctx.networks[1].network_address) + 0x1FF),
    )

    monkeypatch.setitem(registry.SOURCE_TYPES, "pools", SourceType(SourceConfig, broken))
    with pytest.raises(AssemblyError) as caught:
        build_sources(cfg)
    assert caught.value.errors == ["source[0]: broken"]


def test_an_empty_static6_source_is_left_out() -> None:
    cfg = loader.from_dict({"source": [{"type": "static6"}, {"type": "pools"}]})
    assert [s.name for s in build_sources(cfg)] == ["pools"]
