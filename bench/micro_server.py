"""Micro-benchmark of the server's per-packet loop without sockets: CPU µs per exchange (DHCPv6
SOLICIT / ADVERTISE / REQUEST / REPLY, DHCPv4 DISCOVER / OFFER / REQUEST / ACK) through the real
``Endpoint.on_readable``: the rate limiter and the looking glass as the default config has them,
the engine as the server builds it, a real ``GroupCommit`` over a SQLite store in a temporary
folder, the ``Sender6`` / ``Sender4`` of the server, the lease event bus with its ``LeaseLog``,
on the event loop the server uses (uvloop when installed).

Only the socket is fake: it hands out perfdhcp-like datagrams in rounds (the REQUESTs built from
the last round's ADVERTISEs / OFFERs, then ``--batch`` new clients' SOLICITs / DISCOVERs), and the
send collects the replies. Building the REQUESTs is inside the timed loop, as in
``micro_engine6`` / ``micro_engine4``.

CPU time (``time.process_time``), best of ``--repeat`` runs. Bounded: ``--clients`` exchanges per
run, and every wait for the loop (the bus drain, a group-commit timer) at most 1,000 loop turns.
``run`` is also what ``bench/instructions.py`` counts under callgrind.

With ``--redis`` the leases go to a private redis-server (unix socket, AOF ``appendfsync
everysec``, as the bench's Redis row has it), each packet runs as a task as the server runs it on
a shared store, the store's change listener runs (it receives this server's own changes too), and
Redis's own CPU per exchange (``INFO cpu``) is printed next to ours.

Run: .venv/bin/python bench/micro_server.py [--clients N] [--batch B] [--repeat R] [--profile]
     [--family v4|v6|both] [--redis]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import micro_engine4  # bench/ is the script's folder, first on sys.path
import micro_engine6
import redis

from dhcpbridge.config import loader
from dhcpbridge.engine.records import HostInfo, HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.events import EventBus, LeaseLog
from dhcpbridge.glass import LookingGlass
from dhcpbridge.leases import open_store
from dhcpbridge.leases.base import is_inline
from dhcpbridge.server import tune_gc
from dhcpbridge.server.commit import GroupCommit
from dhcpbridge.server.delivery import Sender4, Sender6, is_nak4
from dhcpbridge.server.endpoint import Endpoint
from dhcpbridge.server.limits import _limiter
from dhcpbridge.server.reload import build_engines
from dhcpbridge.server.tasks import TaskOwner
from dhcpbridge.testing.redis import RedisServer
from dhcpbridge.wire.v4.message import ip4_int, parse

SETTLE_TURNS = 1000  # loop turns (of at most 1 ms) to wait for the bus drain and the group commit


class FakeSocket:
    """What ``Endpoint`` reads: the datagrams queued for this round, at most ``limit`` a call."""

    oversized = 0

    def __init__(self, port: int, meta: Any) -> None:
        self.port = port
        self.meta = meta
        self.queue: list[bytes] = []

    def fileno(self) -> int:
        return -1

    def receive(self, limit: int) -> list[tuple[bytes, Any]]:
        taken, self.queue = self.queue[:limit], self.queue[limit:]
        meta = self.meta
        return [(data, meta) for data in taken]

    def close(self) -> None:
        pass


class FakeSock6:
    """What ``Sender6`` sends through (``sock.sendto``): keeps the replies."""

    def __init__(self, sent: list[bytes]) -> None:
        self.sock = self
        self.sent = sent

    def sendto(self, data: bytes, dest: Any) -> int:
        self.sent.append(data)
        return len(data)


class FakeSock4:
    """What ``Sender4`` sends through (``send``, ``port``): keeps the replies."""

    port = 67

    def __init__(self, sent: list[bytes]) -> None:
        self.sent = sent

    def send(self, data: bytes, ip: int, port: int, ifindex: int = 0, source: int = 0) -> None:
        self.sent.append(data)


def _duid_index(adv: bytes) -> int:
    """perfdhcp's client number from the DUID-LLT that ``micro_engine6.solicit`` gave it."""
    msg = micro_engine6.inner(adv)
    duid = msg.raw(1)
    assert duid is not None
    return int.from_bytes(duid[-6:], "big")


