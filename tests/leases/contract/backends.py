"""The lease store backends the contract suite runs against: name -> factory.

A factory takes the test's temporary directory and returns a fresh, empty store, or raises
``pytest.skip`` (only when its server is not wanted; a backend the CI needs must fail loudly when
its server is down). Shared stores (Redis, PostgreSQL) add one entry each here, from their own
module, and clean up their keys/tables in the factory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases import MemoryStore, SqliteStore

from .backend_redis import open_redis

Factory = Callable[[Path], LeaseStore]

BACKENDS: dict[str, Factory] = {
    "memory": lambda tmp: MemoryStore(),
    "sqlite": lambda tmp: SqliteStore(tmp / "leases.db"),
    "redis": open_redis,
}


def _postgresql(tmp: Path) -> LeaseStore:
    """A store on a database of its own on the machine's PostgreSQL (dropped at close)."""
    from dhcpbridge.leases.shared.postgresql import PostgresStore
    from dhcpbridge.testing.pg import drop_database, throwaway_database

    class ThrowawayStore(PostgresStore):
        async def close(self) -> None:
            try:
                await super().close()
            finally:
                drop_database(self.url)

    return ThrowawayStore(throwaway_database("c"))


BACKENDS["postgresql"] = _postgresql
