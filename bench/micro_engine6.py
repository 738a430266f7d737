"""Micro-benchmark of the DHCPv6 hot path without sockets: µs of CPU per SARR through the engine
(parse, pipeline, store, encode) for perfdhcp-like SOLICIT / REQUEST pairs, direct or relayed, for
an address (IA_NA) or a prefix (IA_PD), with the memory store and with SQLite group commits.

CPU time (``time.process_time``), best of ``--repeat`` runs, so other load on the machine matters
less. Bounded: ``--clients`` exchanges per run.

Run: .venv/bin/python bench/micro_engine6.py [--clients N] [--batch B] [--repeat R] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import ipaddress
import pstats
import tempfile
import time
from pathlib import Path

from micro_engine4 import release  # bench/ is the script's folder, first on sys.path

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import open_store
from dhcpbridge.server import tune_gc
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, parse6, unwrap_relay

CONFIG = {
    "server6": {"server-duid": "ll:02:67:00:00:00:01"},
    "subnet6": [
        {
            "subnet": "fd67::/64",
            "pools": ["fd67::100:0/104"],
            "pd-pools": [{"prefix": "fd67:1000::/40", "delegated-length": 56}],
            "interface": "srv0",
            "options": {"dns-servers": ["fd67::1"], "domain-search": ["lab.test"]},
        }
    ],
}
META = Meta6("fe80::67:ff:fe00:2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
RELAY_META = Meta6("fd67::2", 547, ipaddress.IPv6Address("fd67::1").packed, 2, "srv0")


def _opt(code: int, body: bytes) -> bytes:
    return code.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def solicit(i: int, prefix: bool) -> bytes:
    """perfdhcp 2.2 -6: client-id DUID-LLT, elapsed time, IA_NA or IA_PD, ORO 23/24."""
    duid = bytes.fromhex("000100013299d0e2") + i.to_bytes(6, "big")
    ia = _opt(
        25 if prefix else 3, (1).to_bytes(4, "big") + (3600).to_bytes(4, "big") + (5400).to_bytes(4, "big")
    )
    return (
        bytes([1]) + (i & 0xFFFFFF).to_bytes(3, "big") + _opt(1, duid) + _opt(8, b"\0\0") + ia + _opt(6, bytes.fromhex("00170018"))
    )  # fmt: skip


def request(i: int, advertise: Message6) -> bytes:
    """perfdhcp's REQUEST: its client id, the server id, the IA from the ADVERTISE."""
    duid = bytes.fromhex("000100013299d0e2") + i.to_bytes(6, "big")
    ias = b"".join(o.encode() for o in advertise.options if o.code in (3, 25))
    sid = advertise.raw(2) or b""
    return (
        bytes([3])
        + ((i + 1) & 0xFFFFFF).to_bytes(3, "big")
        + _opt(1, duid)
        + _opt(2, sid)
        + _opt(8, b"\0\0")
        + ias
    )


def relay(data: bytes) -> bytes:
    """perfdhcp -A 1: one RELAY-FORW layer, link-address fd67::2."""
    head = bytes([12, 0]) + ipaddress.IPv6Address("fd67::2").packed + ipaddress.IPv6Address("fe80::1").packed
    return head + _opt(9, data)


def inner(data: bytes) -> Message6:
    msg = parse6(data)
    if isinstance(msg, RelayMessage6):
        msg = unwrap_relay(msg)[0]
    assert isinstance(msg, Message6)
    return msg


def run(store_url: str, clients: int, batch: int, prefix: bool, relayed: bool) -> float:
    """µs of CPU per SARR (requests are built from the ADVERTISEs inside the timed loop, as a
    real exchange would need; the SOLICITs are built beforehand)."""
    cfg = loader.from_dict(CONFIG)
    store = open_store(store_url)
    engine = build_engine6(cfg, store, HostInfo6({}), Stats(), build_sources(cfg))
    meta = RELAY_META if relayed else META
    wrap = relay if relayed else (lambda d: d)
    solicits = [wrap(solicit(i + 1, prefix)) for i in range(clients)]
    tune_gc()  # as the server does at start
    now = time.time()
    start = time.process_time()
    for base in range(0, clients, batch):
        advertised = [run_inline(engine.process(d, meta, now)) for d in solicits[base : base + batch]]
        requests = []
        for n, outcome in enumerate(advertised):
            adv = outcome.data
            assert adv is not None
            requests.append(wrap(request(base + n + 1, inner(adv))))
        replies = [run_inline(engine.process(r, meta, now)) for r in requests]
        run_inline(store.flush())
        assert all(r.data for r in replies), replies[0].drop_reason
        release(advertised, replies)
    elapsed = time.process_time() - start
    asyncio.run(store.close())
    return elapsed / clients * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one memory-store run (address)")
    args = ap.parse_args()
    if args.profile:
        cProfile.runctx(
            "run('memory://', args.clients, args.batch, False, False)", globals(), locals(), "/tmp/v6.prof"
        )
        pstats.Stats("/tmp/v6.prof").sort_stats("tottime").print_stats(25)
        return

    def best(url: str, prefix: bool, relayed: bool, batch: int) -> float:
        return min(run(url, args.clients, batch, prefix, relayed) for _ in range(args.repeat))

    print(
        f"DHCPv6 engine, {args.clients} clients, best of {args.repeat} (CPU µs per SARR, incl. building REQUESTs)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = iter(range(1_000_000))
        for label, prefix, relayed in (
            ("address", False, False),
            ("prefix", True, False),
            ("address, relayed", False, True),
        ):
            mem = best("memory://", prefix, relayed, args.batch)
            sql = []
            for batch in (1, args.batch):
                sql.append(
                    min(
                        run(
                            f"sqlite:///{Path(tmp) / f'l{next(files)}.db'}",
                            args.clients,
                            batch,
                            prefix,
                            relayed,
                        )
                        for _ in range(args.repeat)
                    )
                )
            print(
                f"{label:<18} memory {mem:6.1f}   sqlite b=1 {sql[0]:6.1f}   sqlite b={args.batch} {sql[1]:6.1f}"
            )


if __name__ == "__main__":
    main()
