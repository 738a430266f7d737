"""Micro-benchmark of the DHCPv4 hot path without sockets: CPU µs per DORA through the engine
(parse, pipeline, store, encode), with the memory store and with SQLite group commits.

Run: .venv/bin/python bench/micro_engine4.py [--clients N] [--batch B]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from dhcpbridge.assemble import build_engine4
from dhcpbridge.config import loader
from dhcpbridge.engine.core import Outcome
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import open_store
from dhcpbridge.server import tune_gc
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, parse

CONFIG = {
    "subnet4": [
        {
            "subnet": "10.68.0.0/16",
            "pools": ["10.68.1.0-10.68.255.254"],
            "lease-time": 7200,
            "options": {"routers": ["10.68.0.1"]},
        }
    ]
}
GIADDR = ip4_int("10.68.0.2")
META = Meta4(GIADDR, 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "srv1")


def perfdhcp_like(kind: int, i: int, extra: dict[int, bytes] | None = None) -> bytes:
    opts = {53: bytes([kind]), 55: bytes([1, 28, 2, 3, 15, 6, 12])}
    opts.update(extra or {})
    return encode(Message4(xid=i, hops=1, giaddr=GIADDR, chaddr=i.to_bytes(6, "big"), options=opts))


def release(*batches: list[Outcome[Any]]) -> None:
    """Drop the batch's lease events once flushed, as the server's endpoint does: an event refers to
    its transaction, which refers to the event list, so kept events leave cycles for the GC."""
    for outcomes in batches:
        for outcome in outcomes:
            outcome.effects.clear()


def run(store_url: str, clients: int, batch: int) -> float:
    cfg = loader.from_dict(CONFIG)
    store = open_store(store_url)
    engine = build_engine4(cfg, store, HostInfo.build({"srv1": (ip4_int("10.68.0.1"),)}), Stats())
    discovers = [perfdhcp_like(1, i + 1) for i in range(clients)]
    now = time.time()
    tune_gc()
    start = time.process_time()
    for base in range(0, clients, batch):
        offered = [run_inline(engine.process(d, META, now)) for d in discovers[base : base + batch]]
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
        assert all(a.data for a in acks), acks[0].drop_reason
        release(offered, acks)
    elapsed = time.process_time() - start
    asyncio.run(store.close())
    return elapsed / clients * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    print(
        f"memory  : {run('memory://', args.clients, args.batch):6.1f} µs per DORA (incl. building requests)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for b in (1, args.batch, 64):
            url = f"sqlite:///{Path(tmp) / f'l{b}.db'}"
            print(f"sqlite b={b:<3}: {run(url, args.clients, b):6.1f} µs per DORA")


if __name__ == "__main__":
    main()
