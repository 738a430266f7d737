"""The running server: sockets on the event loop, the engines, the store, signals and reload.

Each protocol family is an ``Endpoint`` (socket + engine + how to send). Per wake-up of a socket:
drain datagrams, run each through the engine, make the batch's lease changes durable with one
``flush``, then send — an ACK/REPLY that grants a lease never leaves before its lease is
committed (replies that change nothing durable, like OFFER or NAK, go out at once). When the
store and every source work in-process, the engine's coroutines finish without suspending and
are driven inline (no task per packet); otherwise each packet runs as a task and flushes are
shared by everything that finished in the same loop turn.

SIGHUP reloads the config (a bad one is rejected and the old one keeps serving); SIGTERM/SIGINT
stop after flushing. Drops are counted always and logged (each at debug level, rate-limited at
info level).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

from dhcpbridge import logs
from dhcpbridge.assemble import AssemblyError, build_engine4, build_engine6, build_sources, load_handlers
from dhcpbridge.config import Config, ConfigError, load
from dhcpbridge.engine.chain import NeedsIO
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseEvent, LeaseState
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4, Outcome4
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.engine.v6.engine import Engine6, Outcome6
from dhcpbridge.io.host import host_info, missing_interfaces
from dhcpbridge.io.rawl2 import RawSender
from dhcpbridge.io.udp4 import Udp4Socket
from dhcpbridge.io.udp6 import Udp6Socket, host_info6
from dhcpbridge.leases import IndexedStore, StoreError, open_store
from dhcpbridge.wire.v4.options import MessageType

BATCH = 128
GROUP_COMMIT = 0.0005  # seconds: under load, at most one store flush per this interval
BUSY_PPS = 8000  # packets a second above which commits are grouped (below: each batch at once)
DROP_LOG_BURST = 10  # per reason and window at info level
DROP_LOG_WINDOW = 10.0
log = logs.get("dhcpbridge")


def tune_gc() -> None:
    """Fewer, cheaper garbage collections: the lease table is large and long-lived, and young
    collections every 700 allocations cost more than the packet work itself. Survivors are moved
    to the permanent generation (``gc.freeze``) at start and after each reaping pass, so full
    collections only look at what is new."""
    gc.set_threshold(100_000, 50, 1000)
    gc.freeze()


class StartError(Exception):
    """The server cannot start (socket, store or config problem); the message says why."""


class Meta(Protocol):
    def log_fields(self) -> dict[str, str]: ...


class Outcome(Protocol):
    """What an engine returns for one datagram (``Outcome4`` / ``Outcome6``)."""

    data: bytes | None
    drop_reason: str | None
    drop_detail: str

    @property
    def effects(self) -> list[LeaseEvent]: ...

    def log_fields(self) -> dict[str, Any]: ...


class Engine(Protocol):
    extra_async: bool

    async def process(self, data: bytes, meta: Any, now: float, io: bool = False) -> Any: ...


class Socket(Protocol):
    def fileno(self) -> int: ...

    def receive(self, limit: int) -> list[tuple[bytes, Any]]: ...

    def close(self) -> None: ...


class DropLog:
    """Logs drops: every one at debug level; at most a burst per reason and window at info."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.window_start = 0.0
        self.counts: dict[str, int] = {}

    def __call__(self, now: float, outcome: Outcome, meta: Meta) -> None:
        reason = outcome.drop_reason or "?"
        fields: dict[str, Any] = {"family": self.family, "reason": reason, "detail": outcome.drop_detail}
        fields.update(meta.log_fields())
        fields.update(outcome.log_fields())
        if logs.debug_enabled():
            log.debug("drop", **fields)
            return
        if now - self.window_start > DROP_LOG_WINDOW:
            suppressed = {k: v - DROP_LOG_BURST for k, v in self.counts.items() if v > DROP_LOG_BURST}
            if suppressed:
                log.info("drops suppressed", family=self.family, window_s=DROP_LOG_WINDOW, counts=suppressed)
            self.window_start = now
            self.counts = {}
        seen = self.counts.get(reason, 0) + 1
        self.counts[reason] = seen
        if seen <= DROP_LOG_BURST:
            log.info("drop", **fields)


