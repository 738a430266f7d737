"""The Prometheus ``/metrics`` endpoint and ``/healthz`` (aiohttp), served from the server's event
loop. ``/healthz`` is 200 ``ok`` while the server can commit leases, 503 with the reason when not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from dhcpbridge.server.errors import StartError


async def start_metrics(
    listen: str,
    registry: Any,
    health: Callable[[], str | None] | None = None,
    stats: Callable[[], dict[str, Any]] | None = None,
) -> Any:
    """Serve ``registry`` on ``HOST:PORT`` (and ``/healthz`` from ``health``: None when healthy,
    else why not); returns the aiohttp runner (``await runner.cleanup()`` stops it). Raises
    ``StartError`` when the address cannot be bound. ``listen`` may be ``unix:PATH`` (a worker of
    ``[server] workers`` serves its supervisor there, and with ``stats`` its counters as JSON on
    ``/stats`` for worker 0)."""
    from prometheus_client import generate_latest

    async def body() -> bytes:
        return bytes(generate_latest(registry))

    async def problems() -> list[str]:
        problem = health() if health is not None else None
        return [] if problem is None else [problem]

    return await serve_endpoints(listen, body, problems, stats)


async def serve_endpoints(
    listen: str,
    body: Callable[[], Awaitable[bytes]],
    problems: Callable[[], Awaitable[list[str]]],
    stats: Callable[[], dict[str, Any]] | None = None,
) -> Any:
    """Serve ``/metrics`` (``body``, the exposition text), ``/healthz`` (200 ``ok``, or 503 with
    each of ``problems``) and, given ``stats``, ``/stats`` (JSON) on ``HOST:PORT`` or
    ``unix:PATH``; returns the aiohttp runner. Raises ``StartError`` when the address cannot be
    bound."""
    from aiohttp import web
    from prometheus_client import CONTENT_TYPE_LATEST

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=await body(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def healthz(_: web.Request) -> web.Response:
        found = await problems()
        if not found:
            return web.Response(text="ok\n")
        return web.Response(status=503, text="unhealthy: " + "\n".join(found) + "\n")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    if stats is not None:
        counters = stats

        async def stats_json(_: web.Request) -> web.Response:
            return web.json_response(counters())

        app.router.add_get("/stats", stats_json)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site: web.BaseSite
    if listen.startswith("unix:"):
        site = web.UnixSite(runner, listen.removeprefix("unix:"))
    else:
        host, _, port = listen.rpartition(":")
        site = web.TCPSite(runner, host.strip("[]"), int(port))
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartError(f"cannot serve metrics on {listen}: {exc.strerror or exc}") from None
    return runner
