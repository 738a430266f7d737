"""``dhcpbridge harvest``: the click command (once, ``--every``, ``--listen``); the work is in
``harvester``, ``http``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import sys
from pathlib import Path
from typing import Any

import click

from dhcpbridge import logs

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """``500ms``, ``1s``, ``5m``, ``1h`` or plain seconds -> seconds (``ValueError`` otherwise)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (e.g. 500ms, 1s, 5m, 1h)")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click stubs
    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float):
            return value
        try:
            return parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _source(store: str | None, config_path: Path | None, files: tuple[Path, ...], fmt: str) -> Any:
    from dhcpbridge.harvest.harvester import LeaseSource

    given = sum(bool(x) for x in (store, config_path, files))
    if given != 1:
        raise click.UsageError("give exactly one of --store URL, --config FILE or --leases FILE")
    if config_path is not None:
        from dhcpbridge.config import ConfigError, load

        try:
            config = load(config_path)
        except ConfigError as exc:
            raise click.UsageError(f"{config_path}: {'; '.join(exc.errors)}") from None
        return LeaseSource(store=config.leases.store, base_dir=str(config.resolve_path(".")))
    if store is not None:
        return LeaseSource(store=store, base_dir=str(Path.cwd()))
    return LeaseSource(files=tuple((path, fmt) for path in files))


@click.command("harvest")
@click.option("--store", help="read leases from this lease store URL (any of ours)")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="...or from this config's store"
)
@click.option(
    "--leases",
    "files",
    multiple=True,
    type=click.Path(path_type=Path),
    help="...or from another server's lease file (repeatable)",
)
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", "dhcpd", "kea-csv", "dnsmasq"]),
    help="format of --leases",
)
@click.option("--dest", required=True, type=click.Path(path_type=Path), help="the $INCLUDE file to write")
@click.option("--filter", "pattern", help="keep host names matching this Python regex (re.search)")
@click.option("--verify", is_flag=True, help="keep only hosts that answer an ICMP echo")
@click.option("--timeout", default="1s", type=Duration(), show_default=True, help="per-host --verify timeout")
@click.option("--workers", default=64, show_default=True, help="concurrent --verify pings")
@click.option("--ttl", type=int, help="TTL of the records (default: the zone's $TTL)")
@click.option("--zone", help="after a change, reload this zone with rndc")
@click.option(
    "--origin", help="the zone the fragment is included in (default: --zone): names under it keep all labels"
)
@click.option("--rndc-server", default="127.0.0.1", show_default=True)
@click.option("--rndc-port", default=953, show_default=True)
@click.option("--rndc-key", type=click.Path(path_type=Path), help="rndc key file (rndc -k)")
@click.option("--every", type=Duration(), help="harvest periodically (e.g. 5m) until stopped")
@click.option("--listen", help="serve POST /harvest on HOST:PORT (port 0: any free port)")
@click.option(
    "--quiet-period", default="2s", type=Duration(), show_default=True, help="calls within it share a harvest"
)
@click.option("--token-file", type=click.Path(path_type=Path), help="bearer token for POST /harvest")
@click.option("--json", "as_json", is_flag=True, help="print each harvest's result as JSON")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="default: warning for one harvest, info with --every/--listen",
)
def harvest_command(
    store: str | None,
    config_path: Path | None,
    files: tuple[Path, ...],
    fmt: str,
    dest: Path,
    pattern: str | None,
    verify: bool,
    timeout: float,
    workers: int,
    ttl: int | None,
    zone: str | None,
    origin: str | None,
    rndc_server: str,
    rndc_port: int,
    rndc_key: Path | None,
    every: float | None,
    listen: str | None,
    quiet_period: float,
    token_file: Path | None,
    as_json: bool,
    log_level: str | None,
) -> None:
    """Write the names of current leases as a BIND $INCLUDE fragment (--dest), atomically and only
    when it changed, then `rndc reload ZONE`. Once, every --every, and/or on POST /harvest."""
    from dhcpbridge.harvest.harvester import Coalescer, Harvester, Settings
    from dhcpbridge.harvest.rndc import Rndc

    once = every is None and listen is None
    logs.configure(log_level or ("warning" if once else "info"), "console")
    try:
        regex = re.compile(pattern) if pattern is not None else None
    except re.error as exc:
        raise click.UsageError(f"--filter {pattern!r}: {exc}") from None
    if not dest.parent.is_dir():
        raise click.UsageError(f"--dest {dest}: directory {dest.parent} does not exist")
    settings = Settings(
        source=_source(store, config_path, files, fmt),
        dest=dest,
        pattern=regex,
        verify=verify,
        timeout=timeout,
        workers=workers,
        ttl=ttl,
        rndc=Rndc(zone, rndc_server, rndc_port, rndc_key) if zone else None,
        origin=origin or zone,
    )
    token = token_file.read_text().strip() if token_file is not None else None
    harvester = Harvester(settings)

    def show(result: Any) -> None:
        click.echo(
            json.dumps(result.as_dict()) if as_json else result.summary(), err=result.error is not None
        )
        for warning in result.warnings[:20]:
            click.echo(f"warning: {warning}", err=True)

    if once:
        result = asyncio.run(harvester.harvest())
        show(result)
        sys.exit(1 if result.error else 0)
    asyncio.run(_serve(Coalescer(harvester, quiet_period), every, listen, token, show))


async def _serve(
    coalescer: Any, every: float | None, listen: str | None, token: str | None, show: Any
) -> None:
    """Harvest every ``every`` seconds and/or serve the endpoint until SIGTERM/SIGINT."""
    from dhcpbridge.harvest import http

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    endpoint = None
    if listen is not None:
        try:
            host, port = http.parse_listen(listen)
            endpoint = await http.serve(coalescer, host, port, token)
        except (ValueError, OSError) as exc:
            raise click.UsageError(str(exc)) from None
        click.echo(f"listening on http://{host}:{endpoint.port}/harvest", err=True)
    try:
        while not stop.is_set():
            if every is None:
                await stop.wait()
                break
            result, shared = await coalescer.request()
            if not shared:
                show(result)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
    finally:
        if endpoint is not None:
            await endpoint.close()