class Endpoint:
    """The hot path of one protocol family: drain, process, commit once, send."""

    def __init__(
        self,
        server: Server,
        family: str,
        sock: Socket,
        engine: Engine,
        send: Callable[[Any, Any], None],
        stats: Stats,
        is_nak: Callable[[Any], bool] = lambda outcome: False,
    ) -> None:
        self.server = server
        self.family = family
        self.sock = sock
        self.engine = engine
        self.send = send
        self.stats = stats
        self.is_nak = is_nak
        self.inline = True
        self.drop_log = DropLog(family)

    def on_readable(self) -> None:
        """Replies that need no commit go out at once; those that do wait for the next group
        commit (``Server.commit_later``). Draining again after each round lets a batch grow when
        the server is busy."""
        sock, engine = self.sock, self.engine
        batch = sock.receive(BATCH)
        if not batch:
            return
        now = time.time()
        if not self.inline:
            for data, meta in batch:
                self.server.spawn(self._one(engine, data, meta, now))
            return
        waiting: list[tuple[Outcome, Any]] = []
        handled = 0
        while batch:
            for data, meta in batch:
                try:
                    outcome = run_inline(engine.process(data, meta, now))
                except NeedsIO:  # a source must do IO for this one: run it as a task
                    self.server.spawn(self._one(engine, data, meta, now))
                    continue
                except Exception:
                    self.stats.errors["engine"] += 1
                    log.exception("engine failure", family=self.family, **meta.log_fields())
                    continue
                if outcome.effects:
                    waiting.append((outcome, meta))
                else:
                    self.finish(outcome, meta, now, True)
            handled += len(batch)
            if handled >= BATCH or not waiting:
                break
            batch = sock.receive(BATCH - handled)
            now = time.time()
        self.server.commit_later(self, waiting, handled)

    async def _one(self, engine: Engine, data: bytes, meta: Any, now: float) -> None:
        try:
            outcome = await engine.process(data, meta, now, True)
        except Exception:
            self.stats.errors["engine"] += 1
            log.exception("engine failure", family=self.family, **meta.log_fields())
            return
        committed = await self.server.flush_shared(self.stats) if outcome.effects else True
        self.finish(outcome, meta, now, committed)

    def finish(self, outcome: Outcome, meta: Any, now: float, committed: bool) -> None:
        effects = outcome.effects
        try:
            self._finish(outcome, meta, now, committed, effects)
        finally:
            # lease events point back at their transaction: empty the list so the transaction and
            # its events form no reference cycle (freed at once, no work for the garbage collector)
            effects.clear()

    def _finish(
        self, outcome: Outcome, meta: Any, now: float, committed: bool, effects: list[LeaseEvent]
    ) -> None:
        if outcome.data is None:
            if outcome.drop_reason is not None:
                self.drop_log(now, outcome, meta)
            if effects and committed:
                for event in effects:
                    self.server.emit(event)
            return
        if effects and not committed:
            self.stats.drops["store-unavailable"] += 1
            return
        try:
            self.send(outcome, meta)
        except OSError as exc:
            self.stats.errors["send"] += 1
            log.warning(
                "send failed", family=self.family, error=exc.strerror or str(exc), **outcome.log_fields()
            )
            return
        if self.is_nak(outcome):  # worth a line even at info level
            log.info("nak", family=self.family, why=outcome.drop_detail, **outcome.log_fields())
        elif logs.debug_enabled():
            log.debug("reply", family=self.family, **outcome.log_fields())
        for event in effects:
            self.server.emit(event)


class Sender4:
    """Puts a v4 reply on the wire the way RFC 2131 §4.1 and the engine's ``Destination`` say."""

    def __init__(self, sock: Udp4Socket, raw: RawSender | None) -> None:
        self.sock = sock
        self.raw = raw

    def __call__(self, outcome: Outcome4, meta: Meta4) -> None:
        tx = outcome.tx
        sock = self.sock
        assert tx is not None and outcome.data is not None
        source = meta.local_ip if meta.local_ip and meta.local_ip != BROADCAST else tx.server_id
        if tx.dest_l2:
            req = tx.request
            if self.raw is not None and req.htype == 1 and req.hlen == 6 and meta.ifindex:
                self.raw.send(
                    meta.ifname,
                    req.chaddr[:6],
                    tx.server_id,
                    tx.dest_ip,
                    sock.port,
                    tx.dest_port,
                    outcome.data,
                )
                return
            sock.send(outcome.data, BROADCAST, tx.dest_port, meta.ifindex, source)
        elif tx.dest_ip == BROADCAST:
            sock.send(outcome.data, BROADCAST, tx.dest_port, meta.ifindex, source)
        else:
            sock.send(outcome.data, tx.dest_ip, tx.dest_port, 0, source)


