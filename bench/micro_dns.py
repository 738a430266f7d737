"""Micro-benchmark of the DNS updater's cost to the server: CPU µs per DORA with ``[dns]`` on and
off, in one process, without DHCP sockets.

A paced "packet path" (a task on the event loop) runs DORAs through the real DHCPv4 engine with a
SQLite store, flushes, and hands the lease events to the server's event bus, ``--rate`` DORAs a
second in batches of ``--batch``; with ``--dns`` the DNS updater listens on the bus and sends A,
PTR and DHCID updates to a BIND 9 this script starts on 127.0.0.1 (a free port). CPU is the
process's (every thread: the queue's SQLite thread too) from the first DORA until the updater's
backlog is empty; the wall clock of the load is the same both ways, so the difference is what the
updater costs per lease. ``--profile FILE`` writes a cProfile of the main thread.

Run: .venv/bin/python bench/micro_dns.py [--clients N] [--rate R] [--batch B] [--dns|--both]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from micro_engine4 import CONFIG, META, perfdhcp_like, release

from dhcpbridge.assemble import build_engine4
from dhcpbridge.config import loader
from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns import updater as updater_module
from dhcpbridge.dns.queue import UpdateQueue
from dhcpbridge.dns.updater import DnsUpdater, load_zones, start_updater
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo
from dhcpbridge.engine.stats import Stats
from dhcpbridge.events import EventBus
from dhcpbridge.leases import open_store
from dhcpbridge.server import tune_gc
from dhcpbridge.testing.bind import BindServer, free_port
from dhcpbridge.wire.v4.message import ip4_int, parse

ZONES = ["bench.test", "68.10.in-addr.arpa"]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def thread_cpu() -> dict[str, float]:
    """CPU seconds per thread of this process, by thread name (Linux)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[f"{name}-{task.name}"] = (int(fields[11]) + int(fields[12])) / tick
    return out


def dns_config(port: int, key: Path, batch_size: int) -> DnsConfig:
    zones = [{"name": z, "server": "127.0.0.1", "port": port, "key-file": str(key)} for z in ZONES]
    return DnsConfig.model_validate(
        {"zone": zones, "generated-prefix": "dhcp", "queue": "dns-queue.sqlite", "batch-size": batch_size}
    )


async def drive(args: argparse.Namespace, workdir: Path, dns: DnsConfig | None) -> dict[str, Any]:
    cfg = loader.from_dict({**CONFIG, **({"dns": dns.model_dump(by_alias=True)} if dns else {})})
    store = open_store(f"sqlite:///{workdir / 'leases.db'}")
    engine = build_engine4(cfg, store, HostInfo.build({"srv1": (ip4_int("10.68.0.1"),)}), Stats())
    bus = EventBus()
    bus.bind(asyncio.get_running_loop())
    updater: DnsUpdater | None = None
    if dns is not None:
        if args.no_send:

            async def nothing_sent(msg: Any, zone: Any) -> int:
                return 0  # NOERROR: the updater's own work, without the network and BIND

            updater = DnsUpdater(
                dns, load_zones(dns, workdir), UpdateQueue(workdir / "q.sqlite"), nothing_sent
            )
            await updater.start()
        else:
            updater = await start_updater(dns, "memory://", workdir)
        bus.subscribe(updater)
    discovers = [perfdhcp_like(1, i + 1) for i in range(args.clients)]
    tune_gc()
    tick = args.batch / args.rate
    profile = cProfile.Profile() if args.profile else None
    cpu0, wall0 = cpu_seconds(), time.monotonic()
    if profile:
        profile.enable()
    for n, base in enumerate(range(0, args.clients, args.batch)):
        now = time.time()
        offered = [run_inline(engine.process(d, META, now)) for d in discovers[base : base + args.batch]]
        requests = []
        for i, outcome in enumerate(offered):
            assert outcome.data is not None
            offer = parse(outcome.data)
            requests.append(
                perfdhcp_like(3, base + i + 1, {50: offer.yiaddr.to_bytes(4, "big"), 54: offer.options[54]})
            )
        acks = [run_inline(engine.process(r, META, now)) for r in requests]
        run_inline(store.flush())
        for ack in acks:
            for event in ack.effects:
                bus.emit(event)
        release(offered, acks)
        await asyncio.sleep(max(0.0, wall0 + (n + 1) * tick - time.monotonic()))
    load_wall = time.monotonic() - wall0
    load_cpu = cpu_seconds() - cpu0
    while updater is not None and updater.jobs and time.monotonic() - wall0 < args.clients / args.rate + 60:
        await asyncio.sleep(0.01)
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    total_cpu = cpu_seconds() - cpu0
    threads = {k: round(v / args.clients * 1e6, 1) for k, v in thread_cpu().items() if v}
    stats = updater.stats() if updater is not None else {}
    if updater is not None:
        await updater.close()
    await store.close()
    return {
        "load_wall_s": round(load_wall, 2),
        "cpu_us_per_dora_load": round(load_cpu / args.clients * 1e6, 1),
        "cpu_us_per_dora_total": round(total_cpu / args.clients * 1e6, 1),
        "other_threads_us_per_dora": threads,
        "dns": {k: stats[k] for k in ("backlog", "enqueued", "deferred") if k in stats}
        | ({"success": stats["outcomes"]["success"]} if stats else {}),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=4000)
    ap.add_argument("--rate", type=float, default=1000.0, help="DORAs a second")
    ap.add_argument("--batch", type=int, default=8, help="DORAs per turn of the packet path")
    ap.add_argument("--batch-size", type=int, default=50, help="[dns] batch-size")
    ap.add_argument("--dns", action="store_true", help="only the run with [dns] on")
    ap.add_argument("--both", action="store_true", help="off, then on")
    ap.add_argument("--no-send", action="store_true", help="updates are not sent (NOERROR at once)")
    ap.add_argument("--gather", type=float, help="override updater.GATHER (seconds)")
    ap.add_argument("--profile", help="cProfile output file (main thread)")
    args = ap.parse_args()
    if args.gather is not None:
        updater_module.GATHER = args.gather
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        runs = [False, True] if args.both else [args.dns]
        with BindServer(base / "bind", ZONES, port=free_port()) as bind:
            for i, on in enumerate(runs):
                workdir = base / f"run{i}"
                workdir.mkdir()
                dns = dns_config(bind.port, bind.key_path, args.batch_size) if on else None
                result = asyncio.run(drive(args, workdir, dns))
                print(f"dns {'on ' if on else 'off'} pid {os.getpid()}: {result}", flush=True)


if __name__ == "__main__":
    main()
