"""The PostgreSQL rows of ``make bench``: Kea 2.2 with its PostgreSQL lease backend (schema by
``kea-admin db-init pgsql``) and dhcpbridge on the PostgreSQL store (``dhcpbridge db init``), both
on the machine's PostgreSQL through its Unix socket (the servers run in a network namespace),
each point on a fresh database of its own (created at start, dropped at stop).

Where the time goes (dhcpbridge, per DORA): a share of three statements per batch of packets: the
new clients' DISCOVERs searched and held in one, the REQUESTs' binds in one (which also reads the
clients' other records), and one synchronous group commit. Kea 2.2 runs its lookups per message and commits
each lease write synchronously on its own (no group commit).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dhcpbridge.testing.kea import Kea4
from dhcpbridge.testing.netns import Topology
from dhcpbridge.testing.pg import drop_database, throwaway_database
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import DhcpbridgeServer, ManagedServer

SOCKET_DIR = "/var/run/postgresql"


def socket_url(tcp_url: str) -> str:
    """The same database through the Unix socket (reachable from any network namespace)."""
    name = tcp_url.rsplit("/", 1)[1]
    return f"postgresql:///{name}?host={SOCKET_DIR}&user=postgres"


class KeaPg4(Kea4):
    """Kea 2.2 DHCPv4 with ``lease-database`` type ``postgresql`` on a database of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.db_url = throwaway_database("kea", init=False)
        self.db_name = self.db_url.rsplit("/", 1)[1]
        subprocess.run(
            [
                "kea-admin",
                "db-init",
                "pgsql",
                "-u",
                "postgres",
                "-p",
                "x",
                "-n",
                self.db_name,
                "-h",
                "127.0.0.1",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def config(self) -> dict[str, Any]:
        doc = super().config()
        doc[self.root]["lease-database"] = {
            "type": "postgresql",
            "name": self.db_name,
            "host": SOCKET_DIR,
            "user": "postgres",
            "password": "x",
        }
        return doc

    def stop(self, timeout: float = 10.0) -> int | None:
        try:
            return super().stop(timeout)
        finally:
            drop_database(self.db_url)


class DhcpbridgePg(DhcpbridgeServer):
    """dhcpbridge on the PostgreSQL store, a database of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.db_url = throwaway_database("bench")
        super().__init__(*args, lease_store=socket_url(self.db_url), **kwargs)

    def stop(self, timeout: float = 10.0) -> int | None:
        try:
            return super().stop(timeout)
        finally:
            drop_database(self.db_url)


def variants(variant: Callable[..., Any], dora: Any, missing: Callable[[Any], str | None]) -> list[Any]:
    """The two rows (``Variant`` and the DORA workload come from bench/run.py)."""

    def kea(topo: Topology, workdir: Path, opts: Any) -> ManagedServer:
        return KeaPg4(topo["srv"], workdir, LAB_PLAN, cpu=opts.server_cpu)

    def ours(topo: Topology, workdir: Path, opts: Any) -> ManagedServer:
        return DhcpbridgePg(
            topo["srv"], workdir, LAB_PLAN, family=4, exe=opts.dhcpbridge_exe, cpu=opts.server_cpu
        )

    def no_postgres(opts: Any) -> str | None:
        return no_socket() or missing(opts)

    return [
        variant("kea4-pg", "Kea 2.2 PostgreSQL", "kea", dora, kea, None, lambda _opts: no_socket()),
        variant("dhcpbridge4-pg", "dhcpbridge PostgreSQL", "dhcpbridge", dora, ours, "kea4-pg", no_postgres),
    ]


def no_socket() -> str | None:
    """Why the rows cannot run (no PostgreSQL socket), or None."""
    return None if Path(SOCKET_DIR, ".s.PGSQL.5432").exists() else f"no PostgreSQL socket in {SOCKET_DIR}"
