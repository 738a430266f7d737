"""Apply ``[looking-glass]`` to a running server: make (or resize, or drop) its ``LookingGlass``,
hand it to each endpoint and tell it each family's pipeline steps. Called at start and after
each reload; a reload keeps what the glass holds unless it is turned off."""

from __future__ import annotations

from typing import Any

from dhcpbridge.glass import LookingGlass


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
