"""The management API's application: the ``/v1`` routes over a running server, built on the
same ``LeaseAdmin`` as the control socket and the CLI."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Protocol, TypeVar, cast

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dhcpbridge.api import dashboard, glass, problems, reservations
from dhcpbridge.api.auth import ANONYMOUS_ADMIN, Caller, Role, Tokens
from dhcpbridge.api.models import Health, LeaseOut, LeasePage, Ready, ReloadResult, SubnetUse
from dhcpbridge.config import Config
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.glass import LookingGlass
from dhcpbridge.service import Cursor, LeaseAdmin, LeaseFilter, Running
from dhcpbridge.usage import utilisation

MAX_PAGE = 1000
BEARER = HTTPBearer(auto_error=False)
SECRET_WORDS = ("token", "secret", "password", "auth", "key")
F = TypeVar("F", bound=Callable[..., Any])


class Managed(Running, Protocol):
    """What the API needs of a running server (``dhcpbridge.server.Server`` has it)."""

    config: Config
    store: LeaseStore | None
    glass: LookingGlass | None

    def source_stats(self) -> dict[str, Any]: ...


def redact(value: Any) -> Any:
    """The config as JSON with every secret-looking setting's value replaced."""
    if isinstance(value, dict):
        return {
            k: ("<redacted>" if v is not None and any(w in k for w in SECRET_WORDS) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def parse_cursor(text: str) -> Cursor:
    kind, _, address = text.partition("-")
    if not (kind.isdigit() and address.isdigit()):
        raise HTTPException(422, f"cursor {text!r} is not one this API gave out")
    return int(kind), int(address)


def address_bound(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    try:
        return int(ipaddress.ip_address(text))
    except ValueError:
        raise HTTPException(422, f"{name}: {text!r} is not an IP address") from None


def create_app(server: Managed, tokens: Tokens | None) -> FastAPI:
    """The application; without ``tokens`` every caller is admin (only allowed on loopback,
    see ``dhcpbridge.config.api``)."""
    app = FastAPI(
        title="dhcpbridge management API",
        version="1",
        description="Leases, counters, subnets and config of a running dhcpbridge server.",
        docs_url=None,  # served by dashboard.install from the package, not a CDN
        redoc_url=None,
    )
    problems.install(app)

    def needs(role: Role) -> Callable[..., Awaitable[Caller]]:
        async def check(
            creds: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
        ) -> Caller:
            if tokens is None:
                return ANONYMOUS_ADMIN
            if creds is None:
                raise HTTPException(401, "a bearer token is required")
            caller = tokens.who(creds.credentials)
            if caller is None:
                raise HTTPException(401, "unknown token")
            if not caller.may(role):
                raise HTTPException(403, f"{caller.name} has role {caller.role}; this needs {role}")
            return caller

        return check

    reader = [Depends(needs("read"))]
    admin_only = [Depends(needs("admin"))]
    errs = problems.ERRORS

    def route(method: str, path: str, tag: str, who: list[Any], model: Any = None) -> Callable[[F], F]:
        """``app.get`` / ``app.post`` of ``path`` with the tag, the role check, the problem+json
        errors and (when given) the response model every route of this module declares."""
        extra = {} if model is None else {"response_model": model}
        return cast(
            Callable[[F], F],
            getattr(app, method)(path, tags=[tag], dependencies=who, responses=errs, **extra),
        )

    def admin() -> LeaseAdmin:
        if server.store is None:
            raise HTTPException(503, "the server is not running")
        return LeaseAdmin(server.store, server)

    @app.get("/v1/health", response_model=Health, tags=["server"])
    async def health() -> Health:
        """Liveness: the process answers (no token needed)."""
        return Health(status="ok")

    @app.get("/v1/ready", response_model=Ready, tags=["server"], responses=errs)
    async def ready() -> Any:
        """Readiness: the lease store answers, every source reports no open circuit."""
        checks: dict[str, str] = {}
        try:
            if server.store is None:
                raise RuntimeError("not open")
            await asyncio.wait_for(server.store.get(LeaseKind.V4, 0), 2.0)
            checks["store"] = "ok"
        except Exception as exc:  # any store failure means not ready
            checks["store"] = f"failed: {exc}"
        for name, stats in server.source_stats().items():
            tripped = isinstance(stats, dict) and bool(stats.get("breaker_open"))
            checks[f"source:{name}"] = "breaker open" if tripped else "ok"
        ok = all(v == "ok" for v in checks.values())
        body = Ready(ready=ok, checks=checks)
        if ok:
            return body
        return JSONResponse(body.model_dump(), status_code=503)

    @route("get", "/v1/leases", "leases", reader, LeasePage)
    async def list_leases(
        kind: Annotated[str | None, Query(pattern="^(v4|na|pd)$")] = None,
        state: Annotated[str | None, Query(pattern="^(offered|bound|released|declined|expired)$")] = None,
        subnet: str | None = None,
        client: Annotated[str | None, Query(description="MAC or DUID/client-id hex (prefix)")] = None,
        hostname: str | None = None,
        first: Annotated[str | None, Query(alias="from", description="lowest address")] = None,
        last: Annotated[str | None, Query(alias="to", description="highest address")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
        cursor: str | None = None,
    ) -> Any:
        """Lease records ordered by kind and address, one page at a time."""
        where = LeaseFilter(
            kind=LeaseKind[kind.upper()] if kind else None,
            state=LeaseState[state.upper()] if state else None,
            subnet=subnet,
            client=client,
            hostname=hostname,
            first=address_bound(first, "from"),
            last=address_bound(last, "to"),
        )
        after = parse_cursor(cursor) if cursor else None
        page, more = await admin().search(where, limit, after)
        # polled by dashboards: the records' own JSON view (``LeaseOut``'s fields, as the
        # response model documents), without building and validating a model per record
        return JSONResponse(
            {
                "items": [lease.as_dict() for lease in page],
                "next_cursor": f"{more[0]}-{more[1]}" if more else None,
            }
        )

    @route("get", "/v1/leases/{address:path}", "leases", reader, LeaseOut)
    async def show_lease(address: str) -> LeaseOut:
        """One lease by address (``10.0.0.5``, ``2001:db8::5``, ``2001:db8:1::/48``)."""
        return LeaseOut.of(await _lease_call(admin().get, address))

    @route("post", "/v1/leases/{address:path}/release", "leases", admin_only, LeaseOut)
    async def release_lease(address: str) -> LeaseOut:
        """Release a lease now: the address becomes free (admin)."""
        return LeaseOut.of(await _lease_call(admin().release, address))

    @route("post", "/v1/leases/{address:path}/reconfigure", "leases", admin_only)
    async def reconfigure_lease(address: str) -> dict[str, Any]:
        """Make the lease's client renew now: a signed RECONFIGURE / FORCERENEW (admin; the
        client must have accepted them, ``[server] reconfigure-key-file``)."""
        return cast(dict[str, Any], await _lease_call(admin().reconfigure, address))

    @route("post", "/v1/clients/{client}/reconfigure", "leases", admin_only)
    async def reconfigure_client(client: str) -> dict[str, Any]:
        """Make a client renew now, named by a MAC or a DUID (hex, any separators; or a lease
        address): a signed FORCERENEW per bound v4 lease and a RECONFIGURE per DUID (admin; the
        client must have accepted them, ``[server] reconfigure-key-file``)."""
        return cast(dict[str, Any], await _lease_call(admin().reconfigure, client))

    @route("get", "/v1/stats", "server", reader)
    async def stats() -> dict[str, Any]:
        """Every counter, as the control socket's ``stats``."""
        return await admin().stats()

    @route("get", "/v1/subnets", "subnets", reader, list[SubnetUse])
    async def subnets() -> list[SubnetUse]:
        """Every subnet and pool with its utilisation."""
        return utilisation(server.config, await admin().list())

    @route("get", "/v1/config", "config", reader)
    async def config() -> dict[str, Any]:
        """The running config, secrets redacted."""
        return dict(redact(server.config.model_dump(mode="json", by_alias=True)))

    @route("post", "/v1/config/reload", "config", admin_only, ReloadResult)
    async def reload() -> ReloadResult:
        """Re-read the config file (admin); a rejected config keeps the old one serving."""
        errors = await server.reload()
        return ReloadResult(ok=not errors, errors=errors)

    app.include_router(reservations.router(server, reader, admin_only, errs))
    app.include_router(glass.router(server, reader, errs))
    dashboard.install(app, needs("read"), errs)
    return app


async def _lease_call(call: Callable[[str], Awaitable[Any]], address: str) -> Any:
    try:
        return await call(address)
    except ValueError as exc:
        message = str(exc)
        raise HTTPException(404 if message.startswith("no lease") else 422, message) from None
