"""``dhcpbridge db init|upgrade|status`` and the store's schema check: versioned migrations, each
applied once, and a store that refuses a database whose schema is missing or old (saying which
command fixes it) instead of writing into it."""

from __future__ import annotations

import psycopg
import pytest
from click.testing import CliRunner

from dhcpbridge.cli import main
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.base import StoreError
from dhcpbridge.leases.registry import check_url, open_store
from dhcpbridge.leases.shared import pg_schema
from dhcpbridge.leases.shared.postgresql import PostgresStore


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def test_db_init_creates_the_schema_and_refuses_a_second_time(empty_pg_url: str) -> None:
    runner = CliRunner()
    status = runner.invoke(main, ["db", "status", empty_pg_url])
    assert status.exit_code == 1 and "schema version none, needed" in status.output
    done = runner.invoke(main, ["db", "init", empty_pg_url])
    assert done.exit_code == 0, done.output
    assert "applied 1: leases, roles and servers tables" in done.output
    assert f"schema version {pg_schema.LATEST}" in done.output
    assert {"leases", "roles", "servers", "schema_version", "lease_view"} <= tables(empty_pg_url)
    again = runner.invoke(main, ["db", "init", empty_pg_url])
    assert again.exit_code == 1 and "db upgrade" in again.output
    status = runner.invoke(main, ["db", "status", empty_pg_url])
    assert status.exit_code == 0 and f"schema version {pg_schema.LATEST}, needed" in status.output


def test_db_upgrade_applies_only_the_missing_migrations(empty_pg_url: str) -> None:
    first = pg_schema.upgrade(empty_pg_url, target=1)
    assert [m.version for m in first] == [1]
    assert "lease_view" not in tables(empty_pg_url)
    result = CliRunner().invoke(main, ["db", "upgrade", empty_pg_url])
    assert result.exit_code == 0, result.output
    assert "applied 2: lease_view for people" in result.output and "applied 1" not in result.output
    assert "applied 3: v6 leases by DUID" in result.output
    assert "lease_view" in tables(empty_pg_url)
    with psycopg.connect(empty_pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")]
    assert versions == [1, 2, 3]
    current = CliRunner().invoke(main, ["db", "upgrade", empty_pg_url])
    assert current.exit_code == 0 and "already current" in current.output


def test_db_commands_reject_other_urls() -> None:
    result = CliRunner().invoke(main, ["db", "init", "sqlite:///x.db"])
    assert result.exit_code == 2 and "not a PostgreSQL URL" in result.output


async def test_store_refuses_a_database_without_schema(empty_pg_url: str) -> None:
    store = PostgresStore(empty_pg_url)
    try:
        with pytest.raises(StoreError, match="dhcpbridge db init URL"):
            await store.get(LeaseKind.V4, 1)
    finally:
        await store.close()


async def test_store_refuses_an_old_schema(empty_pg_url: str) -> None:
    pg_schema.upgrade(empty_pg_url, target=1)
    store = PostgresStore(empty_pg_url)
    try:
        with pytest.raises(StoreError, match=r"schema version 1.*dhcpbridge db upgrade URL"):
            await store.commit(Lease(1, b"c", LeaseState.BOUND, 1.0, 2.0), 1.0)
    finally:
        await store.close()


def test_urls_are_registered() -> None:
    for url in (
        "postgresql://dhcp@127.0.0.1:5432/dhcp",
        "postgres://dhcp@127.0.0.1/dhcp",
        "postgresql:///dhcp?host=/var/run/postgresql",
    ):
        check_url(url)
        assert isinstance(open_store(url), PostgresStore)
    with pytest.raises(ValueError, match="invalid PostgreSQL URL"):
        check_url("postgresql://x/db?nosuchparameter=1")


def test_opening_the_store_checks_the_schema_first(empty_pg_url: str, pg_url: str) -> None:
    """``serve`` and the CLI open the store through the registry: a database without the schema
    stops them at once, with the command that fixes it; an unreachable server does not."""
    with pytest.raises(StoreError, match="dhcpbridge db init URL"):
        open_store(empty_pg_url)
    assert isinstance(open_store(pg_url), PostgresStore)
    assert isinstance(open_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"), PostgresStore)
