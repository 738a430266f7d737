"""The running server: sockets on the event loop, the engine, the store, signals and reload.

Per wake-up of the v4 socket: drain up to ``BATCH`` datagrams, run each through the engine, make
the batch's lease changes durable with one ``flush``, then send the replies — an ACK never leaves
before its lease is committed. When the store and every source work in-process, the engine's
coroutines finish without suspending and are driven inline (no task per packet); otherwise each
packet runs as a task and flushes are shared by everything that finished in the same loop turn.
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
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from dhcpbridge import logs
from dhcpbridge.assemble import AssemblyError, build_engine4
from dhcpbridge.config import Config, ConfigError, load
from dhcpbridge.engine.model import LeaseEvent, LeaseState
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4, Outcome4
from dhcpbridge.engine.v4.transaction import BROADCAST, HostInfo, Meta4
from dhcpbridge.io.host import host_info, missing_interfaces
from dhcpbridge.io.rawl2 import RawSender
from dhcpbridge.io.udp4 import Udp4Socket
from dhcpbridge.leases import IndexedStore, StoreError, open_store
from dhcpbridge.wire.options4 import MESSAGE_NAMES
from dhcpbridge.wire.v4 import ip4_str

BATCH = 128
DROP_LOG_BURST = 10  # per reason and window at info level
DROP_LOG_WINDOW = 10.0
T = TypeVar("T")
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


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Drive a coroutine that is known not to suspend; raise if it does."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError("an in-process coroutine suspended")


class DropLog:
    """Logs drops: every one at debug level; at most a burst per reason and window at info."""

    def __init__(self) -> None:
        self.window_start = 0.0
        self.counts: dict[str, int] = {}

    def __call__(self, now: float, outcome: Outcome4, meta: Meta4) -> None:
        reason = outcome.drop_reason or "?"
        tx = outcome.tx
        fields: dict[str, Any] = {
            "reason": reason,
            "detail": outcome.drop_detail,
            "src": f"{ip4_str(meta.src_ip)}:{meta.src_port}",
            "interface": meta.ifname,
        }
        if tx is not None:
            fields["client"] = tx.request.mac.hex(":")
            fields["type"] = MESSAGE_NAMES.get(tx.msg_type_code, "BOOTP")
        if logs.debug_enabled():
            log.debug("drop", **fields)
            return
        if now - self.window_start > DROP_LOG_WINDOW:
            suppressed = {k: v - DROP_LOG_BURST for k, v in self.counts.items() if v > DROP_LOG_BURST}
            if suppressed:
                log.info("drops suppressed", window_s=DROP_LOG_WINDOW, counts=suppressed)
            self.window_start = now
            self.counts = {}
        seen = self.counts.get(reason, 0) + 1
        self.counts[reason] = seen
        if seen <= DROP_LOG_BURST:
            log.info("drop", **fields)


class Server:
    """One dhcpbridge server process (v4 today); ``start``/``stop`` or ``run`` until a signal."""

    def __init__(self, config: Config, config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.stats4 = Stats()
        self.store: IndexedStore | None = None
        self.engine4: Engine4 | None = None
        self.sock4: Udp4Socket | None = None
        self.raw: RawSender | None = None
        self.host: HostInfo = HostInfo.build({})
        self.inline = True
        self.drop_log = DropLog()
        self._stopped = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._flush_waiters: list[asyncio.Future[None]] = []
        self._flush_scheduled = False
        self._reaper: asyncio.Task[None] | None = None
        self._control: Any = None
        self._metrics_runner: Any = None
        self.listeners: list[Any] = []  # callables(LeaseEvent) for DNS, the bridge, the looking glass
        self.loop: asyncio.AbstractEventLoop | None = None

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
        self.host = host_info(cfg.server.interfaces)
        try:
            self.engine4 = build_engine4(cfg, self.store, self.host, self.stats4)
        except AssemblyError as exc:
            await self.store.close()
            raise StartError("\n".join(exc.errors)) from None
        self.inline = self._all_in_process(self.engine4)
        try:
            self.sock4 = Udp4Socket(str(cfg.server.address), cfg.server.port, cfg.server.receive_buffer)
        except OSError as exc:
            await self.store.close()
            raise StartError(
                f"cannot listen on {cfg.server.address}:{cfg.server.port}: {exc.strerror or exc}"
            ) from None
        if cfg.server.raw_socket:
            self.raw = RawSender.open()
        self.loop.add_reader(self.sock4.fileno(), self._on_readable4)
        self._reaper = self.loop.create_task(self._reap_forever())
        if cfg.server.control_socket:
            from dhcpbridge.control import ControlServer

            self._control = ControlServer(self, cfg.resolve_path(cfg.server.control_socket))
            await self._control.start()
        if cfg.server.metrics:
            await self._start_metrics(cfg.server.metrics)
        leases = len(await self.store.leases())
        tune_gc()
        log.info(
            "serving",
            address=f"{cfg.server.address}:{self.sock4.port}",
            interfaces=cfg.server.interfaces or "all",
            subnets=[s.name for s in self.engine4.env.subnets.subnets],
            store=cfg.leases.store,
            leases=leases,
            receive_buffer=self.sock4.receive_buffer,
            raw_unicast=self.raw is not None,
            mode="inline" if self.inline else "tasks",
        )

    @staticmethod
    def _all_in_process(engine: Engine4) -> bool:
        """True when nothing the engine awaits can suspend (in-process store and sources, no
        asynchronous user handlers): then packets are processed inline, without tasks."""
        env = engine.env
        return (
            isinstance(env.store, IndexedStore)
            and all(getattr(s, "in_process", False) for s in env.sources.sources)
            and not engine.extra_async
        )

    async def _start_metrics(self, listen: str) -> None:
        from aiohttp import web
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from dhcpbridge.metrics import registry_for

        registry = registry_for({"v4": self.stats4}, self._lease_counts)

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

    def _lease_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        if self.store is not None:
            for lease in self.store.index.all():
                name = lease.state.name.lower()
                counts[name] = counts.get(name, 0) + 1
        return counts

    async def stop(self) -> None:
        if self.loop is not None and self.sock4 is not None:
            self.loop.remove_reader(self.sock4.fileno())
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        if self._control is not None:
            await self._control.stop()
        if self._metrics_runner is not None:
            await self._metrics_runner.cleanup()
        if self.sock4 is not None:
            self.sock4.close()
        if self.raw is not None:
            self.raw.close()
        if self.store is not None:
            try:
                await self.store.close()
            except StoreError as exc:
                log.error("lease store close failed", error=str(exc))
        log.info("stopped", stats=self.stats4.snapshot())
        self._stopped.set()

    async def run(self) -> None:
        """Start, then serve until SIGTERM/SIGINT; SIGHUP reloads."""
        await self.start()
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self._spawn(self.reload()))
        try:
            await stop.wait()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            log.info("stopping")
            await self.stop()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
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
            engine = build_engine4(new, self.store, host_info(new.server.interfaces), self.stats4)
        except ConfigError as exc:
            log.error("reload rejected; still serving the previous config", errors=exc.errors)
            return exc.errors
        except AssemblyError as exc:
            log.error("reload rejected; still serving the previous config", errors=exc.errors)
            return exc.errors
        notes = []
        old = self.config
        if new.leases.store != old.leases.store:
            notes.append("leases.store changed: takes effect after a restart")
        if (new.server.address, new.server.port) != (old.server.address, old.server.port):
            notes.append("server address/port changed: takes effect after a restart")
        self.config = new
        self.host = engine.env.host
        self.engine4 = engine
        self.inline = self._all_in_process(engine)
        log.info("reloaded", subnets=[s.name for s in engine.env.subnets.subnets], notes=notes)
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
                    self._emit(LeaseEvent("expire", lease))

    # --- the hot path -----------------------------------------------------------------------
    def _on_readable4(self) -> None:
        """Drain, process, commit once, send. Replies that need no commit (OFFER, NAK) go out at
        once; those that do wait for the batch's flush. Draining again after each round lets the
        batch grow exactly when the server is busy, so commits are amortised under load and
        immediate when idle."""
        sock, engine = self.sock4, self.engine4
        assert sock is not None and engine is not None
        batch = sock.receive(BATCH)
        if not batch:
            return
        now = time.time()
        if not self.inline:
            for data, meta in batch:
                self._spawn(self._one(engine, data, meta, now))
            return
        waiting: list[tuple[Outcome4, Meta4]] = []
        handled = 0
        while batch:
            for data, meta in batch:
                try:
                    outcome = run_inline(engine.process(data, meta, now))
                except Exception:
                    self.stats4.errors["engine"] += 1
                    log.exception("engine failure", src=ip4_str(meta.src_ip), interface=meta.ifname)
                    continue
                tx = outcome.tx
                if tx is not None and tx.effects:
                    waiting.append((outcome, meta))
                else:
                    self._finish(outcome, meta, now, True)
            handled += len(batch)
            if handled >= BATCH or not waiting:
                break
            batch = sock.receive(BATCH - handled)
            now = time.time()
        if waiting:
            committed = self._flush_inline()
            for outcome, meta in waiting:
                self._finish(outcome, meta, now, committed)

    def _flush_inline(self) -> bool:
        assert self.store is not None
        try:
            run_inline(self.store.flush())
        except StoreError as exc:
            self.stats4.errors["store"] += 1
            log.error("lease store commit failed; withholding ACKs", error=str(exc))
            return False
        return True

    async def _one(self, engine: Engine4, data: bytes, meta: Meta4, now: float) -> None:
        try:
            outcome = await engine.process(data, meta, now)
        except Exception:
            self.stats4.errors["engine"] += 1
            log.exception("engine failure", src=ip4_str(meta.src_ip), interface=meta.ifname)
            return
        committed = await self._flush_shared() if outcome.tx is not None and outcome.tx.effects else True
        self._finish(outcome, meta, now, committed)

    async def _flush_shared(self) -> bool:
        """Flush once for every packet that reaches this point in the same loop turn."""
        assert self.loop is not None
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._flush_waiters.append(waiter)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._spawn, self._flush_now())
        try:
            await waiter
        except StoreError:
            return False
        return True

    async def _flush_now(self) -> None:
        assert self.store is not None
        self._flush_scheduled = False
        waiters, self._flush_waiters = self._flush_waiters, []
        try:
            await self.store.flush()
        except StoreError as exc:
            self.stats4.errors["store"] += 1
            log.error("lease store commit failed; withholding ACKs", error=str(exc))
            for w in waiters:
                if not w.done():
                    w.set_exception(exc)
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)

    def _finish(self, outcome: Outcome4, meta: Meta4, now: float, committed: bool) -> None:
        tx = outcome.tx
        if outcome.data is None:
            if outcome.drop_reason is not None:
                self.drop_log(now, outcome, meta)
            if tx is not None and tx.effects and committed:
                for event in tx.effects:
                    self._emit(event)
            return
        assert tx is not None
        if tx.effects and not committed:
            self.stats4.drops["store-unavailable"] += 1
            return
        try:
            self._send4(outcome, meta)
        except OSError as exc:
            self.stats4.errors["send"] += 1
            log.warning("send failed", dest=ip4_str(tx.dest_ip), error=exc.strerror or str(exc))
            return
        if tx.reply_type == 6:  # NAK: worth a line even at info level
            log.info("nak", client=tx.request.mac.hex(":"), state=tx.state, why=tx.drop_detail)
        elif logs.debug_enabled():
            log.debug(
                "reply",
                type=MESSAGE_NAMES.get(tx.reply_type),
                client=tx.request.mac.hex(":"),
                yiaddr=ip4_str(tx.reply.yiaddr) if tx.reply else "",
                dest=f"{ip4_str(tx.dest_ip)}:{tx.dest_port}",
            )
        for event in tx.effects:
            self._emit(event)

    def _send4(self, outcome: Outcome4, meta: Meta4) -> None:
        tx = outcome.tx
        sock = self.sock4
        assert tx is not None and outcome.data is not None and sock is not None
        source = meta.local_ip if meta.local_ip and meta.local_ip != BROADCAST else tx.server_id
        if tx.dest_l2:
            req = tx.request
            if self.raw is not None and req.htype == 1 and req.hlen == 6 and meta.ifindex:
                self.raw.send(
                    meta.ifname,
                    req.chaddr[:6],
                    tx.server_id,
                    tx.dest_ip,
                    self.sock4_port,
                    tx.dest_port,
                    outcome.data,
                )
                return
            sock.send(outcome.data, BROADCAST, tx.dest_port, meta.ifindex, source)
        elif tx.dest_ip == BROADCAST:
            sock.send(outcome.data, BROADCAST, tx.dest_port, meta.ifindex, source)
        else:
            sock.send(outcome.data, tx.dest_ip, tx.dest_port, 0, source)

    @property
    def sock4_port(self) -> int:
        return self.sock4.port if self.sock4 is not None else 67

    def _emit(self, event: LeaseEvent) -> None:
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


async def serve(config_path: Path) -> int:
    """``dhcpbridge serve``: returns the process exit status."""
    try:
        config = load(config_path)
    except ConfigError as exc:
        log.error("invalid config", file=str(config_path), errors=exc.errors)
        return 2
    logs.configure(config.server.log_level, config.server.log_format)
    server = Server(config, config_path)
    try:
        await server.run()
    except StartError as exc:
        log.error("cannot start", error=str(exc))
        return 1
    return 0
