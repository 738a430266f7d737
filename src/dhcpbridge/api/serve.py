"""Runs the management API inside the server process: uvicorn on the server's own asyncio loop,
as a server add-on (started after the DHCP sockets open, stopped before they close).

The listening socket is bound here, so a port in use is a clean start error; uvicorn's own
signal handling is left out (the server owns SIGTERM/SIGINT/SIGHUP).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import AbstractAsyncContextManager

import uvicorn

from dhcpbridge import logs
from dhcpbridge.api.app import Managed, create_app
from dhcpbridge.api.auth import TokenFileError, Tokens
from dhcpbridge.config import Config
from dhcpbridge.config.values import split_listen

log = logs.get("dhcpbridge.api")
STOP_TIMEOUT = 5.0


class _Uvicorn(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the DHCP server handles the signals


def bind(listen: str) -> socket.socket:
    host, port = split_listen(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def load_tokens(config: Config) -> Tokens | None:
    """The token file of ``[api]`` (None when not set); ``OSError`` when unusable."""
    if config.api.tokens_file is None:
        return None
    try:
        return Tokens.load(config.resolve_path(config.api.tokens_file))
    except TokenFileError as exc:
        raise OSError(f"api tokens-file: {exc}") from None


def addons(config: Config) -> list[Callable[[Managed], AbstractAsyncContextManager[None]]]:
    """The add-on serving ``[api]`` while the server runs; none when ``listen`` is absent.
    ``[api]`` changes take effect at the next start, not on reload."""
    api = config.api
    if api.listen is None:
        return []
    listen = api.listen

    @contextlib.asynccontextmanager
    async def management_api(server: Managed) -> AsyncIterator[None]:
        tokens = load_tokens(config)
        try:
            sock = bind(listen)
        except OSError as exc:
            raise OSError(f"api listen {listen}: {exc.strerror or exc}") from None
        tls = {}
        if api.tls_cert is not None and api.tls_key is not None:
            tls = {
                "ssl_certfile": str(config.resolve_path(api.tls_cert)),
                "ssl_keyfile": str(config.resolve_path(api.tls_key)),
            }
        uconfig = uvicorn.Config(
            create_app(server, tokens),
            lifespan="off",
            log_config=None,
            access_log=False,
            **tls,  # type: ignore[arg-type]
        )
        try:
            uconfig.load()  # TLS files are read here: a bad one is a start error
        except (OSError, ValueError) as exc:
            sock.close()
            raise OSError(f"api tls: {exc}") from None
        userver = _Uvicorn(uconfig)
        task = asyncio.create_task(userver.serve(sockets=[sock]))
        while not userver.started and not task.done():
            await asyncio.sleep(0.01)
        if task.done():
            sock.close()
            raise OSError(f"api listen {listen}: did not start ({task.exception()!r})")
        log.info("management API", listen=listen, tls=bool(tls), tokens=tokens is not None)
        try:
            yield
        finally:
            userver.should_exit = True
            try:
                await asyncio.wait_for(task, STOP_TIMEOUT)
            except TimeoutError:
                userver.force_exit = True
                task.cancel()
            sock.close()

    return [management_api]