def _request6(reply: bytes) -> bytes | None:
    """The REQUEST that answers an ADVERTISE; None for a REPLY (the exchange is done)."""
    if reply[0] != 2:
        return None
    return micro_engine6.request(_duid_index(reply), micro_engine6.inner(reply))


def _request4(reply: bytes) -> bytes | None:
    """The REQUEST that answers an OFFER; None for an ACK (the exchange is done)."""
    offer = parse(reply)
    if offer.options.get(53) != b"\x02":
        return None
    i = int.from_bytes(offer.chaddr[:6], "big")
    return micro_engine4.perfdhcp_like(3, i, {50: offer.yiaddr.to_bytes(4, "big"), 54: offer.options[54]})


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # the server's loop (cli._use_uvloop)
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def run(
    family: str,
    clients: int,
    batch: int,
    glass: bool | None = None,
    limiter: bool = True,
    store_url: str | None = None,
) -> float:
    """CPU µs per exchange of ``clients`` exchanges through ``Endpoint.on_readable``, ``batch``
    new clients a round (``family``: "v6" or "v4"); ``glass`` / ``limiter`` False leave out the
    looking glass / the rate limiter (None: the glass as the default config has it); ``store_url``
    another lease store than a new SQLite file (a shared one runs each packet as a task, as the
    server does)."""
    loop = _new_loop()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            return loop.run_until_complete(_run(family, clients, batch, Path(tmp), glass, limiter, store_url))
    finally:
        loop.close()


