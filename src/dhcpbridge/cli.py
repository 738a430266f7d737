"""The ``dhcpbridge`` command line: serve, check-config, probe, leases, demo (and the helpers' tools)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable, Sized
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from dhcpbridge import __version__, logs

console = Console()
err_console = Console(stderr=True)


@click.group()
@click.version_option(__version__, prog_name="dhcpbridge")
def main() -> None:
    """dhcpbridge: a DHCP server in which every answer comes from one source of truth."""


# --- serve ---------------------------------------------------------------------------------
@main.command()
@click.option(
    "--config", "config_path", required=True, type=click.Path(path_type=Path), help="TOML config file"
)
@click.option("--log-format", type=click.Choice(["console", "json"]), help="overrides [server] log-format")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="overrides [server] log-level",
)
def serve(config_path: Path, log_format: str | None, log_level: str | None) -> None:
    """Run the server in the foreground (SIGHUP reloads the config, SIGUSR1 reopens the log file,
    SIGTERM/SIGINT stop)."""
    from dhcpbridge import control
    from dhcpbridge.api import serve as api
    from dhcpbridge.config import ConfigError, load
    from dhcpbridge.server import Server, StartError
    from dhcpbridge.server.glass import glass_addons

    logs.configure(log_level or "info", log_format or "console")
    log = logs.get("dhcpbridge")
    try:
        config = load(config_path)
    except ConfigError as exc:
        log.error("invalid config", file=str(config_path), errors=exc.errors)
        sys.exit(2)
    logs.configure(
        log_level or config.server.log_level, log_format or config.server.log_format, config.log_target()
    )
    from dhcpbridge import _native

    if _native.stale():
        log.warning(
            "compiled modules are older than their sources (run `make native`)", modules=_native.stale()
        )
    _use_uvloop()
    from dhcpbridge.server.worker_role import WorkerRole

    worker = WorkerRole.from_env()
    if worker is None and config.server.workers > 1:  # [server] workers: this is the supervisor
        _supervise(config, config_path, log_format, log_level)
        return
    if worker is not None:
        if not worker.die_with_parent():
            sys.exit(0)  # the supervisor is already gone
        import structlog

        structlog.contextvars.bind_contextvars(worker=worker.index)  # on every line of this process
    try:
        addons = []
        if worker is None or worker.index == 0:  # one control socket and API per server
            addons = [
                *control.addons(control_path(config), config.server.control_group),
                *api.addons(config),
                *glass_addons(config),
            ]
        server = Server(config, config_path, addons, worker)
        asyncio.run(server.run())
    except StartError as exc:
        logs.get("dhcpbridge").error("cannot start", error=str(exc))
        sys.exit(1)
    if server.exit_code:
        log.error("stopped: unhealthy", exit_code=server.exit_code)
        sys.exit(server.exit_code)


def _supervise(config: Any, config_path: Path, log_format: str | None, log_level: str | None) -> None:
    """``[server] workers = N``: start and supervise N worker processes (``server/workers.py``)."""
    from dhcpbridge.server import StartError
    from dhcpbridge.server.workers import Supervisor

    args = [
        *(["--log-format", log_format] if log_format else []),
        *(["--log-level", log_level] if log_level else []),
    ]
    try:
        code = asyncio.run(Supervisor(config, config_path, args).run())
    except StartError as exc:
        logs.get("dhcpbridge").error("cannot start", error=str(exc))
        sys.exit(1)
    if code:
        sys.exit(code)


def control_path(config: Any) -> Path | None:
    """Where ``[server] control-socket`` is (relative to the config file), if the config has one."""
    socket = config.server.control_socket
    return config.resolve_path(socket) if socket else None


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# --- check-config --------------------------------------------------------------------------
@main.command("check-config")
@click.argument("config_path", type=click.Path(path_type=Path))
def check_config(config_path: Path) -> None:
    """Validate a config file: every error with its path, exit status 1 if there is any."""
    from dhcpbridge.assemble import AssemblyError, build_sources
    from dhcpbridge.config import ConfigError, load
    from dhcpbridge.config.model import parse_range
    from dhcpbridge.io.host import missing_interfaces

    try:
        config = load(config_path)
        sources = build_sources(config)
        from dhcpbridge.assemble import load_handlers

        handlers = (
            [*load_handlers(config, 4, position=None), *load_handlers(config, 6, position=None)]
            if config.handler
            else []
        )
    except ConfigError as exc:
        for line in exc.errors:
            click.echo(f"{config_path}: {line}", err=True)
        click.echo(f"{config_path}: {len(exc.errors)} error(s)", err=True)
        sys.exit(1)
    except AssemblyError as exc:
        for line in exc.errors:
            click.echo(f"{config_path}: {line}", err=True)
        sys.exit(1)
    if config.dns is not None and config.dns.enabled and config.dns.zone:
        from dhcpbridge.dns.updater import DnsSetupError, load_zones

        try:
            load_zones(config.dns, config.resolve_path("."))  # the TSIG key files, read now
        except DnsSetupError as exc:
            click.echo(f"{config_path}: {exc}", err=True)
            sys.exit(1)
    for name in missing_interfaces(config.server.interfaces):
        click.echo(f"{config_path}: warning: server.interfaces: {name} does not exist on this host", err=True)
    pools = sum(
        int(last) - int(first) + 1
        for s in config.subnet4
        for first, last in (parse_range(p) for p in s.pool_ranges)
    )
    chain = ", ".join(f"{s.name}({len(s)})" if isinstance(s, Sized) else s.name for s in sources)
    click.echo(
        f"{config_path}: ok: {len(config.subnet4)} subnet4, {pools} pool addresses, "
        f"sources: {chain}; store {config.leases.store}; port {config.server.port}"
    )
    if config.subnet6:
        from dhcpbridge.config.model6 import parse_range6

        na = sum(
            int(b) - int(a) + 1 for s in config.subnet6 for a, b in (parse_range6(p) for p in s.pool_ranges)
        )
        pd = sum(p.count for s in config.subnet6 for p in s.pd_pools)
        click.echo(
            f"{config_path}: ok: {len(config.subnet6)} subnet6, {na} pool addresses, {pd} delegated "
            f"prefixes, {len(config.static6)} static6 entries; port {config.server6.port}"
        )
    if handlers:
        click.echo(f"{config_path}: ok: handlers {', '.join(type(h).__name__ for h in handlers)}")
    from dhcpbridge.assemble.bridge import bridge_only, check_link

    if bridge_only(config):  # issue 13: no subnets, the answers say everything
        guard = "on" if check_link(config) else "off"
        click.echo(f"{config_path}: ok: bridge-only mode (addresses from the answers; check-subnet {guard})")
    from dhcpbridge.config.loader import json_mapping  # a .json config: how its keys map

    for line in json_mapping(config_path):
        click.echo(f"{config_path}: {line}")


# --- probe ---------------------------------------------------------------------------------
@main.command()
@click.option("--interface", help="broadcast as a client on this interface (needs root)")
@click.option("--server", "server", help="act as a relay agent towards ADDR[:PORT]")
@click.option("--giaddr", help="relay agent address (with --server); default: the source address used")
@click.option("--mac", help="client hardware address (default: random, locally administered)")
@click.option("--client-id", help="option 61 in hex")
@click.option("--hostname", help="option 12")
@click.option("--request-ip", help="option 50")
@click.option("--circuit-id", help="relay mode: option 82.1 (text, or 0x hex)")
@click.option("--remote-id", help="relay mode: option 82.2 (text, or 0x hex)")
@click.option("--option", "extra", multiple=True, help="CODE=VALUE or NAME=VALUE, repeatable")
@click.option("--full", is_flag=True, help="also REQUEST the offer (-> ACK)")
@click.option("--renew", is_flag=True, help="after the ACK, renew once")
@click.option("--release", is_flag=True, help="after the ACK, RELEASE the lease")
@click.option("--timeout", default=2.0, show_default=True, help="seconds to wait for each reply")
@click.option("--json", "as_json", is_flag=True, help="print replies as JSON")
@click.option("-6", "--v6", "v6", is_flag=True, help="DHCPv6: SOLICIT (-> ADVERTISE ...); see the v6 options")
@click.option("--duid", help="v6: client DUID (duid:HEX, ll:MAC, en:ENT:HEX; default: random DUID-LL)")
@click.option("--link-address", help="v6 relay mode: the relay's link-address (selects the subnet)")
@click.option("--relay-address", help="v6 relay mode: the address to send from (default: the route's)")
@click.option("--relays", default=1, show_default=True, help="v6 relay mode: nested RELAY-FORW layers")
@click.option(
    "--source-port",
    type=int,
    help="v6 relay mode: send from this port (0: any, with RFC 8357); default 547 as root",
)
@click.option("--interface-id", help="v6 relay mode: Interface-ID (text, or 0x hex)")
@click.option("--ia-na/--no-ia-na", default=True, show_default=True, help="v6: ask for an address (IA_NA)")
@click.option("--ia-pd", is_flag=True, help="v6: ask for a delegated prefix (IA_PD)")
@click.option("--pd-length", default=0, help="v6: prefix length hint for the IA_PD")
@click.option("--rapid-commit", is_flag=True, help="v6: SOLICIT with Rapid Commit")
@click.option("--rebind", is_flag=True, help="v6: after the REPLY, REBIND once")
@click.option("--info", is_flag=True, help="v6: INFORMATION-REQUEST only")
def probe(v6: bool, **options: Any) -> None:
    """Send a real DHCPv4 DISCOVER (or with -6 a DHCPv6 SOLICIT, and more) and print the decoded replies."""
    from dhcpbridge.tools import probe4, probe6

    try:
        code = (probe6.main if v6 else probe4.main)(**options)
    except (ValueError, OSError) as exc:
        raise click.UsageError(str(exc)) from None
    sys.exit(code)


# --- leases --------------------------------------------------------------------------------
@main.group()
def leases() -> None:
    """List, show and release leases of the configured store (through a running server's
    control socket when there is one)."""


def _load_config(path: Path) -> Any:
    from dhcpbridge.config import ConfigError, load

    try:
        return load(path)
    except ConfigError as exc:
        for line in exc.errors:
            click.echo(f"{path}: {line}", err=True)
        sys.exit(2)


async def _control_or_store(config: Any, request: dict[str, Any]) -> Any:
    """Ask the running server if it has a control socket; else read/write the store directly
    (the same ``LeaseAdmin`` commands the server runs)."""
    from dhcpbridge import control
    from dhcpbridge.leases import StoreError, open_store
    from dhcpbridge.service import LeaseAdmin

    path = control_path(config)
    if path is not None:
        try:
            return await control.call(path, request)
        except ConnectionError:
            pass
    readonly = request["cmd"] != "release"
    try:
        store = open_store(config.leases.store, str(config.resolve_path(".")), readonly=readonly)
    except StoreError as exc:
        raise click.ClickException(
            f"{exc} (a running server is reachable only through [server] control-socket)"
        ) from None
    try:
        return await LeaseAdmin(store).handle(request)
    finally:
        await store.close()


def _ask(config: Any, request: dict[str, Any]) -> Any:
    """A control/store request; errors (bad address, no such lease) become clean CLI errors."""
    try:
        return asyncio.run(_control_or_store(config, request))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


def _lease_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} lease(s)")
    for col in ("address", "state", "hwaddr", "client", "hostname", "expires", "subnet", "source"):
        table.add_column(col)
    now = time.time()
    for row in sorted(rows, key=lambda r: (r["kind"], _sort_key(r["address"]))):
        left = row["expires"] - now
        expires = f"in {int(left)}s" if left > 0 else f"{int(-left)}s ago"
        table.add_row(
            row["address"],
            row["state"],
            row["hwaddr"],
            row["client"],
            row["hostname"],
            expires,
            row["subnet"],
            row["source"],
        )
    return table


def _sort_key(addr: str) -> tuple[int, int]:
    import ipaddress

    ip = ipaddress.ip_address(addr.split("/")[0])
    return ip.version, int(ip)


@leases.command("list")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True)
@click.option("--state", help="only leases in this state (bound, offered, released, declined, expired)")
def leases_list(config_path: Path, as_json: bool, state: str | None) -> None:
    """Every lease record."""
    config = _load_config(config_path)
    rows = _ask(config, {"cmd": "leases"})
    rows = [r for r in rows if r["state"] != "offered" or state == "offered"]
    if state:
        rows = [r for r in rows if r["state"] == state]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        console.print(_lease_table(rows))


def _one_lease(name: str, cmd: str, help_text: str, render: Callable[[dict[str, Any]], Any]) -> click.Command:
    """``leases show|release --config FILE [--json] ADDRESS``: one control request about one lease,
    printed as JSON or by ``render``."""

    def command(config_path: Path, as_json: bool, address: str) -> None:
        row = _ask(_load_config(config_path), {"cmd": cmd, "address": address})
        if as_json:
            click.echo(json.dumps(row, indent=2))
        else:
            console.print(render(row))

    command.__doc__ = help_text
    config = click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
    json_flag = click.option("--json", "as_json", is_flag=True)
    return leases.command(name)(config(json_flag(click.argument("address")(command))))


leases_show = _one_lease("show", "lease", "One lease by address.", lambda row: _lease_table([row]))
leases_release = _one_lease(
    "release",
    "release",
    "Release a lease now (the address becomes free).",
    lambda row: f"released {row['address']} (was {row['hwaddr']})",
)


@leases.command("salvage")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
def leases_salvage(config_path: Path) -> None:
    """Rewrite the store's damaged (or old pickle-format) journals so the server starts: every
    valid frame is kept, what is dropped is reported with its offset. Run it with the server stopped."""
    from dhcpbridge.leases import StoreError
    from dhcpbridge.leases.embedded.salvage import salvage_store
    from dhcpbridge.leases.embedded.sqlite import path_from_url

    config = _load_config(config_path)
    url = config.leases.store
    if not url.startswith("sqlite:"):
        raise click.ClickException(f"{url}: only sqlite stores have a journal to salvage")
    path = path_from_url(url)
    if not path.is_absolute():
        path = config.resolve_path(".") / path
    try:
        lines = salvage_store(path)
    except (StoreError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    for line in lines:
        click.echo(line)


# --- stats, reload (a running server, through its control socket) ------------------------------
def _running_server(config_path: Path, request: dict[str, Any]) -> Any:
    """One control request to the running server of ``config_path``; clean CLI errors."""
    from dhcpbridge import control

    path = control_path(_load_config(config_path))
    if path is None:
        raise click.ClickException("the config has no [server] control-socket to reach a running server")
    try:
        return asyncio.run(control.call(path, request))
    except (ConnectionError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


@main.command("stats")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
def stats_command(config_path: Path) -> None:
    """The running server's counters (JSON, as GET /v1/stats)."""
    click.echo(json.dumps(_running_server(config_path, {"cmd": "stats"}), indent=2))


