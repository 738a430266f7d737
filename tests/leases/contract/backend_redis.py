"""The Redis backend of the contract suite: a store on the machine's Redis (127.0.0.1:6379, DB 0)
under a key prefix of its own per test, whose keys are deleted when the store is closed. Fails
(never skips) when Redis is down: ``scripts/ensure-services.sh`` starts it."""

from __future__ import annotations

from pathlib import Path

import redis

from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases.shared.redis_store import RedisStore
from dhcpbridge.leases.shared.redis_url import parse
from dhcpbridge.testing.redis import delete_prefix, unique_prefix

URL = "redis://127.0.0.1:6379/0"


class CleanRedisStore(RedisStore):
    """A ``RedisStore`` that removes its keys when closed."""

    async def close(self) -> None:
        await super().close()
        delete_prefix(URL, self.prefix)


def open_redis(tmp: Path) -> LeaseStore:
    redis.Redis.from_url(URL).ping()  # a clear failure when Redis is down
    return CleanRedisStore(parse(f"{URL}?key-prefix={unique_prefix()}"))
