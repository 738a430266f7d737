"""The one place source types are known: ``[[source]] type`` -> its config model and a factory.

Assembly looks a type up here and calls its factory with the ``[[source]]`` table and a
``SourceContext`` (what a source may use of the rest of the config); a new source type is one
entry in ``SOURCE_TYPES`` (and its config model in the ``[[source]]`` union of the config).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from dhcpbridge.config.model import HttpSourceConfig, ReservationConfig, SourceConfig
from dhcpbridge.config.model6 import Static6Config
from dhcpbridge.engine.ports import Source
from dhcpbridge.sources.errors import SourceError
from dhcpbridge.sources.options import flat_options6
from dhcpbridge.sources.pools import PoolSource
from dhcpbridge.sources.static import ReservationError, StaticSource, load_file
from dhcpbridge.sources.static6 import Static6Error, Static6Source


@dataclass(frozen=True, slots=True)
class SourceContext:
    """What a source factory may use besides its own ``[[source]]`` table."""

    resolve_path: Callable[[str], Path]  # a path from the config file, relative to its directory
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]  # every subnet4, then subnet6
    reservations: tuple[ReservationConfig, ...]  # [[reservation]]
    static6: tuple[Static6Config, ...]  # [[static6]]
    pools6: tuple[tuple[int, int], ...]  # every IA_NA and PD pool (first, last) of every subnet6


# a factory: (its [[source]] table, the context, where it is in the file, e.g. "source[2]") ->
# the source, or None when there is nothing for it to answer; SourceError lists what is wrong
Factory = Callable[[Any, SourceContext, str], Source | None]


@dataclass(frozen=True, slots=True)
class SourceType:
    """One kind of source: the model of its ``[[source]]`` table and what builds it."""

    model: type[BaseModel]
    build: Factory


def _reservations(spec: SourceConfig, ctx: SourceContext, where: str) -> Source:
    reservations = list(ctx.reservations)
    errors: list[str] = []
    for name in spec.files:
        try:
            reservations += load_file(ctx.resolve_path(name))
        except ReservationError as exc:
            errors += [f"{where}.files: {e}" for e in exc.errors]
    if errors:
        raise SourceError(errors)
    return StaticSource(reservations)


def _pools(spec: SourceConfig, ctx: SourceContext, where: str) -> Source:
    return PoolSource()


def _static6(spec: SourceConfig, ctx: SourceContext, where: str) -> Source | None:
    if not ctx.static6 and not spec.files:
        return None
    ranges = ctx.pools6

    def in_pools(value: int) -> bool:  # static assignments in a pool are kept out of it
        return any(first <= value <= last for first, last in ranges)

    try:
        return Static6Source.open(
            ctx.static6, [ctx.resolve_path(f) for f in spec.files], flat_options6, in_pools
        )
    except Static6Error as exc:
        raise SourceError([f"{where}.files: {e}" if spec.files else e for e in exc.errors]) from None


def _http(spec: HttpSourceConfig, ctx: SourceContext, where: str) -> Source:
    from dhcpbridge.sources.http import HttpSource  # its client and contract load only when used

    try:
        return HttpSource(spec, list(ctx.networks), ctx.resolve_path("."))
    except (ValueError, OSError) as exc:
        raise SourceError([f"{where}: {exc}"]) from None


SOURCE_TYPES: dict[str, SourceType] = {
    "reservations": SourceType(SourceConfig, _reservations),
    "static6": SourceType(SourceConfig, _static6),
    "pools": SourceType(SourceConfig, _pools),
    "http": SourceType(HttpSourceConfig, _http),
}


def source_type(name: str) -> SourceType:
    """The registered type ``name``; ``ValueError`` lists the known ones."""
    found = SOURCE_TYPES.get(name)
    if found is None:
        raise ValueError(f"unknown source type {name!r} (known: {', '.join(sorted(SOURCE_TYPES))})")
    return found
