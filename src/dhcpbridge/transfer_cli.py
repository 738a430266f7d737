"""``dhcpbridge leases import`` and ``dhcpbridge leases migrate``: click commands only (the work is
``leases.files`` and ``leases.transfer``); added to the ``leases`` group by ``register``."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dhcpbridge.engine.model import Lease, LeaseState

err_console = Console(stderr=True)
_SHOWN_WARNINGS = 20


def progress_bar() -> Progress:
    """The commands' progress bar on stderr (description, bar, done/total, elapsed), gone when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


async def _copy(leases: Sequence[Lease], url: str, label: str) -> None:
    """Open ``url``, copy ``leases`` with a progress bar, print the summary; exit 1 on conflicts
    or a failed verification, 2 when the store cannot be opened."""
    from dhcpbridge.leases.base import StoreError
    from dhcpbridge.leases.registry import open_store
    from dhcpbridge.leases.transfer import copy_leases

    try:
        store = open_store(url, str(Path.cwd()))
    except (StoreError, OSError) as exc:
        click.echo(f"error: cannot open {url}: {exc}", err=True)
        sys.exit(2)
    try:
        with progress_bar() as bar:
            task = bar.add_task(label, total=len(leases))
            update: Callable[[int], None] = lambda n: bar.update(task, completed=n)  # noqa: E731
            report = await copy_leases(leases, store, time.time(), progress=update)
    except StoreError as exc:
        click.echo(
            f"error: {url}: {exc} (records flushed so far stay; run the command again to resume)", err=True
        )
        sys.exit(2)
    finally:
        await store.close()
    for line in report.conflicts + report.mismatches:
        click.echo(f"conflict: {line}" if line in report.conflicts else f"mismatch: {line}", err=True)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items())) or "nothing"
    click.echo(f"{url}: {report.summary()}; copied: {counts}")
    if not report.ok:
        sys.exit(1)


def register(leases: click.Group) -> None:
    """Add ``import`` and ``migrate`` to the ``leases`` command group."""

    @leases.command("import")
    @click.option(
        "--from",
        "fmt",
        required=True,
        type=click.Choice(["kea-csv", "dhcpd", "dnsmasq", "auto"]),
        help="format of FILE",
    )
    @click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
    @click.option("--to", "url", required=True, help="destination lease store URL (e.g. sqlite:///leases.db)")
    @click.option(
        "--active-only", is_flag=True, help="only leases bound now (not released, expired, declined)"
    )
    def import_command(fmt: str, path: Path, url: str, active_only: bool) -> None:
        """Import another server's lease file (Kea memfile CSV v4/v6, ISC dhcpd.leases, dnsmasq.leases)
        into a lease store, so clients keep their addresses. Run it with the server stopped (or
        against a shared store). Running it again skips what is already there."""
        from dhcpbridge.leases.files import LeaseFileError, read_lease_file

        try:
            result = read_lease_file(path, fmt)
        except (LeaseFileError, OSError) as exc:
            click.echo(f"error: {path}: {exc}", err=True)
            sys.exit(2)
        for line in result.warnings[:_SHOWN_WARNINGS]:
            click.echo(f"warning: {path}: {line}", err=True)
        if len(result.warnings) > _SHOWN_WARNINGS:
            click.echo(f"warning: {path}: {len(result.warnings) - _SHOWN_WARNINGS} more", err=True)
        leases_ = result.leases
        if active_only:
            now = time.time()
            leases_ = [x for x in leases_ if x.state == LeaseState.BOUND and x.expires > now]
        click.echo(
            f"{path}: {result.records} record(s), {len(result.leases)} lease(s), "
            f"{len(result.warnings)} line(s) skipped; importing {len(leases_)}",
            err=True,
        )
        asyncio.run(_copy(leases_, url, f"{path.name} -> {url}"))

    @leases.command("migrate")
    @click.option("--from", "source", required=True, help="source lease store URL (opened read-only)")
    @click.option("--to", "url", required=True, help="destination lease store URL")
    def migrate_command(source: str, url: str) -> None:
        """Copy every lease record of one store into another (e.g. sqlite:///old.db to a shared
        store). Resumable: running it again skips what is already there; counts are verified at
        the end (exit 1 on conflicts or a mismatch). Stop the servers on the source first."""
        from dhcpbridge.leases.base import StoreError
        from dhcpbridge.leases.transfer import read_store

        if source == url:
            raise click.UsageError("--from and --to are the same store")
        try:
            records = asyncio.run(read_store(source, str(Path.cwd())))
        except (StoreError, OSError) as exc:
            click.echo(f"error: cannot read {source}: {exc}", err=True)
            sys.exit(2)
        click.echo(f"{source}: {len(records)} record(s)", err=True)
        asyncio.run(_copy(records, url, f"{source} -> {url}"))
