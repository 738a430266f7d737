"""The one place lease store URL schemes are known: scheme -> factory, and the check the config
runs on ``[leases] store``. Factories import their backend lazily, so importing this module (the
config does) loads no store. New backends (redis, postgres) add a ``register`` call here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases.base import StoreError


@dataclass(frozen=True)
class Backend:
    """How to check and open the stores of one URL scheme."""

    example: str  # shown in the "known:" list of the error message
    open: Callable[[str, Path | None, bool], LeaseStore]  # (url, base_dir, readonly)
    check: Callable[[str], None] = lambda url: None  # raises ValueError when the URL is unusable


_BACKENDS: dict[str, Backend] = {}


def register(scheme: str, backend: Backend) -> None:
    _BACKENDS[scheme] = backend


def _scheme(url: str) -> str:
    return url.split(":", 1)[0]


def check_url(url: str) -> None:
    """Raise ``ValueError`` (the config's message) if no backend can open ``url``."""
    backend = _BACKENDS.get(_scheme(url))
    if backend is None:
        known = ", ".join(b.example for b in _BACKENDS.values())
        raise ValueError(f"unsupported lease store {url!r} (known: {known})")
    backend.check(url)


def open_store(
    url: str, base_dir: str | None = None, readonly: bool = False, retention: float | None = None
) -> LeaseStore:
    """Open the store a ``[leases] store`` URL names; raises ``StoreError`` with the reason.
    ``retention``: seconds an expired or released record is kept before it is purged."""
    backend = _BACKENDS.get(_scheme(url))
    if backend is None:
        raise StoreError(f"unsupported lease store {url!r}")
    store = backend.open(url, Path(base_dir) if base_dir else None, readonly)
    if retention is not None:
        store.retention = retention  # type: ignore[attr-defined]  # every registered store keeps it
    return store


def _open_memory(url: str, base_dir: Path | None, readonly: bool) -> LeaseStore:
    from dhcpbridge.leases.embedded.memory import MemoryStore

    return MemoryStore()


def _check_sqlite(url: str) -> None:
    if not url.removeprefix("sqlite:").lstrip("/"):
        raise ValueError("sqlite store needs a path, e.g. sqlite:///var/lib/dhcpbridge/leases.db")


def _open_sqlite(url: str, base_dir: Path | None, readonly: bool) -> LeaseStore:
    from dhcpbridge.leases.embedded.sqlite import SqliteStore, path_from_url

    path = path_from_url(url)
    if not path.is_absolute() and base_dir:
        path = base_dir / path
    sync = "full" if "sync=full" in url else "normal"
    return SqliteStore(path, sync=sync, readonly=readonly)


register("memory", Backend("memory://", _open_memory))
register("sqlite", Backend("sqlite:///PATH", _open_sqlite, _check_sqlite))


def _check_redis(url: str) -> None:
    from dhcpbridge.leases.shared.redis_url import parse

    parse(url)


def _open_redis(url: str, base_dir: Path | None, readonly: bool) -> LeaseStore:
    from dhcpbridge.leases.shared.redis_store import RedisStore
    from dhcpbridge.leases.shared.redis_url import parse

    try:
        return RedisStore(parse(url))
    except ValueError as exc:
        raise StoreError(str(exc)) from None


register("redis", Backend("redis://HOST:PORT/DB", _open_redis, _check_redis))
register("rediss", Backend("rediss://HOST:PORT/DB", _open_redis, _check_redis))
register("unix", Backend("unix:///PATH/redis.sock?db=N", _open_redis, _check_redis))
register(
    "redis+sentinel", Backend("redis+sentinel://HOST:PORT[,HOST:PORT]/SERVICE/DB", _open_redis, _check_redis)
)
register(
    "rediss+sentinel",
    Backend("rediss+sentinel://HOST:PORT[,HOST:PORT]/SERVICE/DB", _open_redis, _check_redis),
)


def _check_postgresql(url: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(url)
    except Exception as exc:  # psycopg.ProgrammingError: libpq cannot parse it
        raise ValueError(f"invalid PostgreSQL URL: {exc}") from None


def _open_postgresql(url: str, base_dir: Path | None, readonly: bool) -> LeaseStore:
    from dhcpbridge.leases.shared.postgresql import PostgresStore

    store = PostgresStore(url)
    store.check_now()  # a missing or old schema stops the start with the command that fixes it
    return store


register("postgresql", Backend("postgresql://USER@HOST:5432/DB", _open_postgresql, _check_postgresql))
register("postgres", Backend("postgres://USER@HOST:5432/DB", _open_postgresql, _check_postgresql))


def _check_none(url: str) -> None:
    if url not in ("none", "none:", "none://"):
        raise ValueError(f"the store that keeps nothing is written 'none', not {url!r}")


def _open_none(url: str, base_dir: Path | None, readonly: bool) -> LeaseStore:
    from dhcpbridge.leases.none import NoStore

    return NoStore()


register("none", Backend("none", _open_none, _check_none))  # bridge-only mode: keep nothing