class Sender6:
    """Puts a v6 reply on the wire where the engine said: the client's address port 546 on the
    receiving interface, or the outermost relay's address port 547."""

    def __init__(self, sock: Udp6Socket) -> None:
        self.sendto = sock.sock.sendto  # bound once: one call less per reply

    def __call__(self, outcome: Outcome6, meta: Meta6) -> None:
        self.sendto(outcome.data, outcome.dest)  # type: ignore[arg-type]  # both set when there is data


def _is_nak4(outcome: Outcome4) -> bool:
    return outcome.tx is not None and outcome.tx.reply_type == MessageType.NAK


class Server:
    """One dhcpbridge server process; ``start``/``stop``, or ``run`` until a signal."""

    def __init__(self, config: Config, config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.stats: dict[str, Stats] = {"v4": Stats(), "v6": Stats()}
        self.store: IndexedStore | None = None
        self.endpoints: dict[str, Endpoint] = {}
        self.host: HostInfo = HostInfo.build({})
        self.host6: HostInfo6 = HostInfo6.build({})
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flush_waiters: list[asyncio.Future[None]] = []
        self._flush_scheduled = False
        self._reaper: asyncio.Task[None] | None = None
        self._saver: asyncio.Task[None] | None = None
        self._control: Any = None
        self._metrics_runner: Any = None
        self.listeners: list[Callable[[LeaseEvent], None]] = []  # DNS, the bridge, the looking glass
        self.sources: list[Any] = []
        self._waiting: list[tuple[Endpoint, list[tuple[Outcome, Any]]]] = []
        self._commit_timer: asyncio.TimerHandle | None = None
        self._last_commit = 0.0
        self._window_start = 0.0
        self._window_packets = 0
        self._busy = False
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def stats4(self) -> Stats:
        return self.stats["v4"]

    @property
    def engine4(self) -> Engine4 | None:
        endpoint = self.endpoints.get("v4")
        return endpoint.engine if endpoint is not None else None  # type: ignore[return-value]

    @property
    def stats6(self) -> Stats:
        return self.stats["v6"]

    @property
    def engine6(self) -> Engine6 | None:
        endpoint = self.endpoints.get("v6")
        return endpoint.engine if endpoint is not None else None  # type: ignore[return-value]

    @staticmethod
    def serves_v4(cfg: Config) -> bool:
        """DHCPv4 runs unless the config is DHCPv6-only (subnet6 and no subnet4)."""
        return bool(cfg.subnet4) or not cfg.subnet6

    @staticmethod
    def interfaces6(cfg: Config) -> list[str]:
        return list(cfg.server6.interfaces if cfg.server6.interfaces is not None else cfg.server.interfaces)

    def _build_engines(
        self, cfg: Config, host: HostInfo, host6: HostInfo6, v4: bool, v6: bool
    ) -> tuple[list[Any], Engine4 | None, Engine6 | None]:
        """Sources (built once, shared by both families), user handlers and the engines."""
        assert self.store is not None
        sources = build_sources(cfg)
        engine4 = engine6 = None
        if v4:
            engine4 = build_engine4(cfg, self.store, host, self.stats4, load_handlers(cfg, 4), sources)
        if v6:
            engine6 = build_engine6(cfg, self.store, host6, self.stats6, sources, load_handlers(cfg, 6))
        return sources, engine4, engine6

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        cfg = self.config
        missing = missing_interfaces(cfg.server.interfaces)
        if missing:
            raise StartError(f"interfaces not found: {', '.join(missing)}")
        try:
            self.store = open_store(cfg.leases.store, str(cfg.resolve_path(".")))
        except StoreError as exc:
            raise StartError(f"lease store: {exc}") from None
        self.store.retention = float(cfg.leases.expired_retention)
        try:
            await self._open_endpoints()
            if cfg.server.control_socket:
                from dhcpbridge.control import ControlServer

                control = ControlServer(self, cfg.resolve_path(cfg.server.control_socket))
                try:
                    await control.start()
                except OSError as exc:
                    raise StartError(f"control socket {control.path}: {exc.strerror or exc}") from None
                self._control = control
            if cfg.server.metrics:
                await self._start_metrics(cfg.server.metrics)
        except StartError:
            await self._abort_start()
            raise
        self._reaper = self.loop.create_task(self._reap_forever())
        self._saver = self.loop.create_task(self._save_forever())
        leases = len(await self.store.leases())
        tune_gc()
        log.info(
            "serving",
            ports={name: getattr(ep.sock, "port", 0) for name, ep in self.endpoints.items()},
            interfaces=cfg.server.interfaces or "all",
            subnets4=[s.name for s in self.engine4.env.subnets.subnets] if self.engine4 else [],
            subnets6=[s.name for s in self.engine6.env.subnets.subnets] if self.engine6 else [],
            store=cfg.leases.store,
            leases=leases,
            mode={name: "inline" if ep.inline else "tasks" for name, ep in self.endpoints.items()},
        )

    async def _abort_start(self) -> None:
        """Undo a half-done start: nothing stays bound or open."""
        await self._close_endpoints()
        if self._control is not None:
            await self._control.stop()
            self._control = None
        for source in self.sources:
            if hasattr(source, "close"):
                await source.close()
        self.sources = []
        if self.store is not None:
            await self.store.close()

    async def _open_endpoints(self) -> None:
        cfg = self.config
        assert self.store is not None and self.loop is not None
        self.host = host_info(cfg.server.interfaces)
        v6 = bool(cfg.subnet6)
        if v6:
            missing = missing_interfaces(self.interfaces6(cfg))
            if missing:
                raise StartError(f"server6 interfaces not found: {', '.join(missing)}")
            self.host6 = host_info6(self.interfaces6(cfg))
        try:
            sources, engine4, engine6 = self._build_engines(
                cfg, self.host, self.host6, self.serves_v4(cfg), v6
            )
        except AssemblyError as exc:
            raise StartError("\n".join(exc.errors)) from None
        if engine4 is not None:
            try:
                sock4 = Udp4Socket(str(cfg.server.address), cfg.server.port, cfg.server.receive_buffer)
            except OSError as exc:
                raise StartError(
                    f"cannot listen on {cfg.server.address}:{cfg.server.port}: {exc.strerror or exc}"
                ) from None
            raw = RawSender.open() if cfg.server.raw_socket else None
            endpoint = Endpoint(self, "v4", sock4, engine4, Sender4(sock4, raw), self.stats4, _is_nak4)
            endpoint.inline = self._all_in_process(engine4)
            self.endpoints["v4"] = endpoint
            self._raw = raw
        if engine6 is not None:
            s6 = cfg.server6
            try:
                sock6 = Udp6Socket(str(s6.address), s6.port, self.interfaces6(cfg), cfg.server.receive_buffer)
            except OSError as exc:
                raise StartError(
                    f"cannot listen on [{s6.address}]:{s6.port}: {exc.strerror or exc}"
                ) from None
            for name, why in sock6.not_joined.items():
                log.warning(
                    "no DHCPv6 multicast on this interface (relayed traffic only)", interface=name, error=why
                )
            endpoint6 = Endpoint(self, "v6", sock6, engine6, Sender6(sock6), self.stats6)
            endpoint6.inline = self._all_in_process(engine6)
            self.endpoints["v6"] = endpoint6
        await self._adopt_sources(sources)
        for endpoint in self.endpoints.values():
            self.loop.add_reader(endpoint.sock.fileno(), endpoint.on_readable)

    async def _adopt_sources(self, sources: Any) -> None:
        """Start sources that have a life cycle (the HTTP bridge's connection pool) and listen to
        lease events for those that want them; sources of a replaced config are closed."""
        old = self.sources
        self.sources = list(sources)
        for source in self.sources:
            start = getattr(source, "start", None)
            if start is not None:
                await start()
        self.listeners = [s.notify for s in self.sources if hasattr(s, "notify")]
        for source in old:
            if source not in self.sources and hasattr(source, "close"):
                self.spawn(source.close())

    def source_stats(self) -> dict[str, Any]:
        return {s.name: s.stats() for s in self.sources if hasattr(s, "stats")}

    async def _close_endpoints(self) -> None:
        for endpoint in self.endpoints.values():
            if self.loop is not None:
                self.loop.remove_reader(endpoint.sock.fileno())
            endpoint.sock.close()
        self.endpoints = {}
        raw = getattr(self, "_raw", None)
        if raw is not None:
            raw.close()

    @staticmethod
    def _all_in_process(engine: Any) -> bool:
        """True when nothing the engine awaits can suspend (in-process store and sources, no
        asynchronous user handlers): then packets are processed inline, without tasks."""
        env = engine.env
        return isinstance(env.store, IndexedStore) and env.sources.sync and not engine.extra_async

    async def _start_metrics(self, listen: str) -> None:
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from dhcpbridge.metrics import registry_for

        registry = registry_for(self.stats, self.lease_counts)

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
        self._metrics_runner = runner

    def lease_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        if self.store is not None:
            for lease in self.store.index.all():
                name = f"{lease.kind.name.lower()}_{lease.state.name.lower()}"
                counts[name] = counts.get(name, 0) + 1
        return counts

    async def stop(self) -> None:
        if self.loop is not None:
            for endpoint in self.endpoints.values():
                self.loop.remove_reader(endpoint.sock.fileno())
        if self._commit_timer is not None:  # replies waiting for a group commit: commit, send
            self._commit_timer.cancel()
            self._commit_now()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        for task in (self._reaper, self._saver):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._control is not None:
            await self._control.stop()
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
        for endpoint in self.endpoints.values():
            endpoint.sock.close()
        raw = getattr(self, "_raw", None)
        if raw is not None:
            raw.close()
        for source in self.sources:
            if hasattr(source, "close"):
                await source.close()
        if self.store is not None:
            try:
                await self.store.close()
            except StoreError as exc:
                log.error("lease store close failed", error=str(exc))
        log.info("stopped", stats={name: s.snapshot() for name, s in self.stats.items()})

    async def run(self) -> None:
        """Start, then serve until SIGTERM/SIGINT; SIGHUP reloads.

        The handlers are in place before the sockets open: a SIGHUP that arrives while the server
        starts (its ports already answer) is a reload once it has started, not the default
        action that would end the process; SIGTERM/SIGINT then stop it right after the start."""
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        started = False
        reload_asked = False

        def on_hup() -> None:
            nonlocal reload_asked
            if started:
                self.spawn(self.reload())
            else:
                reload_asked = True

        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, on_hup)
        try:
            await self.start()
            started = True
            if reload_asked:
                self.spawn(self.reload())
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            if started:
                log.info("stopping")
                await self.stop()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        assert self.loop is not None
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def reload(self) -> list[str]:
        """Re-read the config file; on any error keep serving with the old one."""
        if self.config_path is None or self.store is None:
            return ["no config file to reload"]
        try:
            new = load(self.config_path)
            missing = missing_interfaces(new.server.interfaces)
            if missing:
                raise ConfigError(
                    str(self.config_path), [f"server.interfaces: not found: {', '.join(missing)}"]
                )
            host = host_info(new.server.interfaces)
            host6 = host_info6(self.interfaces6(new)) if "v6" in self.endpoints else self.host6
            sources, engine4, engine6 = self._build_engines(
                new, host, host6, "v4" in self.endpoints, "v6" in self.endpoints
            )
        except (ConfigError, AssemblyError) as exc:
            log.error("reload rejected; still serving the previous config", errors=exc.errors)
            return exc.errors
        notes = []
        old = self.config
        if new.leases.store != old.leases.store:
            notes.append("leases.store changed: takes effect after a restart")
        if (new.server.address, new.server.port) != (old.server.address, old.server.port):
            notes.append("server address/port changed: takes effect after a restart")
        if (self.serves_v4(new), bool(new.subnet6)) != ("v4" in self.endpoints, "v6" in self.endpoints):
            notes.append("DHCPv4/DHCPv6 turned on or off: takes effect after a restart")
        if (new.server6.address, new.server6.port, self.interfaces6(new)) != (
            old.server6.address,
            old.server6.port,
            self.interfaces6(old),
        ):
            notes.append("server6 address/port/interfaces changed: takes effect after a restart")
        self.config = new
        self.host = host
        self.host6 = host6
        await self._adopt_sources(sources)
        for name, engine in (("v4", engine4), ("v6", engine6)):
            endpoint = self.endpoints.get(name)
            if endpoint is not None and engine is not None:
                endpoint.engine = engine
                endpoint.inline = self._all_in_process(engine)
        log.info(
            "reloaded",
            subnets4=[s.name for s in engine4.env.subnets.subnets] if engine4 else [],
            subnets6=[s.name for s in engine6.env.subnets.subnets] if engine6 else [],
            notes=notes,
        )
        return []

    async def _reap_forever(self) -> None:
        assert self.store is not None
        while True:
            await asyncio.sleep(self.config.leases.reap_interval)
            try:
                expired = await self.store.reap(time.time())
                await self.store.flush()
            except StoreError as exc:
                self.stats4.errors["store"] += 1
                log.error("lease store error while expiring leases", error=str(exc))
                continue
            gc.freeze()
            if expired:
                log.info("leases expired", count=len(expired))
                for lease in expired:
                    self.emit(LeaseEvent("expire", lease))

    async def _save_forever(self) -> None:
        """A quiet server still moves journaled leases into the SQLite file (a flush with nothing
        pending only does that), so the file is never more than a couple of seconds behind."""
        while True:
            await asyncio.sleep(1.0)
            if not isinstance(self.store, IndexedStore):
                return  # a shared store has no checkpoint to drive
            try:
                self.flush_inline(self.stats4)
            except Exception:  # a bug must not end the saver silently
                log.exception("periodic lease store flush failed")

    # --- commits ----------------------------------------------------------------------------
    def commit_later(self, endpoint: Endpoint, waiting: list[tuple[Outcome, Any]], packets: int) -> None:
        """Group commit: replies that grant leases wait for one flush of the store. While the
        server is lightly loaded (fewer than ``BUSY_PPS`` packets a second) every batch is
        committed at once, so nothing waits. Under load, a flush runs at most every
        ``GROUP_COMMIT`` seconds: at the first socket read after that, or by a 1 ms timer when
        nothing else arrives (event-loop timers have millisecond resolution) — so one journal
        write carries the leases of many packets."""
        assert self.loop is not None
        now = time.monotonic()
        if now - self._window_start >= 0.01:
            self._busy = self._window_packets >= BUSY_PPS * (now - self._window_start)
            self._window_start, self._window_packets = now, 0
        self._window_packets += packets
        if waiting:
            self._waiting.append((endpoint, waiting))
        if not self._waiting:
            return
        if not self._busy or now - self._last_commit >= GROUP_COMMIT:
            if self._commit_timer is not None:
                self._commit_timer.cancel()
            self._commit_now()
        elif self._commit_timer is None:
            self._commit_timer = self.loop.call_later(0.001, self._commit_now)

    def _commit_now(self) -> None:
        self._commit_timer = None
        self._last_commit = time.monotonic()
        groups, self._waiting = self._waiting, []
        if not groups:
            return
        committed = self.flush_inline(groups[0][0].stats)
        now = time.time()
        for endpoint, waiting in groups:
            for outcome, meta in waiting:
                endpoint.finish(outcome, meta, now, committed)

    def flush_inline(self, stats: Stats) -> bool:
        assert self.store is not None
        try:
            run_inline(self.store.flush())
        except StoreError as exc:
            stats.errors["store"] += 1
            log.error("lease store commit failed; withholding replies", error=str(exc))
            return False
        return True

    async def flush_shared(self, stats: Stats) -> bool:
        """Flush once for every packet that reaches this point in the same loop turn."""
        assert self.loop is not None
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._flush_waiters.append(waiter)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self.spawn, self._flush_now(stats))
        try:
            await waiter
        except StoreError:
            return False
        return True

    async def _flush_now(self, stats: Stats) -> None:
        assert self.store is not None
        self._flush_scheduled = False
        waiters, self._flush_waiters = self._flush_waiters, []
        try:
            await self.store.flush()
        except StoreError as exc:
            stats.errors["store"] += 1
            log.error("lease store commit failed; withholding replies", error=str(exc))
            for w in waiters:
                if not w.done():
                    w.set_exception(exc)
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)

    def emit(self, event: LeaseEvent) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("lease event listener failed", listener=repr(listener))
        if logs.debug_enabled():
            log.debug("lease", change=event.event, **event.lease.as_dict())
        elif event.event != "commit" or event.lease.state != LeaseState.BOUND:
            log.info(
                "lease",
                change=event.event,
                address=event.lease.address_text,
                client=event.lease.client.hex(":"),
            )
