"""The Redis store's clients, made from its parsed URL: one connection to a fixed server
(``redis://``, ``rediss://``, ``unix://``), or the master that Redis Sentinel names
(``redis+sentinel://``), asked again when a command finds the old master gone or read-only."""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from dhcpbridge.leases.shared.redis_url import RedisOptions


def open_client(options: RedisOptions, connect_timeout: float | None = None) -> Redis:
    """A client for the store's commands (one connection: the store pipelines its calls) or, for
    Pub/Sub, a client of its own. Nothing connects before the first command."""
    # a flush's WAIT blocks Redis's reply for up to wait-timeout: the read must outlast it, or a
    # missing replica would look like an unreachable Redis
    waits = options.wait_timeout_ms / 1000 if options.wait_replicas else 0.0
    timeouts: dict[str, Any] = {
        "socket_timeout": options.timeout + waits,
        "socket_connect_timeout": connect_timeout or options.timeout,
        "retry": Retry(NoBackoff(), 1),  # one retry on a fresh connection (a restart, a failover)
    }
    where = options.sentinel
    if where is None:
        pool = BlockingConnectionPool.from_url(options.url, max_connections=1, timeout=None, **timeouts)
        return Redis(connection_pool=pool)
    sentinel_auth = {"password": where.sentinel_password} if where.sentinel_password else {}
    sentinels = Sentinel(
        list(where.hosts),
        sentinel_kwargs={
            "socket_timeout": options.timeout,
            "socket_connect_timeout": options.timeout,
            **sentinel_auth,
        },
    )
    master: Redis = sentinels.master_for(
        where.service,
        db=where.db,
        username=where.username,
        password=where.password,
        ssl=where.tls,
        **timeouts,
    )
    return master
