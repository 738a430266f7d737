"""``[[source]]`` tables -> the chain's sources, each built by its type's factory in the registry.

Built once per loaded config and shared by both engines (a source with a life cycle, like the
HTTP bridge's connections, exists once); each engine keeps the sources of its family.

A reload passes the previous sources by key (``source_key``: the table, what the factory may
use of the rest of the config, and the files it names): a source with something to start (the
HTTP bridge's connections and cache) whose key did not change is kept as it is, so a SIGHUP while
the answer service is down keeps serving stale answers. Every other source is rebuilt, also one
that only holds a file open (static6 on SQLite): a reload is how changed reservation files and
databases are read again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from dhcpbridge.assemble.errors import AssemblyError
from dhcpbridge.config.model import Config
from dhcpbridge.config.values import parse_range6
from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.ports import Source, Startable
from dhcpbridge.sources.errors import SourceError
from dhcpbridge.sources.registry import SourceContext, source_type


def source_context(config: Config) -> SourceContext:
    """What the source factories may use of ``config`` besides their own tables."""
    pools6: list[tuple[int, int]] = []
    for s in config.subnet6:
        for text in s.pool_ranges:
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


def source_key(spec: object, context: SourceContext) -> str:
    """What a source is built from: its table, the context the factory may read, and the size and
    modification time of every file its table names (a rotated token file changes the key)."""
    files = []
    for name, value in vars(spec).items():
        if name.endswith("_file") and isinstance(value, str):
            try:
                st = os.stat(context.resolve_path(value))
                files.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                files.append(f"{name}:missing")
    data = (context.networks, context.reservations, context.static6, context.pools6)
    dump = spec.model_dump_json() if hasattr(spec, "model_dump_json") else repr(spec)
    return f"{dump}|{context.resolve_path('.')}|{data!r}|{','.join(files)}"


def build_keyed_sources(
    config: Config, reuse: Mapping[str, Source] | None = None
) -> list[tuple[str, Source]]:
    """Every ``[[source]]`` in file order with its key (a static6 source with no entries is left
    out); a source with a life cycle whose key is in ``reuse`` is that same object.
    ``AssemblyError`` lists every problem of every source."""
    context = source_context(config)
    sources: list[tuple[str, Source]] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(config.source):
        where = f"source[{i}]"
        try:
            kind = source_type(spec.type)
        except ValueError as exc:
            errors.append(f"{where}.type: {exc}")
            continue
        key = source_key(spec, context)
        seen[key] = seen.get(key, 0) + 1
        key = f"{key}#{seen[key]}"  # two identical tables are two sources
        old = (reuse or {}).get(key)
        if old is not None and isinstance(old, Startable):  # a connection pool, a cache: keep it
            sources.append((key, old))
            continue
        try:
            built = kind.build(spec, context, where)
        except SourceError as exc:
            errors += exc.errors
            continue
        if built is not None:
            sources.append((key, built))
    if errors:
        raise AssemblyError(errors)
    return sources


def build_sources(config: Config) -> list[Source]:
    """Every ``[[source]]`` in file order (see ``build_keyed_sources``)."""
    return [source for _, source in build_keyed_sources(config)]


def family_chain(sources: Sequence[Source], family: int) -> SourceChain:
    """The chain of one engine: the sources that answer ``family`` (4 or 6), in order (a source
    that answers one family only says so in ``families``; asking it for the other costs time)."""
    return SourceChain([s for s in sources if family in getattr(s, "families", (4, 6))])
