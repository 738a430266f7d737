"""``[leases] store`` URLs of the Redis store: ``redis://``, ``rediss://`` (TLS), ``unix://``.

The store's own options ride in the query string beside redis-py's (``db``, ``password`` ...):

* ``key-prefix`` (default empty): prepended to every key; put a hash tag in it (``{dhcp}:``) to
  keep all keys of the store in one Redis Cluster slot.
* ``wait-replicas`` (default 0): ``flush`` (before any ACK leaves) runs ``WAIT N`` and fails unless
  N replicas confirmed every write so far; ``wait-timeout`` (ms, default 1000) bounds that wait.
* ``timeout`` (seconds, default 2): socket connect/read timeout (a stopped Redis fails fast).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

SCHEMES = ("redis", "rediss", "unix")
_OWN = ("key-prefix", "wait-replicas", "wait-timeout", "timeout")


@dataclass(frozen=True)
class RedisOptions:
    url: str  # what redis-py gets: the URL without the store's own options
    key_prefix: str = ""
    wait_replicas: int = 0
    wait_timeout_ms: int = 1000
    timeout: float = 2.0


def parse(url: str) -> RedisOptions:
    """Split ``url`` into redis-py's URL and the store's options; ``ValueError`` when unusable."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"not a Redis URL: {url!r}")
    if parts.scheme == "unix" and not parts.path:
        raise ValueError("unix:// Redis URL needs a socket path, e.g. unix:///run/redis/redis.sock?db=0")
    own: dict[str, str] = {}
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _OWN:
            own[key] = value
        else:
            rest.append((key, value))
    try:
        wait = int(own.get("wait-replicas", "0"))
        wait_timeout = int(own.get("wait-timeout", "1000"))
        timeout = float(own.get("timeout", "2"))
    except ValueError as exc:
        raise ValueError(f"Redis store option: {exc}") from None
    if wait < 0 or wait_timeout < 0 or timeout <= 0:
        raise ValueError("Redis store options wait-replicas, wait-timeout must be >= 0, timeout > 0")
    query = urlencode(rest)
    plain = f"{parts.scheme}://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")
    return RedisOptions(plain, own.get("key-prefix", ""), wait, wait_timeout, timeout)
