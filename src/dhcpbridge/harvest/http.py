"""``POST /harvest`` (run or share a harvest, answer with what changed when it is done) and
``GET /healthz``, served with aiohttp. A token is required unless the endpoint listens on
loopback only: ``Authorization: Bearer TOKEN``."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from dhcpbridge.config.values import is_loopback
from dhcpbridge.harvest.harvester import Coalescer

_COALESCER = web.AppKey("coalescer", Coalescer)


def parse_listen(value: str) -> tuple[str, int]:
    """``127.0.0.1:4246`` / ``[::1]:0`` -> (host, port); port 0 picks a free one."""
    host, _, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--listen {value!r} must be HOST:PORT, e.g. 127.0.0.1:4246")
    return host, int(port)


def check_exposure(host: str, token: str | None) -> None:
    """A non-loopback endpoint without a token is refused (``ValueError``)."""
    if token is None and not is_loopback(host):
        raise ValueError(f"--listen {host}: not loopback, so a token is required (--token-file)")


def make_app(coalescer: Coalescer, token: str | None) -> web.Application:
    @web.middleware
    async def auth(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if token is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.json_response({"error": "missing or wrong token"}, status=401)
        return await handler(request)

    async def harvest(request: web.Request) -> web.Response:
        result, shared = await request.app[_COALESCER].request()
        body = {**result.as_dict(), "shared": shared}
        return web.json_response(body, status=500 if result.error else 200)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"harvests": request.app[_COALESCER].harvester.count})

    app = web.Application(middlewares=[auth])
    app[_COALESCER] = coalescer
    app.router.add_post("/harvest", harvest)
    app.router.add_get("/healthz", healthz)
    return app


@dataclass
class Endpoint:
    """A running endpoint (``port`` is the bound one)."""

    runner: web.AppRunner
    host: str
    port: int

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve(coalescer: Coalescer, host: str, port: int, token: str | None) -> Endpoint:
    check_exposure(host, token)
    runner = web.AppRunner(make_app(coalescer, token), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return Endpoint(runner, host, int(bound))
