"""``[server] workers = N``: one supervisor process and N worker processes on one shared store.

The supervisor binds the DHCP sockets once (exclusively: another server on the port is a start
error) and starts N workers that inherit them: every datagram is read by exactly one worker,
whichever is free first. (Not ``SO_REUSEPORT``: the kernel hashes a reuseport group by the
sender's address and port, so all the traffic of one relay agent would land on one worker, and it
copies every broadcast and multicast datagram to *each* socket of the group, so a directly
attached client would get N OFFERs.)

Each worker is an ordinary ``dhcpbridge serve`` (``server.lifecycle.Server``) told its role by
``server.worker_role``; the store must be shared (``leases.base.is_shared``: Redis, PostgreSQL),
SQLite and memory are refused at start. Worker 0 also serves the control socket and the
management API (the leases are in the shared store, so any worker sees them all); the supervisor
serves the one ``/metrics`` and ``/healthz`` (``server.aggregate``).

Signals: SIGTERM/SIGINT stop every worker (SIGTERM, then SIGKILL after ``STOP_TIMEOUT``) and then
the supervisor; SIGHUP checks the config and forwards the reload to every worker. A worker that
exits is started again (backoff from 1 s up to 30 s); one that cannot start at all at the first
launch (it exits before it says on its readiness pipe that it serves) stops the supervisor with
exit status 1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dhcpbridge import logs
from dhcpbridge.config import Config, ConfigError, load
from dhcpbridge.io.host import missing_interfaces
from dhcpbridge.io.udp4 import Udp4Socket
from dhcpbridge.io.udp6 import Udp6Socket
from dhcpbridge.leases.base import StoreError, is_shared
from dhcpbridge.leases.registry import open_store
from dhcpbridge.server import aggregate
from dhcpbridge.server.errors import StartError, in_use
from dhcpbridge.server.reload import interfaces6, serves_v4
from dhcpbridge.server.worker_role import ENV, WorkerRole

# How a worker is started: this Python running dhcpbridge's CLI. A program that registers its own
# stores or sources before calling the CLI sets this to itself, so its workers have them too.
PROGRAM: list[str] = [sys.executable, "-m", "dhcpbridge"]
STOP_TIMEOUT = 30.0
BACKOFF_MAX = 30.0
log = logs.get("dhcpbridge")


async def require_shared_store(config: Config) -> None:
    """``StartError`` unless ``[leases] store`` is one several processes may write at once."""
    workers = config.server.workers
    try:
        store = open_store(config.leases.store, str(config.resolve_path(".")), readonly=False)
    except StoreError as exc:
        raise StartError(f"lease store: {exc}") from None
    try:
        shared = is_shared(store)
    finally:
        try:
            await store.close()
        except StoreError:
            pass
    if not shared:
        raise StartError(
            f"server.workers = {workers} needs a shared lease store (redis://, postgresql://); "
            f"{logs.redact_url(config.leases.store)!r} has a single writer: use workers = 1"
        )


def bind_sockets(config: Config) -> dict[str, Any]:
    """The DHCP sockets every worker shares, by family; ``StartError`` when one cannot be bound."""
    socks: dict[str, Any] = {}
    server = config.server
    try:
        if serves_v4(config):
            try:
                socks["v4"] = Udp4Socket(str(server.address), server.port, server.receive_buffer)
            except OSError as exc:
                raise StartError(f"cannot listen on {server.address}:{server.port}: {in_use(exc)}") from None
        if config.subnet6:
            missing = missing_interfaces(interfaces6(config))
            if missing:
                raise StartError(f"server6 interfaces not found: {', '.join(missing)}")
            s6 = config.server6
            try:
                socks["v6"] = Udp6Socket(
                    str(s6.address),
                    s6.port,
                    interfaces6(config),
                    server.receive_buffer,
                    multicast=s6.multicast,
                )
            except OSError as exc:
                raise StartError(f"cannot listen on [{s6.address}]:{s6.port}: {in_use(exc)}") from None
    except BaseException:
        for sock in socks.values():
            sock.close()
        raise
    return socks


class Worker:
    """One worker slot: its process (None while it does not run) and its restart history."""

    def __init__(self, index: int, metrics: str | None) -> None:
        self.index = index
        self.metrics = metrics
        self.process: asyncio.subprocess.Process | None = None
        self.started = 0.0
        self.launches = 0
        self.backoff = 1.0
        self.ready = False  # the running process said it serves (its signal handlers are in place)
        self.reload_pending = False  # a SIGHUP came while it was starting: forward it once ready

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.returncode is None else None


class Supervisor:
    """See the module docstring. ``args``: what each worker's ``serve`` gets besides ``--config``
    (``--log-format``, ``--log-level``)."""

    def __init__(self, config: Config, config_path: Path, args: Sequence[str] = ()) -> None:
        self.config = config
        self.config_path = config_path
        self.args = list(args)
        self.workers: list[Worker] = []
        self.socks: dict[str, Any] = {}
        self.exit_code = 0
        self._stop = asyncio.Event()
        self._stopping = False
        self._rundir: str | None = None

    def pids(self) -> list[int | None]:
        return [w.pid for w in self.workers]

    async def run(self) -> int:
        """Start the workers and supervise them until a stop signal; returns the exit status."""
        cfg = self.config
        await require_shared_store(cfg)
        self.socks = bind_sockets(cfg)
        loop = asyncio.get_running_loop()
        runner = None
        tasks: list[asyncio.Task[None]] = []
        try:
            self._rundir = tempfile.mkdtemp(prefix="dhcpbridge-workers-")
            self.workers = [Worker(i, f"{self._rundir}/worker-{i}.sock") for i in range(cfg.server.workers)]
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._stop.set)
            loop.add_signal_handler(signal.SIGHUP, self.reload)
            loop.add_signal_handler(signal.SIGUSR1, self.reopen_logs)
            if cfg.server.metrics:
                runner = await aggregate.serve(cfg.server.metrics, self.metric_targets)
            tasks = [asyncio.create_task(self._keep(w)) for w in self.workers]
            log.info(
                "supervising",
                workers=len(self.workers),
                ports={name: s.port for name, s in self.socks.items()},
                store=logs.redact_url(cfg.leases.store),
                metrics=cfg.server.metrics,
            )
            await self._stop.wait()
        finally:
            self._stopping = True
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
                loop.remove_signal_handler(sig)
            await self._stop_workers()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if runner is not None:
                await runner.cleanup()
            for sock in self.socks.values():
                sock.close()
            if self._rundir is not None:
                shutil.rmtree(self._rundir, ignore_errors=True)
        log.info("stopped", workers=len(self.workers), exit_code=self.exit_code)
        return self.exit_code

    def metric_targets(self) -> list[aggregate.Worker]:
        """(index, metrics socket) of each worker; None for one that does not serve (yet)."""
        return [(w.index, w.metrics if w.pid is not None and w.ready else None) for w in self.workers]

    async def _launch(self, worker: Worker) -> tuple[asyncio.subprocess.Process, int]:
        """Start ``worker``; returns its process and the read end of its readiness pipe."""
        fds = {name: sock.fileno() for name, sock in self.socks.items()}
        ready_r, ready_w = os.pipe()
        peers = tuple(w.metrics or "" for w in self.workers)
        role = WorkerRole(worker.index, len(self.workers), os.getpid(), fds, worker.metrics, ready_w, peers)
        env = {**os.environ, ENV: role.to_env()}
        command = [*PROGRAM, "serve", "--config", str(self.config_path), *self.args]
        worker.started = time.monotonic()
        worker.launches += 1
        try:
            process = await asyncio.create_subprocess_exec(
                *command, env=env, pass_fds=(*fds.values(), ready_w)
            )
        except BaseException:
            os.close(ready_r)
            raise
        finally:
            os.close(ready_w)
        return process, ready_r

    @staticmethod
    def _watch_ready(worker: Worker, ready_r: int) -> None:
        """``worker.ready`` turns True when the worker writes its byte on the readiness pipe."""
        loop = asyncio.get_running_loop()

        def readable() -> None:
            loop.remove_reader(ready_r)
            try:
                worker.ready = os.read(ready_r, 1) == b"1"
            except OSError:
                pass
            process = worker.process
            if worker.ready and worker.reload_pending and process is not None and process.returncode is None:
                worker.reload_pending = False
                process.send_signal(signal.SIGHUP)

        worker.ready = False
        worker.reload_pending = False
        loop.add_reader(ready_r, readable)

    @staticmethod
    def _unwatch_ready(worker: Worker, ready_r: int) -> None:
        """After the worker exited: read what it said, if the reader has not yet (never blocks:
        the write end is closed), and close the pipe."""
        asyncio.get_running_loop().remove_reader(ready_r)
        try:
            if not worker.ready:
                worker.ready = os.read(ready_r, 1) == b"1"
        except OSError:
            pass
        finally:
            os.close(ready_r)

    async def _keep(self, worker: Worker) -> None:
        """Run ``worker``, start it again whenever it exits (until the supervisor stops)."""
        while not self._stopping:
            try:
                worker.process, ready_r = await self._launch(worker)
            except OSError as exc:
                log.error("cannot start a worker; stopping", worker=worker.index, error=str(exc))
                self.exit_code = 1
                self._stop.set()
                return
            self._watch_ready(worker, ready_r)
            log.info("worker started", worker=worker.index, pid=worker.process.pid)
            try:
                code = await worker.process.wait()
            finally:
                self._unwatch_ready(worker, ready_r)
            served, worker.ready = worker.ready, False
            if self._stopping:
                return
            ran = time.monotonic() - worker.started
            if worker.launches == 1 and not served:
                log.error("worker could not start; stopping", worker=worker.index, exit_code=code)
                self.exit_code = 1
                self._stop.set()
                return
            if ran > BACKOFF_MAX:
                worker.backoff = 1.0
            log.warning(
                "worker exited; restarting", worker=worker.index, exit_code=code, after_s=worker.backoff
            )
            await asyncio.sleep(worker.backoff)
            worker.backoff = min(worker.backoff * 2, BACKOFF_MAX)

    async def _stop_workers(self) -> None:
        running = [w.process for w in self.workers if w.process is not None and w.process.returncode is None]
        for process in running:
            try:
                process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in running)), STOP_TIMEOUT)
        except TimeoutError:
            for process in running:
                if process.returncode is None:
                    log.error("worker did not stop; killing it", pid=process.pid)
                    process.kill()
            await asyncio.gather(*(p.wait() for p in running))

    def reopen_logs(self) -> None:
        """SIGUSR1: reopen the log file here and in every worker that serves (one still starting
        opens it anew; the signal before its handler is in place would end it)."""
        logs.reopen_signalled()
        for worker in self.workers:
            if worker.process is not None and worker.process.returncode is None and worker.ready:
                with contextlib.suppress(ProcessLookupError):
                    worker.process.send_signal(signal.SIGUSR1)

    def reload(self) -> None:
        """SIGHUP: check the config, then have every worker reload it (each keeps serving the old
        one if it cannot use the new). The number of workers changes only at a restart."""
        logs.reopen()  # after logrotate moved [server] log-file (each worker reopens its own)
        try:
            new = load(self.config_path)
        except ConfigError as exc:
            log.error("reload rejected; still serving the previous config", errors=exc.errors)
            return
        if new.server.workers != len(self.workers):
            log.warning(
                "server.workers changed: takes effect at the next restart", workers=new.server.workers
            )
        forwarded = 0
        for worker in self.workers:
            # one that is still starting gets it once it serves: a SIGHUP before its handler is
            # in place would end it
            if worker.process is None or worker.process.returncode is not None:
                continue
            if not worker.ready:
                worker.reload_pending = True
                continue
            try:
                worker.process.send_signal(signal.SIGHUP)
                forwarded += 1
            except ProcessLookupError:
                pass
        log.info("reload forwarded", workers=forwarded)
