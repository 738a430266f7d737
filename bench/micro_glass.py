"""Micro-benchmark of the looking glass's cost: CPU µs per DORA through the DHCPv4 engine (memory
store) without the glass, and with it (``record`` on each outcome as the endpoint does), best of
``--repeat`` runs.

Run: .venv/bin/python bench/micro_glass.py [--clients N] [--batch B] [--repeat R]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from micro_engine4 import CONFIG, META, perfdhcp_like, release  # bench/ is first on sys.path

from dhcpbridge.assemble import build_engine4
from dhcpbridge.config import loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo
from dhcpbridge.engine.stats import Stats
from dhcpbridge.glass import LookingGlass
from dhcpbridge.leases import open_store
from dhcpbridge.server import tune_gc
from dhcpbridge.wire.v4.message import ip4_int, parse


def run(clients: int, batch: int, glass_on: bool) -> float:
    cfg = loader.from_dict(CONFIG)
    store = open_store("memory://")
    engine = build_engine4(cfg, store, HostInfo.build({"srv1": (ip4_int("10.68.0.1"),)}), Stats())
    glass = LookingGlass() if glass_on else None
    if glass is not None:
        glass.set_steps("v4", engine.pipeline.handlers)
    discovers = [perfdhcp_like(1, i + 1) for i in range(clients)]
    now = time.time()
    tune_gc()
    start = time.process_time()
    for base in range(0, clients, batch):
        offered = [run_inline(engine.process(d, META, now)) for d in discovers[base : base + batch]]
        if glass is not None:
            for outcome in offered:
                glass.record("v4", outcome, META, now, "sent")
        requests = []
        for i, outcome in enumerate(offered):
            o = outcome.data
            assert o is not None
            offer = parse(o)
            requests.append(
                perfdhcp_like(3, base + i + 1, {50: offer.yiaddr.to_bytes(4, "big"), 54: offer.options[54]})
            )
        acks = [run_inline(engine.process(r, META, now)) for r in requests]
        run_inline(store.flush())
        if glass is not None:
            for outcome in acks:
                glass.record("v4", outcome, META, now, "sent")
        release(offered, acks)
    elapsed = time.process_time() - start
    asyncio.run(store.close())
    return elapsed / clients * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    off = min(run(args.clients, args.batch, False) for _ in range(args.repeat))
    on = min(run(args.clients, args.batch, True) for _ in range(args.repeat))
    print(f"glass off: {off:6.2f} µs per DORA (engine only, incl. building requests)")
    print(f"glass on : {on:6.2f} µs per DORA  (+{on - off:.2f} µs, {100 * (on - off) / off:+.1f} %)")


if __name__ == "__main__":
    main()
