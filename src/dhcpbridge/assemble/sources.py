"""``[[source]]`` tables -> the chain's sources, each built by its type's factory in the registry.

Built once per loaded config and shared by both engines (a source with a life cycle, like the
HTTP bridge's connections, exists once); each engine keeps the sources of its family.
"""

from __future__ import annotations

from collections.abc import Sequence

from dhcpbridge.assemble.errors import AssemblyError
from dhcpbridge.config.model import Config
from dhcpbridge.config.values import parse_range6
from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.ports import Source
from dhcpbridge.sources.errors import SourceError
from dhcpbridge.sources.registry import SourceContext, source_type


def source_context(config: Config) -> SourceContext:
    """What the source factories may use of ``config`` besides their own tables."""
    pools6: list[tuple[int, int]] = []
    for s in config.subnet6:
        for text in s.pools:
            first, last = parse_range6(text)
            pools6.append((int(first), int(last)))
        for p in s.pd_pools:
            pools6.append((int(p.prefix.network_address), int(p.prefix.broadcast_address)))
    return SourceContext(
        resolve_path=config.resolve_path,
        networks=(*(s.subnet for s in config.subnet4), *(s.subnet for s in config.subnet6)),
        reservations=tuple(config.reservation),
        static6=tuple(config.static6),
        pools6=tuple(pools6),
    )


def build_sources(config: Config) -> list[Source]:
    """Every ``[[source]]`` in file order (a static6 source with no entries is left out);
    ``AssemblyError`` lists every problem of every source."""
    context = source_context(config)
    sources: list[Source] = []
    errors: list[str] = []
    for i, spec in enumerate(config.source):
        where = f"source[{i}]"
        try:
            kind = source_type(spec.type)
        except ValueError as exc:
            errors.append(f"{where}.type: {exc}")
            continue
        try:
            built = kind.build(spec, context, where)
        except SourceError as exc:
            errors += exc.errors
            continue
        if built is not None:
            sources.append(built)
    if errors:
        raise AssemblyError(errors)
    return sources


def family_chain(sources: Sequence[Source], family: int) -> SourceChain:
    """The chain of one engine: the sources that answer ``family`` (4 or 6), in order (a source
    that answers one family only says so in ``families``; asking it for the other costs time)."""
    return SourceChain([s for s in sources if family in getattr(s, "families", (4, 6))])
