"""The PostgreSQL store's schema: versioned migrations, applied by ``dhcpbridge db init|upgrade``.

Each migration runs in its own transaction together with its row in ``schema_version``, under an
advisory lock, so two servers (or two operators) upgrading at once apply each step exactly once.
The store itself never changes the schema: it refuses a database whose version is not
``LATEST`` (with the command that fixes it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from dhcpbridge.leases.base import StoreError


@dataclass(frozen=True)
class Migration:
    version: int
    title: str
    sql: str


_V1 = """
CREATE TABLE leases (
    kind text NOT NULL CHECK (kind IN ('v4', 'na', 'pd')),
    address inet NOT NULL,
    prefix_len smallint NOT NULL,
    state text NOT NULL CHECK (state IN ('offered', 'bound', 'released', 'declined', 'expired')),
    client bytea NOT NULL,
    hwaddr bytea NOT NULL DEFAULT '',
    hostname text NOT NULL DEFAULT '',
    starts timestamptz NOT NULL,
    expires timestamptz NOT NULL,
    subnet text NOT NULL DEFAULT '',
    source text NOT NULL DEFAULT '',
    relay text NOT NULL DEFAULT '',
    circuit_id bytea NOT NULL DEFAULT '',
    remote_id bytea NOT NULL DEFAULT '',
    info jsonb NOT NULL DEFAULT '{}',
    returning_client boolean NOT NULL DEFAULT false,
    stamp bigint NOT NULL DEFAULT 0,
    updated timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kind, address),
    CHECK (family(address) = CASE kind WHEN 'v4' THEN 4 ELSE 6 END),
    CHECK (masklen(address) = CASE kind WHEN 'v4' THEN 32 ELSE 128 END)
);
COMMENT ON TABLE leases IS 'dhcpbridge: one row per address (v4, na) or delegated prefix (pd)';
COMMENT ON COLUMN leases.client IS 'client key: v4 client-id or htype+chaddr; v6 IAID + DUID';
COMMENT ON COLUMN leases.returning_client IS 'an offer made over the same client''s earlier record';
COMMENT ON COLUMN leases.stamp IS 'random id of the last write (the group commit checks it)';
CREATE INDEX leases_by_client ON leases (kind, client, updated DESC);
CREATE INDEX leases_by_expiry ON leases (expires) WHERE state IN ('offered', 'bound', 'declined');
CREATE TABLE roles (
    role text PRIMARY KEY,
    owner text NOT NULL,
    until timestamptz NOT NULL
);
COMMENT ON TABLE roles IS 'dhcpbridge: time-limited roles (the reaper) held by one server at a time';
CREATE TABLE servers (
    name text PRIMARY KEY,
    last_flush timestamptz NOT NULL
);
COMMENT ON TABLE servers IS 'dhcpbridge: servers using this database and their last group commit';
"""

_V2 = """
CREATE VIEW lease_view AS
SELECT kind,
       CASE WHEN kind = 'pd' THEN set_masklen(address, prefix_len) ELSE address END AS address,
       state,
       CASE WHEN length(hwaddr) = 6 THEN encode(hwaddr, 'hex')::macaddr::text
            ELSE encode(hwaddr, 'hex') END AS hwaddr,
       hostname, starts, expires, subnet, relay, source,
       encode(client, 'hex') AS client
FROM leases;
COMMENT ON VIEW lease_view IS 'dhcpbridge: leases as people read them (prefixes with their length, MACs)';
"""

_V3 = """
CREATE INDEX leases_by_duid ON leases (substring(client from 5)) WHERE kind IN ('na', 'pd');
COMMENT ON INDEX leases_by_duid IS 'dhcpbridge: v6 leases per DUID (max-leases-per-duid)';
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "leases, roles and servers tables", _V1),
    Migration(2, "lease_view for people", _V2),
    Migration(3, "v6 leases by DUID", _V3),
)
LATEST = MIGRATIONS[-1].version
_LOCK = 0x6468_6370_6272  # advisory lock key ("dhcpbr") held while migrating

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version integer PRIMARY KEY,
    title text NOT NULL,
    applied timestamptz NOT NULL DEFAULT now()
)
"""


def connect(url: str, timeout: int = 10) -> psycopg.Connection[tuple[Any, ...]]:
    """A plain connection for administration; ``StoreError`` when the server is unreachable."""
    try:
        return psycopg.connect(url, connect_timeout=timeout, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot connect to PostgreSQL: {exc}".strip()) from None


def version(conn: psycopg.Connection[tuple[Any, ...]]) -> int | None:
    """The schema version of the database (None when dhcpbridge's schema is not there)."""
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if row is None or not row[0]:
        return None
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


def check(conn: psycopg.Connection[tuple[Any, ...]], where: str) -> None:
    """``StoreError`` (saying what to run) unless the schema is the one this code needs."""
    found = version(conn)
    if found is None:
        raise StoreError(f"{where} has no dhcpbridge schema: run `dhcpbridge db init URL`")
    if found < LATEST:
        raise StoreError(
            f"{where} has schema version {found}, this dhcpbridge needs {LATEST}: "
            "run `dhcpbridge db upgrade URL`"
        )
    if found > LATEST:
        raise StoreError(f"{where} has schema version {found}, newer than this dhcpbridge ({LATEST})")


def upgrade(url: str, target: int = LATEST) -> list[Migration]:
    """Apply every migration above the database's version up to ``target``; returns those applied
    (none when it is current). Creates the schema in an empty database (``db init``)."""
    applied: list[Migration] = []
    with connect(url) as conn:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                conn.execute(_VERSION_TABLE)
            for migration in MIGRATIONS:
                if migration.version > target:
                    break
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
                    if (version(conn) or 0) >= migration.version:
                        continue
                    conn.execute(migration.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_version (version, title) VALUES (%s, %s)",
                        (migration.version, migration.title),
                    )
                applied.append(migration)
        except psycopg.Error as exc:
            raise StoreError(f"migration failed: {exc}".strip()) from None
    return applied


def init(url: str) -> list[Migration]:
    """Create the schema; ``StoreError`` when the database already has one (use ``upgrade``)."""
    with connect(url) as conn:
        found = version(conn)
    if found is not None:
        raise StoreError(
            f"the database already has dhcpbridge schema version {found}; `dhcpbridge db upgrade URL` "
            "brings it to the latest"
        )
    return upgrade(url)