@main.command("reload")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
def reload_command(config_path: Path) -> None:
    """Make the running server re-read its config file (a rejected config keeps the old one)."""
    click.echo(_running_server(config_path, {"cmd": "reload"}))


@main.command("reconfigure")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
@click.argument("client")
def reconfigure_command(config_path: Path, client: str) -> None:
    """Make CLIENT renew now: a signed DHCPv6 RECONFIGURE or DHCPv4 FORCERENEW (the client must
    have accepted them; [server] reconfigure-key-file). CLIENT is a lease address, or a MAC or a
    DUID (hex, any separators): then every bound lease of that client, both families."""
    click.echo(json.dumps(_running_server(config_path, {"cmd": "reconfigure", "client": client})))


# --- looking-glass (a running server, through its control socket or the HTTP API) ------------
@main.command("looking-glass")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="reach it by control socket")
@click.option("--api", "api_url", help="or by the HTTP API, e.g. http://127.0.0.1:8267")
@click.option("--token", envvar="DHCPBRIDGE_API_TOKEN", help="API bearer token (env DHCPBRIDGE_API_TOKEN)")
@click.option("--limit", type=int, help="at most this many exchanges per client")
@click.option("--json", "as_json", is_flag=True, help="the decoded exchanges as JSON")
@click.argument("client")
def looking_glass_command(
    config_path: Path | None,
    api_url: str | None,
    token: str | None,
    limit: int | None,
    as_json: bool,
    client: str,
) -> None:
    """The last requests and replies of CLIENT (a MAC, client-id, DUID, circuit-id, remote-id or
    interface-id), decoded, with the server's decision, newest first."""
    from dhcpbridge.glass.render import tables

    if api_url:
        found = _api_get(api_url, f"/v1/looking-glass/{client}", token, {"limit": limit} if limit else {})
        found = found["clients"]
    elif config_path is not None:
        found = _running_server(config_path, {"cmd": "looking-glass", "client": client, "limit": limit})
    else:
        raise click.UsageError("give --config (control socket) or --api URL")
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for table in tables(found):
        console.print(table)


