"""PostgreSQL for tests: throwaway databases on the machine's server, and private clusters.

``throwaway_database()`` creates a uniquely named database (``dhcpb_<tag>_<random>``) on the
server at ``DHCPBRIDGE_TEST_PG`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``) and
returns its URL; ``drop_database(url)`` removes it. ``PrivateCluster`` runs a cluster of its own
(``initdb`` into a temporary directory, ``pg_ctl`` on a free port, as the ``postgres`` user when
the tests run as root) that a test may stop and start at will; the machine's cluster is never
touched.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit, urlunsplit

import psycopg

ADMIN_URL = os.environ.get("DHCPBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_BIN = Path("/usr/lib/postgresql")


def with_database(url: str, name: str) -> str:
    """``url`` naming the database ``name`` instead."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def throwaway_database(tag: str = "t", admin_url: str = ADMIN_URL, init: bool = True) -> str:
    """Create an empty database (with dhcpbridge's schema when ``init``); its URL."""
    name = f"dhcpb_{tag}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    url = with_database(admin_url, name)
    if init:
        from dhcpbridge.leases.shared import pg_schema

        pg_schema.init(url)
    return url


def drop_database(url: str, admin_url: str | None = None) -> None:
    """Drop the database ``url`` names (its connections are ended first)."""
    name = urlsplit(url).path.lstrip("/")
    admin = admin_url or with_database(url, "postgres")
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def pg_bin(tool: str) -> str:
    """The path of a PostgreSQL server program (initdb, pg_ctl: not on PATH on Debian)."""
    found = shutil.which(tool)
    if found:
        return found
    for version in sorted(PG_BIN.glob("*"), reverse=True):
        path = version / "bin" / tool
        if path.exists():
            return str(path)
    raise FileNotFoundError(tool)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (see the module docstring); a context manager."""

    def __init__(self, tag: str = "b") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix=f"dhcpb-pg-{tag}-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.log = self.dir / "postgres.log"
        self._user = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        def demote() -> None:
            if self._user is not None:
                entry = pwd.getpwnam(self._user)
                os.setgid(entry.pw_gid)
                os.setuid(entry.pw_uid)

        return subprocess.run(
            list(args), preexec_fn=demote, capture_output=True, text=True, check=check, timeout=120
        )

    def init(self) -> None:
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def __enter__(self) -> Self:
        self.init()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
