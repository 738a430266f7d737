"""The ``Server``: one dhcpbridge process's life cycle — start, stop, run until a signal, reload.

Everything a start opens (store, sockets, sources, add-ons such as the control socket, the
metrics endpoint, the readers on the loop) is entered into one ``contextlib.AsyncExitStack`` as
it is opened, so ``stop`` and a failed start undo exactly what was done, last opened first; every
task belongs to one ``TaskOwner``. SIGHUP reloads the config (a bad one is rejected and the old
one keeps serving); SIGTERM/SIGINT stop after flushing.

A worker of ``[server] workers`` (``worker``, see ``server.workers``) adopts the sockets its
supervisor bound, serves ``/metrics`` on its private Unix socket for the supervisor, and hands a
reload asked through the control socket or the API to the supervisor (every worker reloads).
On a shared store each server has a unique ``owner`` id (the reaper role) and follows the other
servers' changes into its event bus when the store can be watched (``WatchesChanges``, through
``EventBus.emit_remote``).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import secrets
import signal
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, cast

from dhcpbridge import logs
from dhcpbridge.assemble import AssemblyError
from dhcpbridge.assemble.bridge import serves_v6_bridge
from dhcpbridge.config import Config, ConfigError, load
from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.engine.ports import Closable, HasStats, LeaseListener, LeaseStore, Startable
from dhcpbridge.engine.records import HostInfo, HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4
from dhcpbridge.engine.v6.engine import Engine6
from dhcpbridge.events import EventBus, LeaseLog
from dhcpbridge.glass import LookingGlass
from dhcpbridge.io.host import host_info, missing_interfaces
from dhcpbridge.io.rawl2 import RawSender
from dhcpbridge.io.udp4 import Udp4Socket
from dhcpbridge.io.udp6 import Udp6Socket, host_info6
from dhcpbridge.leases.base import (
    CountsLeases,
    ReportsHealth,
    StoreError,
    WatchesChanges,
    is_inline,
    is_shared,
)
from dhcpbridge.leases.registry import open_store
from dhcpbridge.leases.renewcache import RenewFromCache
from dhcpbridge.server import reconfigure
from dhcpbridge.server.commit import GroupCommit
from dhcpbridge.server.delivery import Sender4, Sender6, is_nak4
from dhcpbridge.server.endpoint import Endpoint
from dhcpbridge.server.errors import StartError, in_use
from dhcpbridge.server.glass import apply_glass
from dhcpbridge.server.limits import apply_limits
from dhcpbridge.server.metrics_http import start_metrics
from dhcpbridge.server.reaper import reap_forever, save_forever
from dhcpbridge.server.reload import build_engines, interfaces6, restart_notes, serves_v4, subnet_names
from dhcpbridge.server.tasks import TaskOwner
from dhcpbridge.server.worker_role import WorkerRole

log = logs.get("dhcpbridge")
Addon = Callable[["Server"], AbstractAsyncContextManager[Any]]


def tune_gc() -> None:
    """Fewer, cheaper garbage collections: the lease table is large and long-lived, and young
    collections every 700 allocations cost more than the packet work itself. Survivors are moved
    to the permanent generation (``gc.freeze``) at start and after each reaping pass, so full
    collections only look at what is new."""
    gc.set_threshold(100_000, 50, 1000)
    gc.freeze()


class Server:
    """One dhcpbridge server process; ``start``/``stop``, or ``run`` until a signal.

    ``addons`` are entered once the sockets are open and left before they close, each called
    with the server (the control socket is one: ``dhcpbridge.control.addons``)."""

    def __init__(
        self,
        config: Config,
        config_path: Path | None = None,
        addons: Sequence[Addon] = (),
        worker: WorkerRole | None = None,
    ) -> None:
        self.config = config
        self.worker = worker
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"  # unique per process
        self.config_path = config_path
        self.addons = list(addons)
        self.stats: dict[str, Stats] = {"v4": Stats(), "v6": Stats()}
        self.store: LeaseStore | None = None
        self.endpoints: dict[str, Endpoint] = {}
        self.host: HostInfo = HostInfo.build({})
        self.host6: HostInfo6 = HostInfo6({})
        self.tasks = TaskOwner()
        self.bus = EventBus()
        self.bus.subscribe(LeaseLog())
        self.sources: list[Any] = []
        self._source_keys: dict[str, Any] = {}  # key -> source, what a reload may keep
        self.commits: GroupCommit | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stack = contextlib.AsyncExitStack()
        self._raw: RawSender | None = None
        self.exit_code = 0  # non-zero when the server stopped itself (a store gone for good)
        self._stop: asyncio.Event | None = None
        self.dns: Any = None  # the DNS updater (dhcpbridge.dns.updater.DnsUpdater) when [dns] is on
        self.glass: LookingGlass | None = None  # the looking glass ([looking-glass], server/glass.py)

    @property
    def stats4(self) -> Stats:
        return self.stats["v4"]

    @property
    def stats6(self) -> Stats:
        return self.stats["v6"]

    @property
    def engine4(self) -> Engine4 | None:
        endpoint = self.endpoints.get("v4")
        return endpoint.engine if endpoint is not None else None  # type: ignore[return-value]

    @property
    def engine6(self) -> Engine6 | None:
        endpoint = self.endpoints.get("v6")
        return endpoint.engine if endpoint is not None else None  # type: ignore[return-value]

    def emit(self, event: LeaseEvent) -> None:
        """Hand a lease event to the listeners (queued; see ``dhcpbridge.events``)."""
        self.bus.emit(event)

    def spawn(self, coro: Any) -> None:
        self.tasks.spawn(coro)

    async def reconfigure(self, client: str) -> dict[str, Any]:
        """A signed RECONFIGURE / FORCERENEW to a client: the client of a lease address, or the
        client a MAC or DUID names (server/reconfigure.py)."""
        return await reconfigure.send_client(self, client)

    # --- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self.loop = loop = asyncio.get_running_loop()
        self.tasks.bind(loop)
        self.bus.bind(loop)
        cfg = self.config
        stack = self._stack = contextlib.AsyncExitStack()
        stack.callback(logs.stop_queue)  # issue 9 (bounds): the log queue is written out last
        missing = missing_interfaces(cfg.server.interfaces)
        if missing:
            raise StartError(f"interfaces not found: {', '.join(missing)}")
        try:
            store = open_store(
                cfg.leases.store,
                str(cfg.resolve_path(".")),
                retention=float(cfg.leases.expired_retention),
            )
        except StoreError as exc:
            raise StartError(f"lease store: {exc}") from None
        if cfg.leases.renew_from_cache and is_shared(store):
            store = cast(LeaseStore, RenewFromCache(store))
        self.store = store
        stack.push_async_callback(self._close_store, store)
        if self.worker is not None and not is_shared(store):
            await stack.aclose()
            raise StartError(
                "a worker of [server] workers needs a shared lease store (redis://, postgresql://)"
            )
        stack.push_async_callback(self._close_sources)
        await self._start_dns(stack)  # [dns]: closed after the bus delivered its last events
        stack.callback(self.bus.close)
        stack.push_async_callback(self._close_endpoints)
        stack.push_async_callback(self.tasks.close)
        self.commits = GroupCommit(store, loop, self.tasks)
        stack.callback(self.commits.close)
        try:
            await self._open_endpoints(store)
            for addon in self.addons:
                try:
                    await stack.enter_async_context(addon(self))
                except OSError as exc:
                    raise StartError(str(exc)) from None
            private = self.worker.metrics if self.worker is not None else None
            if cfg.server.metrics or private:  # a worker serves its supervisor on a Unix socket
                from dhcpbridge.dns.metrics import DnsCollector
                from dhcpbridge.metrics import registry_for

                registry = registry_for(self.stats, self.lease_counts, self.bus.stats)
                registry.register(DnsCollector(self._dns_stats))  # nothing while [dns] is off
                self._more_metrics(registry)  # issue 12: latency histogram, pool gauges
                listen = "unix:" + private if private else str(cfg.server.metrics)
                runner = await start_metrics(
                    listen, registry, self.health, self.snapshot if private else None
                )
                stack.push_async_callback(runner.cleanup)
            self._drop_privileges(store)
        except BaseException:
            await stack.aclose()  # undo a half-done start: nothing stays bound or open
            raise
        self.tasks.daemon(reap_forever(store, self._reap_interval, self.stats4, self.emit, self.owner))
        if isinstance(store, RenewFromCache):  # write cached renewals once the store is back
            self.tasks.daemon(self._every(1.0, store.replay))
        self.tasks.daemon(save_forever(store, self._flush_inline))
        self.tasks.daemon(self._watch_health())
        if isinstance(store, WatchesChanges):  # other servers' changes reach this server's bus
            self.tasks.daemon(store.watch(self.bus.emit_remote))
        counts = self.lease_counts()
        leases = sum(counts.values()) if counts else len(await store.leases())
        tune_gc()
        log.info(
            "serving",
            ports={name: ep.sock.port for name, ep in self.endpoints.items()},
            interfaces=cfg.server.interfaces or "all",
            subnets4=subnet_names(self.engine4),
            subnets6=subnet_names(self.engine6),
            store=cfg.leases.store,
            leases=leases,
            mode={name: "inline" if ep.inline else "tasks" for name, ep in self.endpoints.items()},
        )

    def _more_metrics(self, registry: Any) -> None:
        """The request latency histogram and the per-subnet/pool gauges (refreshed by a task)."""
        from dhcpbridge.engine.v6.transaction import message_name6
        from dhcpbridge.metrics import LatencyCollector
        from dhcpbridge.pool_metrics import PoolCollector
        from dhcpbridge.wire.v4.options import MESSAGE_NAMES

        def v4_name(code: int) -> str:
            return MESSAGE_NAMES.get(code, str(code))

        latencies = LatencyCollector(
            lambda: {name: ep.latency for name, ep in self.endpoints.items()},
            {"v4": v4_name, "v6": message_name6},
        )
        registry.register(latencies)
        pools = PoolCollector()
        registry.register(pools)
        self.tasks.daemon(pools.refresh_forever(self))

    @staticmethod
    async def _every(seconds: float, call: Callable[[], Any]) -> None:
        while True:
            await asyncio.sleep(seconds)
            await call()

    def _drop_privileges(self, store: LeaseStore) -> None:
        """``[server] user``: hand the store's files and the control socket to the user, then run
        as it with only CAP_NET_BIND_SERVICE and CAP_NET_RAW (see ``server/privileges.py``)."""
        user = self.config.server.user
        if user is None:
            return
        from dhcpbridge.server import privileges

        try:
            uid, gid = privileges.resolve(user, self.config.server.group)
            if os.geteuid() == uid:
                return
            if os.geteuid() != 0:
                raise StartError(f"server.user {user!r}: only root can switch to another user")
            socket = self.config.server.control_socket
            queue = getattr(getattr(self.dns, "queue", None), "path", None)
            control = self.config.resolve_path(socket) if socket else None
            files = privileges.owned_files(store, queue, control)
            privileges.hand_over(files, uid, gid)
            privileges.drop(uid, gid)
        except (ValueError, OSError) as exc:
            raise StartError(f"cannot drop privileges: {exc}") from None
        log.info("privileges dropped", user=user, uid=uid, gid=gid, capabilities="net_bind_service,net_raw")

    def health(self) -> str | None:
        """None while the store commits; else why the server cannot (after ``[leases]
        unhealthy-after`` seconds of failing flushes, or of store calls failing on the packet
        path: ``server.outage``)."""
        store = self.store
        failing = store.failing() if isinstance(store, ReportsHealth) else None
        what = "flush(es)"
        outage = self.commits.outage.failing() if self.commits is not None else None
        if failing is None and outage is not None:  # the store's own report first
            failing, what = outage, "call(s)"
        if failing is None or failing[1] < self.config.leases.unhealthy_after:
            return None
        return f"lease store: {failing[0]} failed {what} in {failing[1]:.0f} s; no lease can be granted"

    async def _watch_health(self) -> None:
        """Log when the server turns unhealthy; with ``exit-when-unhealthy``, stop with status 3."""
        reported = False
        while True:
            await asyncio.sleep(1.0)
            problem = self.health()
            if problem is not None and not reported:
                log.error("unhealthy", reason=problem)
            reported = problem is not None
            if problem is not None and self.config.leases.exit_when_unhealthy and self._stop is not None:
                self.exit_code = 3
                self._stop.set()
                return

    async def _start_dns(self, stack: contextlib.AsyncExitStack) -> None:
        """Start the DNS updater when ``[dns]`` is on and subscribe it to the lease events."""
        from dhcpbridge.dns.updater import DnsSetupError

        stack.push_async_callback(self._stop_dns)
        try:
            await self._switch_dns(self.config)
        except DnsSetupError as exc:
            await stack.aclose()
            raise StartError(str(exc)) from None

    async def _switch_dns(self, cfg: Config) -> None:
        """Run the DNS updater ``cfg`` asks for (none when ``[dns]`` is off) in place of the
        running one. The key files are read before the running updater stops, so a broken key
        leaves it running (``DnsSetupError``); its queue file keeps what it had not sent."""
        from dhcpbridge.dns.updater import load_zones, start_updater

        dns_cfg = cfg.dns
        base = cfg.resolve_path(".")
        wanted = dns_cfg is not None and dns_cfg.enabled and bool(dns_cfg.zone)
        if dns_cfg is not None and wanted:
            load_zones(dns_cfg, base)
        await self._stop_dns()
        if dns_cfg is not None and wanted:
            self.dns = await start_updater(dns_cfg, cfg.leases.store, base)
            self.bus.subscribe(self.dns)

    async def _stop_dns(self) -> None:
        dns, self.dns = self.dns, None
        if dns is not None:
            self.bus.unsubscribe(dns)
            await dns.close()

    def _dns_stats(self) -> dict[str, Any] | None:
        return self.dns.stats() if self.dns is not None else None

    def _flush_inline(self) -> bool:
        return self.commits is not None and self.commits.flush_inline(self.stats4)

    def _reap_interval(self) -> float:
        return float(self.config.leases.reap_interval)

    async def _open_endpoints(self, store: LeaseStore) -> None:
        cfg = self.config
        assert self.loop is not None and self.commits is not None
        self.host = host_info(cfg.server.interfaces)
        v6 = bool(cfg.subnet6) or serves_v6_bridge(cfg)
        if v6:
            missing = missing_interfaces(interfaces6(cfg))
            if missing:
                raise StartError(f"server6 interfaces not found: {', '.join(missing)}")
            self.host6 = host_info6(interfaces6(cfg))
        try:
            sources, engine4, engine6 = build_engines(
                cfg, store, self.host, self.host6, self.stats, serves_v4(cfg), v6
            )
        except AssemblyError as exc:
            raise StartError("\n".join(exc.errors)) from None
        fds = self.worker.fds if self.worker is not None else {}
        if engine4 is not None:
            try:
                sock4 = Udp4Socket(
                    str(cfg.server.address), cfg.server.port, cfg.server.receive_buffer, fds.get("v4", -1)
                )
            except OSError as exc:
                raise StartError(
                    f"cannot listen on {cfg.server.address}:{cfg.server.port}: {in_use(exc)}"
                ) from None
            self._raw = raw = RawSender.open() if cfg.server.raw_socket else None
            self._add_endpoint("v4", sock4, engine4, Sender4(sock4, raw), is_nak4)
        if engine6 is not None:
            s6 = cfg.server6
            try:
                sock6 = Udp6Socket(
                    str(s6.address),
                    s6.port,
                    interfaces6(cfg),
                    cfg.server.receive_buffer,
                    fds.get("v6", -1),
                    multicast=s6.multicast,
                )
            except OSError as exc:
                raise StartError(f"cannot listen on [{s6.address}]:{s6.port}: {in_use(exc)}") from None
            for name, why in sock6.not_joined.items():
                log.warning(
                    "no DHCPv6 multicast on this interface (relayed traffic only)", interface=name, error=why
                )
            self._add_endpoint("v6", sock6, engine6, Sender6(sock6))
        await self._adopt_sources(sources)
        apply_limits(self)  # issue 9 (bounds): size caps, rate limits, pending bound, log queue
        apply_glass(self)  # issue 12: the looking glass
        for endpoint in self.endpoints.values():
            self.loop.add_reader(endpoint.sock.fileno(), endpoint.on_readable)
            self._stack.callback(self.loop.remove_reader, endpoint.sock.fileno())

    def _add_endpoint(
        self, family: str, sock: Any, engine: Any, send: Any, is_nak: Callable[[Any], bool] | None = None
    ) -> None:
        assert self.commits is not None
        endpoint = Endpoint(
            family, sock, engine, send, self.stats[family], self.commits, self.tasks, self.bus.emit
        )  # the bus's own emit (the bus never changes): no interpreted call per lease event
        if is_nak is not None:
            endpoint.is_nak = is_nak
        endpoint.inline = self._all_in_process(engine)
        self.endpoints[family] = endpoint

    async def _adopt_sources(self, sources: Any) -> None:
        """Start sources that have a life cycle (the HTTP bridge's connection pool) and subscribe
        those that want lease events; sources of a replaced config are unsubscribed and closed
        (one kept by a reload stays as it is, cache included). Other listeners of the bus stay.
        ``sources``: (key, source) pairs from ``build_engines``, or plain sources."""
        old = self.sources
        pairs = [item if isinstance(item, tuple) else (str(id(item)), item) for item in sources]
        self._source_keys = dict(pairs)
        self.sources = [source for _, source in pairs]
        for source in self.sources:
            if isinstance(source, Startable):
                await source.start()
        for source in old:
            if source not in self.sources:
                if isinstance(source, LeaseListener):
                    self.bus.unsubscribe(source)
                if isinstance(source, Closable):
                    self.tasks.spawn(source.close())
        for source in self.sources:
            if isinstance(source, LeaseListener) and source not in old:
                self.bus.subscribe(source)

    async def _close_sources(self) -> None:
        sources, self.sources = self.sources, []
        self._source_keys = {}
        for source in sources:
            if isinstance(source, LeaseListener):
                self.bus.unsubscribe(source)
            if isinstance(source, Closable):
                await source.close()

    async def _close_endpoints(self) -> None:
        for endpoint in self.endpoints.values():
            endpoint.sock.close()
        self.endpoints = {}
        if self._raw is not None:
            self._raw.close()
            self._raw = None

    @staticmethod
    async def _close_store(store: LeaseStore) -> None:
        try:
            await store.close()
        except StoreError as exc:
            log.error("lease store close failed", error=str(exc))

    @staticmethod
    def _all_in_process(engine: Any) -> bool:
        """True when nothing the engine awaits can suspend (in-process store and sources, no
        asynchronous user handlers): then packets are processed inline, without tasks."""
        env = engine.env
        return is_inline(env.store) and bool(env.sources.sync) and not engine.extra_async

    def source_stats(self) -> dict[str, Any]:
        return {s.name: s.stats() for s in self.sources if isinstance(s, HasStats)}

    def lease_counts(self) -> dict[str, int]:
        store = self.store
        return store.count_by_state() if isinstance(store, CountsLeases) else {}

    async def snapshot_all(self) -> dict[str, Any]:
        """:meth:`snapshot`, or in a worker of ``[server] workers`` the sum over every worker."""
        if self.worker is None or self.worker.count < 2:
            return self.snapshot()
        from dhcpbridge.server.worker_stats import gather

        own = (self.worker.index, self.snapshot())
        return await gather(own, self.worker.siblings(), self.worker.count)

    def snapshot(self) -> dict[str, Any]:
        """Every counter: per family, lease records by state, per source, the event bus."""
        return {
            **{name: s.snapshot() for name, s in self.stats.items()},
            "leases": self.lease_counts(),
            "sources": self.source_stats(),
            "events": self.bus.stats(),
            **({"dns": self.dns.stats()} if self.dns is not None else {}),
            **({"looking_glass": self.glass.stats()} if self.glass is not None else {}),
        }

    async def stop(self) -> None:
        """Stop serving: the add-ons end, the readers go, waiting replies are committed and sent,
        tasks finish (or are cancelled), then sockets, sources and the store close."""
        await self._stack.aclose()
        log.info("stopped", stats={name: s.snapshot() for name, s in self.stats.items()})

    async def run(self) -> None:
        """Start, then serve until SIGTERM/SIGINT; SIGHUP reloads, SIGUSR1 reopens the log file.

        The handlers are in place before the sockets open: a SIGHUP that arrives while the server
        starts (its ports already answer) is a reload once it has started, not the default
        action that would end the process; SIGTERM/SIGINT then stop it right after the start."""
        loop = asyncio.get_running_loop()
        stop = self._stop = asyncio.Event()
        started = False
        reload_asked = False

        def on_hup() -> None:
            nonlocal reload_asked
            logs.reopen()  # after logrotate moved [server] log-file
            if started:
                self.spawn(self._reload_here())
            else:
                reload_asked = True

        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, on_hup)
        loop.add_signal_handler(signal.SIGUSR1, logs.reopen_signalled)  # log file only
        try:
            await self.start()
            started = True
            if self.worker is not None:
                self.worker.started()
            if reload_asked:
                self.spawn(self._reload_here())
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
                loop.remove_signal_handler(sig)
            if started:
                log.info("stopping")
                await self.stop()

    async def reload(self) -> list[str]:
        """Re-read the config file; on any error keep serving with the old one. In a worker the
        supervisor is asked (SIGHUP) once the file is valid, so that every worker reloads."""
        if self.worker is None or self.config_path is None:
            return await self._reload_here()
        try:
            load(self.config_path)
        except ConfigError as exc:
            log.error("reload rejected; still serving the previous config", errors=exc.errors)
            return exc.errors
        os.kill(self.worker.parent, signal.SIGHUP)
        return []

    async def _reload_here(self) -> list[str]:
        """Re-read the config file in this process; on any error keep serving with the old one."""
        if self.config_path is None or self.store is None:
            return ["no config file to reload"]
        v4, v6 = "v4" in self.endpoints, "v6" in self.endpoints
        try:
            new = load(self.config_path)
            missing = missing_interfaces(new.server.interfaces)
            if missing:
                raise ConfigError(
                    str(self.config_path), [f"server.interfaces: not found: {', '.join(missing)}"]
                )
            host = host_info(new.server.interfaces)
            host6 = host_info6(interfaces6(new)) if v6 else self.host6
            sources, engine4, engine6 = build_engines(
                new, self.store, host, host6, self.stats, v4, v6, self._source_keys
            )
        except (ConfigError, AssemblyError) as exc:
            log.error("reload rejected; still serving the previous config", errors=exc.errors)
            return exc.errors
        if new.dns != self.config.dns:  # [dns] applies now: the updater is replaced
            from dhcpbridge.dns.updater import DnsSetupError

            try:
                await self._switch_dns(new)
            except DnsSetupError as exc:
                log.error("reload rejected; still serving the previous config", errors=[str(exc)])
                if self.dns is None:  # it stopped before the new one failed: the old one again
                    with contextlib.suppress(DnsSetupError):
                        await self._switch_dns(self.config)
                return [str(exc)]
        notes = restart_notes(self.config, new, v4, v6)
        self.config = new
        self.host = host
        self.host6 = host6
        await self._adopt_sources(sources)
        for name, engine in (("v4", engine4), ("v6", engine6)):
            endpoint = self.endpoints.get(name)
            if endpoint is not None and engine is not None:
                endpoint.engine = engine
                endpoint.inline = self._all_in_process(engine)
        apply_limits(self)  # issue 9 (bounds)
        apply_glass(self)  # issue 12: the looking glass
        log.info(
            "reloaded",
            subnets4=subnet_names(engine4),
            subnets6=subnet_names(engine6),
            notes=notes,
        )
        return []