def _api_get(base: str, path: str, token: str | None, params: dict[str, Any]) -> Any:
    """GET one API resource; problem+json errors become clean CLI errors."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        reply = httpx.get(base.rstrip("/") + path, headers=headers, params=params, timeout=10)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"{base}: {exc}") from None
    if reply.status_code != 200:
        try:
            detail = reply.json().get("detail") or reply.text
        except ValueError:
            detail = reply.text
        raise click.ClickException(f"{reply.status_code}: {detail}")
    return reply.json()


# --- demo ----------------------------------------------------------------------------------
@main.command()
@click.option("--clients", default=3, show_default=True, help="how many clients to walk through")
@click.option("--dir", "workdir", type=click.Path(path_type=Path), help="keep the demo's files here")
def demo(clients: int, workdir: Path | None) -> None:
    """Start a server on 127.0.0.1 (embedded SQLite store) and walk clients through it."""
    from dhcpbridge.tools.demo import run_demo

    sys.exit(run_demo(clients, workdir))


def _register_optional() -> None:
    """Commands that live in their own packages (added when present)."""
    import importlib

    from dhcpbridge import transfer_cli

    transfer_cli.register(leases)  # leases import, leases migrate
    from dhcpbridge import static_cli

    static_cli.register(main)  # build-sqlite, build-dbm
    from dhcpbridge.harvest.cli import harvest_command

    main.add_command(harvest_command, "harvest")

    try:
        module = importlib.import_module("dhcpbridge.answer.cli")
    except ImportError:
        return
    main.add_command(module.answer_command, "answer")


_register_optional()


# --- db (the PostgreSQL lease store's schema) ------------------------------------------------
@main.group()
def db() -> None:
    """Create and upgrade the schema of a PostgreSQL lease store (versioned migrations)."""


def _db_url(url: str) -> str:
    if not url.startswith(("postgresql:", "postgres:")) and "=" not in url:
        raise click.UsageError(f"{url!r} is not a PostgreSQL URL (postgresql://USER@HOST:5432/DB)")
    return url


@db.command("init")
@click.argument("url")
def db_init(url: str) -> None:
    """Create dhcpbridge's tables in the (empty) database URL."""
    _migrate("init", url)


