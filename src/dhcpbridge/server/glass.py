"""Apply ``[looking-glass]`` to a running server: make (or resize, or drop) its ``LookingGlass``,
hand it to each endpoint and tell it each family's pipeline steps. Called at start and after
each reload; a reload keeps what the glass holds unless it is turned off or resized.
``glass_addons``: the server add-on that keeps the glass in ``[looking-glass] persist``."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from dhcpbridge import logs
from dhcpbridge.config import Config
from dhcpbridge.glass import LookingGlass
from dhcpbridge.glass.persist import GlassFile, Keeper, load_into

log = logs.get("dhcpbridge.glass")


def apply_glass(server: Any) -> None:
    """Set ``server.glass`` from ``server.config.looking_glass`` and wire it to the endpoints."""
    cfg = server.config.looking_glass
    glass: LookingGlass | None = server.glass
    if not cfg.enabled:
        glass = None
    elif glass is None:
        glass = LookingGlass(cfg.clients, cfg.per_client)
    else:
        glass.resize(cfg.clients, cfg.per_client)
    server.glass = glass
    for family, endpoint in server.endpoints.items():
        endpoint.glass = glass
        if glass is not None:
            glass.set_steps(family, endpoint.engine.pipeline.handlers)


def glass_addons(config: Config) -> list[Callable[[Any], AbstractAsyncContextManager[None]]]:
    """The add-on that keeps the glass in ``[looking-glass] persist`` while the server runs
    (loaded into the glass at the start, written in batches, the last batch at the end); none
    without the setting. The setting takes effect at the next start, not on reload."""
    cfg = config.looking_glass
    if cfg.persist is None:
        return []
    path = config.resolve_path(str(cfg.persist))
    keep, interval = cfg.persist_keep, cfg.persist_interval

    @contextlib.asynccontextmanager
    async def keep_glass(server: Any) -> AsyncIterator[None]:
        try:
            file = GlassFile(path, keep)
        except (OSError, sqlite3.Error) as exc:
            raise OSError(f"looking-glass persist {path}: {exc}") from None
        keeper = Keeper(file, lambda: server.glass, interval)
        glass: LookingGlass | None = server.glass
        if glass is not None:
            restored = load_into(glass, file)
            keeper.start_from(glass)
            log.info("looking glass restored", path=str(path), exchanges=restored)
        task = asyncio.create_task(keeper.keep_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            try:
                await keeper.write_batch()
            except sqlite3.Error as exc:
                log.warning("looking glass: last write failed", path=str(path), error=str(exc))
            file.close()

    return [keep_glass]
