"""The Prometheus ``/metrics`` endpoint (aiohttp), served from the server's event loop."""

from __future__ import annotations

from typing import Any

from dhcpbridge.server.errors import StartError


async def start_metrics(listen: str, registry: Any) -> Any:
    """Serve ``registry`` on ``HOST:PORT``; returns the aiohttp runner (``await runner.cleanup()``
    stops it). Raises ``StartError`` when the address cannot be bound."""
    from aiohttp import web
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, _, port = listen.rpartition(":")
    site = web.TCPSite(runner, host.strip("[]"), int(port))
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartError(f"cannot serve metrics on {listen}: {exc.strerror or exc}") from None
    return runner