@db.command("upgrade")
@click.argument("url")
def db_upgrade(url: str) -> None:
    """Apply the migrations the database URL lacks (none when it is current)."""
    _migrate("upgrade", url)


def _migrate(step: str, url: str) -> None:
    """Run ``pg_schema.init`` or ``pg_schema.upgrade`` on ``url`` and print what it applied."""
    from dhcpbridge.leases.base import StoreError
    from dhcpbridge.leases.shared import pg_schema

    try:
        applied = pg_schema.init(_db_url(url)) if step == "init" else pg_schema.upgrade(_db_url(url))
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    for m in applied:
        click.echo(f"applied {m.version}: {m.title}")
    current = "" if applied or step == "init" else " (already current)"
    click.echo(f"schema version {pg_schema.LATEST}{current}")


@db.command("status")
@click.argument("url")
def db_status(url: str) -> None:
    """The database's schema version and the one this dhcpbridge needs; exit 1 when they differ."""
    from dhcpbridge.leases.base import StoreError
    from dhcpbridge.leases.shared import pg_schema

    try:
        with pg_schema.connect(_db_url(url)) as conn:
            found = pg_schema.version(conn)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"schema version {found if found is not None else 'none'}, needed {pg_schema.LATEST}")
    sys.exit(0 if found == pg_schema.LATEST else 1)
