"""``[leases] store`` URLs of the Redis store: ``redis://``, ``rediss://`` (TLS), ``unix://``, and
``redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]/SERVICE[/DB]`` (``rediss+sentinel``
with TLS to the master): the sentinels are asked for the master of SERVICE, again after a
failover; USER/PASSWORD are the master's (``sentinel-password=`` in the query for the sentinels').

The store's own options ride in the query string beside redis-py's (``db``, ``password`` ...):

* ``key-prefix`` (default empty): prepended to every key; put a hash tag in it (``{dhcp}:``) to
  keep all keys of the store in one Redis Cluster slot.
* ``wait-replicas`` (default 0): ``flush`` (before any ACK leaves) runs ``WAIT N`` and fails unless
  N replicas confirmed every write so far; ``wait-timeout`` (ms, default 1000) bounds that wait.
* ``timeout`` (seconds, default 2): socket connect/read timeout (a stopped Redis fails fast).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit

SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "rediss+sentinel")
_OWN = ("key-prefix", "wait-replicas", "wait-timeout", "timeout", "sentinel-password")


@dataclass(frozen=True)
class Sentinel:
    """Where the master is found: the sentinels and the service (master) name they watch."""

    hosts: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None
    tls: bool = False


@dataclass(frozen=True)
class RedisOptions:
    url: str  # what redis-py gets: the URL without the store's own options
    key_prefix: str = ""
    wait_replicas: int = 0
    wait_timeout_ms: int = 1000
    timeout: float = 2.0
    sentinel: Sentinel | None = None  # set for redis+sentinel:// (``url`` is then for display only)


def _sentinel(parts: SplitResult, own: dict[str, str]) -> Sentinel:
    hosts: list[tuple[str, int]] = []
    for item in parts.netloc.rpartition("@")[2].split(","):
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"Redis Sentinel URL: {item!r} is not HOST:PORT")
        hosts.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ValueError("Redis Sentinel URL needs /SERVICE[/DB] after the sentinels, e.g. /mymaster/0")
    return Sentinel(
        tuple(hosts),
        unquote(path[0]),
        int(path[1]) if len(path) == 2 else 0,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        own.get("sentinel-password") or None,
        parts.scheme.startswith("rediss"),
    )


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
    sentinel = _sentinel(parts, own) if parts.scheme.endswith("+sentinel") else None
    return RedisOptions(plain, own.get("key-prefix", ""), wait, wait_timeout, timeout, sentinel)