async def _run(
    family: str,
    clients: int,
    batch: int,
    tmp: Path,
    glass_on: bool | None,
    limiter: bool,
    store_url: str | None,
) -> float:
    v6 = family == "v6"
    cfg = loader.from_dict(micro_engine6.CONFIG if v6 else micro_engine4.CONFIG)
    loop = asyncio.get_running_loop()
    store = open_store(store_url or f"sqlite:///{tmp / 'leases.db'}")
    watcher: asyncio.Task[None] | None = None
    watch = getattr(store, "watch", None)
    if watch is not None:  # a shared store: the server listens to the changes, its own too
        subscribed = asyncio.Event()
        watcher = loop.create_task(watch(lambda event: None, subscribed))
        await asyncio.wait_for(subscribed.wait(), 10)
    stats = {"v4": Stats(), "v6": Stats()}
    host = HostInfo.build({"srv1": (ip4_int("10.68.0.1"),)})
    _, engine4, engine6 = build_engines(cfg, store, host, HostInfo6({}), stats, not v6, v6)
    tasks = TaskOwner()
    tasks.bind(loop)
    bus = EventBus()
    bus.subscribe(LeaseLog())
    bus.bind(loop)
    commits = GroupCommit(store, loop, tasks)
    sent: list[bytes] = []
    engine: Any
    first: Callable[[int], bytes]
    follow: Callable[[bytes], bytes | None]
    if v6:
        engine = engine6
        sock = FakeSocket(547, micro_engine6.META)
        endpoint = Endpoint(
            "v6",
            sock,
            engine,
            Sender6(FakeSock6(sent)),  # type: ignore[arg-type]
            stats["v6"],
            commits,
            tasks,
            bus.emit,
        )
        first, follow = (lambda i: micro_engine6.solicit(i, False)), _request6
    else:
        engine = engine4
        sock = FakeSocket(67, micro_engine4.META)
        endpoint = Endpoint(
            "v4",
            sock,
            engine,
            Sender4(FakeSock4(sent), None),
            stats["v4"],
            commits,
            tasks,
            bus.emit,
        )
        endpoint.is_nak = is_nak4
        first, follow = (lambda i: micro_engine4.perfdhcp_like(1, i)), _request4
    assert engine is not None
    endpoint.inline = is_inline(store)  # in-process store and sources: as Server._all_in_process finds
    endpoint.max_pending = cfg.limits.max_pending
    if limiter:
        endpoint.limiter = _limiter(family, cfg.limits, None, endpoint.stats.errors)
    if cfg.looking_glass.enabled if glass_on is None else glass_on:
        glass = LookingGlass(cfg.looking_glass.clients, cfg.looking_glass.per_client)
        glass.set_steps(family, engine.pipeline.handlers)
        endpoint.glass = glass
    firsts = [first(i + 1) for i in range(clients)]
    done = 0  # REPLYs / ACKs
    tune_gc()  # as the server does at start
    start = time.process_time()
    follows: list[bytes] = []
    for base in range(0, clients + batch, batch):
        sock.queue = follows + firsts[base : base + batch]
        if not sock.queue:
            break
        expected = len(sock.queue)
        del sent[:]
        turns = 0
        while sock.queue:
            endpoint.on_readable()
        while len(sent) < expected or bus.stats()["queued"]:
            turns += 1
            assert turns <= SETTLE_TURNS, f"{len(sent)} of {expected} replies"
            await asyncio.sleep(0 if turns == 1 else 0.001)  # the bus drain; a group-commit timer
        follows = []
        for data in sent:
            request = follow(data)
            if request is None:
                done += 1
            else:
                follows.append(request)
    elapsed = time.process_time() - start
    assert done == clients, (done, clients, dict(endpoint.stats.drops))
    await tasks.close()
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    await store.close()
    return elapsed / clients * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=20000)
    ap.add_argument(
        "--batch", type=int, default=32, help="new clients a round (REQUESTs of the last one too)"
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one run of the first family")
    ap.add_argument("--family", choices=["v6", "v4", "both"], default="both")
    ap.add_argument(
        "--redis",
        action="store_true",
        help="leases in a private redis-server (unix socket, AOF everysec) instead of SQLite; "
        "its CPU per exchange is printed too",
    )
    args = ap.parse_args()
    families = [f for f in ("v6", "v4") if args.family in (f, "both")]
    with contextlib.ExitStack() as stack:
        redis_server = stack.enter_context(private_redis()) if args.redis else None
        if args.profile:
            url = _fresh(redis_server)
            cProfile.runctx(
                "run(families[0], args.clients, args.batch, store_url=url)",
                globals(),
                locals(),
                "/tmp/server.prof",
            )
            pstats.Stats("/tmp/server.prof").sort_stats("tottime").print_stats(30)
            return
        store = "Redis" if redis_server else "SQLite"
        print(
            f"server loop on {store}, {args.clients} clients, {args.batch} new a round, "
            f"best of {args.repeat} (CPU µs)"
        )
        for family in families:
            what = "SARR" if family == "v6" else "DORA"
            runs = []
            for _ in range(args.repeat):
                url = _fresh(redis_server)
                before = redis_cpu(redis_server)
                ours = run(family, args.clients, args.batch, store_url=url)
                runs.append((ours, (redis_cpu(redis_server) - before) / args.clients * 1e6))
            best = min(runs)
            extra = f", redis-server {best[1]:6.1f} µs" if redis_server else ""
            print(f"{family} {what}: {best[0]:6.1f} µs per exchange (incl. building REQUESTs){extra}")


@contextlib.contextmanager
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of its own (unix socket, AOF ``everysec``), stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="micro-server-redis-") as tmp:
        server = RedisServer(Path(tmp), appendfsync="everysec").start()
        try:
            yield server
        finally:
            server.stop()


def _fresh(server: RedisServer | None) -> str | None:
    """The store URL of an emptied ``server`` (None: a new SQLite file)."""
    if server is None:
        return None
    client = redis.Redis(unix_socket_path=str(server.socket))
    try:
        client.flushall()
    finally:
        client.close()
    return server.url()


def redis_cpu(server: RedisServer | None) -> float:
    """CPU seconds ``server`` has used (0.0 without one)."""
    if server is None:
        return 0.0
    client = redis.Redis(unix_socket_path=str(server.socket))
    try:
        info = client.info("cpu")
        return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    finally:
        client.close()


if __name__ == "__main__":
    main()
