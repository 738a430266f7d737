"""``dhcpbridge answer``: the reference answer service's command line (the click command object).

The lead registers :data:`answer_command` on the main ``dhcpbridge`` group.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from dhcpbridge import logs
from dhcpbridge.answer.entries import EntryError, check_entry
from dhcpbridge.answer.files import FileStore
from dhcpbridge.answer.hook import NONE_ANSWER, HookRunner
from dhcpbridge.answer.service import AnswerService, Store
from dhcpbridge.answer.tables import CsvStore, SqliteStore, check_rows

_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)
_EXECUTABLE = click.Path(exists=True, dir_okay=False, executable=True, path_type=Path)


def parse_listen(text: str) -> tuple[str, int]:
    """``127.0.0.1:8067`` / ``[::1]:8067`` / ``localhost:8067`` -> (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:8067 or [::1]:8067")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def load_answer_file(path: Path, what: str) -> dict[str, Any]:
    """A whole answer from a JSON or TOML file (``action`` absent means assign), checked."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
        entry, warnings = check_entry("unknown-client", data, str(path))
    except (OSError, ValueError) as exc:
        problems = exc.problems if isinstance(exc, EntryError) else [str(exc)]
        raise click.BadParameter(f"{path}: " + "; ".join(problems), param_hint=what) from None
    for warning in warnings:
        click.echo(f"warning: {path}: {warning}", err=True)
    return dict(entry.answer)


@click.command("answer")
@click.option("--listen", default="127.0.0.1:8067", show_default=True, help="HOST:PORT to serve on.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of per-client / per-layer JSON or TOML files.",
)
@click.option("--csv", "csv_file", type=_FILE, help="CSV table of entries (header: key, client_ip, ...).")
@click.option("--sqlite", "sqlite_file", type=_FILE, help="SQLite database with a table of entries.")
@click.option("--sqlite-table", default="answers", show_default=True, help="Table name in --sqlite.")
@click.option(
    "--hook", type=_EXECUTABLE, help="Executable asked for clients no table knows (JSON in, JSON out)."
)
@click.option(
    "--hook-timeout", type=click.FloatRange(min=0.01), default=2.0, show_default=True, help="Seconds."
)
@click.option("--hook-concurrency", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--hook-fallback", type=_FILE, help="Answer to send when the hook fails (default: none).")
@click.option("--notify-hook", type=_EXECUTABLE, help="Executable given each /v1/commit notification.")
@click.option("--default", "default_file", type=_FILE, help="Answer for unknown clients (default: none).")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0),
    default=2.0,
    show_default=True,
    help="Seconds between change checks of --dir/--csv/--sqlite (0: only on SIGHUP).",
)
@click.option("--log-format", type=click.Choice(["console", "json"]), default="console", show_default=True)
@click.option(
    "--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default="info", show_default=True
)
@click.option("--uvloop/--no-uvloop", default=True, show_default=True, help="Use uvloop when installed.")
@click.option("--check", is_flag=True, help="Load and check everything, print the problems, exit (1 if any).")
@click.option(
    "--token-file",
    type=_FILE,
    help="Bearer tokens (one a line) a client must send to /v1/question and /v1/commit.",
)
def answer_command(
    listen: str,
    directory: Path | None,
    csv_file: Path | None,
    sqlite_file: Path | None,
    sqlite_table: str,
    hook: Path | None,
    hook_timeout: float,
    hook_concurrency: int,
    hook_fallback: Path | None,
    notify_hook: Path | None,
    default_file: Path | None,
    poll_interval: float,
    log_format: str,
    log_level: str,
    uvloop: bool,
    check: bool,
    token_file: Path | None = None,
) -> None:
    """Serve the bridge contract (POST /v1/question) from static files, a table or a hook.

    A question is answered by the first client entry found (files, then CSV, then SQLite; keys
    tried most specific first: DUID, client-id, MAC, relay ids), else by the hook, else by
    --default; an assign is laid over the matching default / interface / relay / subnet layers.
    """
    host, port = parse_listen(listen)
    if not any((directory, csv_file, sqlite_file, hook, default_file)):
        raise click.UsageError("nothing to answer from: give --dir, --csv, --sqlite, --hook or --default")
    logs.configure(log_level, log_format)
    log = logs.get("dhcpbridge.answer")

    stores: list[Store] = []
    if directory is not None:
        stores.append(FileStore(directory, log))
    if csv_file is not None:
        stores.append(CsvStore(csv_file, log))
    sqlite_store: SqliteStore | None = None
    if sqlite_file is not None:
        try:
            sqlite_store = SqliteStore(sqlite_file, sqlite_table, log)
            sqlite_store.load()
        except (ValueError, OSError) as exc:
            raise click.ClickException(str(exc)) from None
        stores.append(sqlite_store)
    default = load_answer_file(default_file, "--default") if default_file else None
    fallback = load_answer_file(hook_fallback, "--hook-fallback") if hook_fallback else NONE_ANSWER
    for store in stores:
        if store is not sqlite_store:
            store.load()

    if check:
        problems = [
            f"{store.name}: {line}"
            for store in stores
            if store is not sqlite_store
            for line in store.problems()
        ]
        if sqlite_store is not None:
            problems += [f"sqlite: {line}" for line in check_rows(sqlite_store)]
        for line in problems:
            click.echo(line)
        click.echo(f"{len(problems)} problem(s)", err=True)
        sys.exit(1 if problems else 0)

    from aiohttp import web

    from dhcpbridge.answer.app import make_app, read_tokens

    tokens: list[str] = []
    if token_file is not None:
        tokens = read_tokens(token_file.read_text())
        if not tokens:
            raise click.ClickException(f"{token_file}: no token in it")
        if token_file.stat().st_mode & 0o077:
            log.warning("token file is readable by others", file=str(token_file))

    loop = _new_loop(uvloop)
    asyncio.set_event_loop(loop)
    runner = (
        HookRunner(hook, hook_timeout, log, concurrency=hook_concurrency, fallback=fallback) if hook else None
    )
    notifier = (
        HookRunner(notify_hook, hook_timeout, log, concurrency=hook_concurrency) if notify_hook else None
    )
    service = AnswerService(stores, log, hook=runner, default=default)
    app = make_app(
        service,
        log,
        poll_interval=poll_interval,
        notify_hook=notifier,
        debug=log_level == "debug",
        handle_sighup=True,
        tokens=tokens,
    )
    log.info(
        "answer service listening",
        url=f"http://{host if ':' not in host else f'[{host}]'}:{port}/v1/question",
        backends=service.stats(),
        problems=len(service.problems()),
    )
    web.run_app(app, host=host, port=port, print=None, access_log=None, loop=loop)


def _new_loop(want_uvloop: bool) -> asyncio.AbstractEventLoop:
    if want_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()
