"""Apply ``[limits]`` to a running server's endpoints and logging: the sockets' datagram size
caps, the pre-engine rate limiters, the bound on packets waiting for IO, and the log rate limiter
and queue. Called at start and after each reload (a reload keeps the buckets when their settings
did not change, so a SIGHUP does not hand every flooder a fresh burst)."""

from __future__ import annotations

from typing import Any

from dhcpbridge import logs
from dhcpbridge.config.limits import LimitsConfig
from dhcpbridge.server.ratelimit import RateLimiter, RateLimiter4, RateLimiter6


def _limiter(family: str, cfg: LimitsConfig, old: RateLimiter | None, counts: Any) -> RateLimiter | None:
    if cfg.client_rate <= 0 and cfg.relay_rate <= 0 and cfg.circuit_rate <= 0:
        return None
    cls = RateLimiter4 if family == "v4" else RateLimiter6
    settings = (
        (cfg.client_rate, cfg.client_burst),
        (cfg.relay_rate, cfg.relay_burst),
        cfg.max_buckets,
        (cfg.circuit_rate, cfg.circuit_burst),
    )
    if old is not None and old.settings == settings and type(old) is cls:
        return old
    return cls(settings[0], settings[1], settings[2], counts, settings[3])


def apply_limits(server: Any) -> None:
    """Set the limits of ``server.config.limits`` on ``server.endpoints`` and on logging."""
    cfg: LimitsConfig = server.config.limits
    for family, endpoint in server.endpoints.items():
        endpoint.sock.max_datagram = cfg.max_datagram4 if family == "v4" else cfg.max_datagram6
        endpoint.max_pending = cfg.max_pending
        endpoint.limiter = _limiter(family, cfg, endpoint.limiter, endpoint.stats.errors)
    logs.set_limits(cfg.log_burst, cfg.log_window)
    logs.start_queue(cfg.log_queue)
