"""The ``leases`` table as a DBA reads it: plain SQL through ``psql`` prints what
docs/stores/postgresql.md shows (the example there is compared with the real output), addresses
are ``inet`` (``<<`` finds the leases of a subnet), times are ``timestamptz``."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psycopg

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.shared.postgresql import PostgresStore
from dhcpbridge.wire.v4.message import ip4_int as ip

DOC = Path(__file__).parents[3] / "docs" / "stores" / "postgresql.md"
NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
PD = 0x20010DB8_0001_0100 << 64


async def fill(url: str) -> None:
    store = PostgresStore(url)
    try:
        leases = [
            Lease(ip("10.67.0.10"), b"\x01\x02\x67\x00\x00\x00\x02", LeaseState.BOUND, NOW, NOW + 3600,
                  hwaddr=bytes.fromhex("026700000002"), hostname="printer", subnet="10.67.0.0/24"),
            Lease(ip("10.67.0.11"), b"\x01\x02\x67\x00\x00\x00\x03", LeaseState.BOUND, NOW, NOW + 7200,
                  hwaddr=bytes.fromhex("026700000003"), hostname="laptop", subnet="10.67.0.0/24"),
            Lease(PD, b"\x00\x00\x00\x01duid", LeaseState.BOUND, NOW, NOW + 86400, LeaseKind.PD, 56,
                  subnet="2001:db8:1::/48"),
        ]  # fmt: skip
        for lease in leases:
            assert await store.commit(lease, NOW) is not None
        assert await store.release(LeaseKind.V4, ip("10.67.0.11"), leases[1].client, NOW + 60)
        await store.flush()
    finally:
        await store.close()


def documented(marker: str) -> tuple[str, str]:
    """The command and the output the doc shows after ``<!-- marker -->``."""
    text = DOC.read_text()
    block = re.search(rf"<!-- {marker} -->\n```text\n\$ (.*?)\n(.*?)```", text, re.S)
    assert block is not None, f"no {marker} example in {DOC}"
    return block.group(1), block.group(2)


def psql(url: str, sql: str) -> str:
    env = {**os.environ, "PGTZ": "UTC", "PGDATESTYLE": "ISO"}
    out = subprocess.run(
        ["psql", "-X", "-d", url, "-c", sql], capture_output=True, text=True, env=env, timeout=30
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_psql_prints_the_documented_table(pg_url: str) -> None:
    await fill(pg_url)
    for marker in ("psql-leases", "psql-view"):
        command, output = documented(marker)
        sql = re.search(r'-c "(.*)"$', command)
        assert sql is not None, command
        assert psql(pg_url, sql.group(1)).rstrip("\n") == output.rstrip("\n")


async def test_addresses_are_inet_and_times_timestamptz(pg_url: str) -> None:
    await fill(pg_url)
    with psycopg.connect(pg_url) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'leases'"
            ).fetchall()
        )
        in_subnet = conn.execute(
            "SELECT host(address) FROM leases WHERE address << '10.67.0.0/24' AND state = 'bound'"
        ).fetchall()
        hours = conn.execute(
            "SELECT extract(epoch FROM expires - starts) / 3600 FROM leases WHERE address = '10.67.0.10'"
        ).fetchone()
    assert types["address"] == "inet"
    assert types["starts"] == types["expires"] == "timestamp with time zone"
    assert in_subnet == [("10.67.0.10",)]
    assert hours is not None and float(hours[0]) == 1.0
