"""``dhcpbridge build-sqlite`` and ``dhcpbridge build-dbm``: a dhcpkit-style CSV of static DHCPv6
assignments (id,address,prefix) -> the SQLite or DBM file a ``static6`` source looks clients up in
per request (``dhcpbridge.sources.static6``)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

CSV = click.Path(path_type=Path, exists=True, dir_okay=False)
TARGET = click.Path(path_type=Path, dir_okay=False)


def _build(csv_path: Path, target: Path, build: Callable[..., int]) -> None:
    from dhcpbridge.sources.static6 import Static6Error, count_lines
    from dhcpbridge.transfer_cli import progress_bar

    total = count_lines(csv_path)
    with progress_bar() as bar:
        task = bar.add_task(f"{csv_path.name} -> {target.name}", total=total)
        try:
            rows = build(csv_path, target, progress=lambda line: bar.update(task, completed=line))
        except Static6Error as exc:
            bar.stop()
            for line in exc.errors:
                click.echo(f"error: {line}", err=True)
            click.echo(f"{target} left unchanged", err=True)
            sys.exit(1)
        bar.update(task, completed=total)
    click.echo(f"{target}: {rows} assignment(s) from {csv_path}")


@click.command("build-sqlite")
@click.argument("csv_path", type=CSV)
@click.argument("db_path", type=TARGET)
def build_sqlite_command(csv_path: Path, db_path: Path) -> None:
    """Convert a dhcpkit-style CSV of static DHCPv6 assignments (id,address,prefix) into an SQLite
    file for a ``static6`` source; the target is replaced atomically, and only if every row is good."""
    from dhcpbridge.sources.static6 import build_sqlite

    _build(csv_path, db_path, build_sqlite)


@click.command("build-dbm")
@click.argument("csv_path", type=CSV)
@click.argument("dbm_path", type=TARGET)
def build_dbm_command(csv_path: Path, dbm_path: Path) -> None:
    """Convert a dhcpkit-style CSV of static DHCPv6 assignments into a DBM file (name it *.dbm)
    for a ``static6`` source (dhcpkit's shelf use case); replaced only if every row is good."""
    from dhcpbridge.sources.static6 import build_dbm

    _build(csv_path, dbm_path, build_dbm)


def register(main: click.Group) -> None:
    """Add both commands to the ``dhcpbridge`` group."""
    main.add_command(build_sqlite_command)
    main.add_command(build_dbm_command)
