"""Which modules are compiled to C with mypyc (``make setup`` / ``scripts/build_native.py``), and
whether a compiled one is older than its source (then the stale extension would shadow the edit).

The hot path (wire codec, engine, in-process stores and sources, the UDP socket, the server's
per-packet loop and the lease event bus) is plain typed Python that mypyc compiles without
changes; compiled it runs about 1.6x faster. Without a C compiler everything still runs as Python.
"""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

MODULES: tuple[str, ...] = (
    "wire/errors.py",
    "wire/parser.py",
    "wire/values.py",
    "wire/v4/codes.py",
    "wire/v4/registry.py",
    "wire/v4/structured.py",
    "wire/v4/display.py",
    "wire/v4/options.py",
    "wire/v4/message.py",
    "wire/duid.py",
    "wire/v6/options/codes.py",
    "wire/v6/options/base.py",
    "wire/v6/options/status.py",
    "wire/v6/options/container.py",
    "wire/v6/options/shapes.py",
    "wire/v6/options/ntp.py",
    "wire/v6/options/registry.py",
    "wire/v6/options/display.py",
    "wire/v6/options/ia.py",
    "wire/v6/options/identity.py",
    "wire/v6/options/exchange.py",
    "wire/v6/options/relay.py",
    "wire/v6/options/dns.py",
    "wire/v6/options/leasequery.py",
    "wire/v6/options/__init__.py",
    "wire/v6/message.py",
    "engine/model.py",
    "engine/core.py",
    "engine/records.py",
    "engine/hold.py",
    "engine/limits.py",
    "engine/stats.py",
    "engine/pipeline.py",
    "engine/chain.py",
    "engine/inline.py",
    "engine/classes.py",
    "engine/subnets.py",
    "engine/v4/__init__.py",
    "engine/v4/subnet.py",
    "engine/v4/transaction.py",
    "engine/v4/env.py",
    "engine/v4/classify.py",
    "engine/v4/lease.py",
    "engine/v4/reply.py",
    "engine/v4/engine.py",
    "engine/v4/links.py",
    "engine/v6/__init__.py",
    "engine/v6/subnet.py",
    "engine/v6/transaction.py",
    "engine/v6/env.py",
    "engine/v6/ia.py",
    "engine/v6/classify.py",
    "engine/v6/lease.py",
    "engine/v6/reply.py",
    "engine/v6/engine.py",
    "engine/v6/links.py",
    "leases/addresses.py",
    "leases/ranges.py",
    "leases/embedded/index.py",
    "leases/embedded/indexed.py",
    "leases/embedded/memory.py",
    "leases/embedded/journal.py",
    "leases/embedded/sqlite.py",
    "leases/shared/redis_codec.py",
    "sources/errors.py",
    "sources/static.py",
    "sources/pools.py",
    "sources/static6.py",
    "io/udp.py",
    "io/udp4.py",
    "io/udp6.py",
    "later.py",
    "glass/ring.py",
    "events.py",
    "server/outage.py",
    "server/admission.py",
    "server/latency.py",
    "server/ratelimit.py",
    "server/commit.py",
    "server/delivery.py",
    "server/endpoint.py",
)


def _extensions(source: Path) -> list[Path]:
    stem = source.with_suffix("")
    return [Path(f"{stem}{suffix}") for suffix in importlib.machinery.EXTENSION_SUFFIXES]


def compiled() -> list[str]:
    """The modules that have a compiled extension next to their source."""
    return [m for m in MODULES if any(p.exists() for p in _extensions(PACKAGE / m))]


def stale() -> list[str]:
    """Compiled modules whose source changed after they were compiled (rebuild: ``make native``)."""
    out = []
    for module in MODULES:
        source = PACKAGE / module
        for ext in _extensions(source):
            if ext.exists() and ext.stat().st_mtime < source.stat().st_mtime:
                out.append(module)
    return out
