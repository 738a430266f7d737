"""Leases at scale: fill a SQLite store with N leases through the store API, restart it, and print
the restart time (open + journal replay + index build, until the store can serve) and the resident
memory per lease; Kea's memfile (kea-dhcp4) loaded with the same v4 leases in the same run, when
it is installed, for the ratio.

The fill commits N leases (``--v6-share`` of them IA_NA addresses, the rest v4) through
``SqliteStore.commit`` in batches of ``BATCH`` with a flush after each (the server's group commit),
then stops the way ``kill -9`` does: the last second's rows are in the journal only. The restart
runs in a fresh process (``--open``): RSS after the imports, then ``SqliteStore(path)``, then RSS
again; bytes per lease = the difference / N. Kea runs in a network namespace the bench creates
(loopback only, no traffic is sent), from a memfile CSV the bench writes; its restart time is
from the process start to its ``DHCP4_STARTED`` log line (leases loaded, sockets open).

Run: .venv/bin/python bench/scale.py [--leases N] [--quick] [--no-kea] [--tracemalloc]
Bounded: the fill and each restart have a time limit (``--budget``, default 600 s in all).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BATCH = 500
V4_BASE = 0x0A000000  # 10.0.0.0/8
V6_BASE = 0x20010DB8 << 96  # 2001:db8::/64
NOW = 1.8e9  # leases valid far past any run: the restart keeps them all bound
LIFETIME = 7200.0


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process (``VmRSS`` of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def mac(i: int) -> bytes:
    return b"\x02\x00" + (i & 0xFFFFFFFF).to_bytes(4, "big")


def fill(path: Path, n: int, v6_share: float, deadline: float) -> tuple[int, float]:
    """Commit ``n`` leases into a new store at ``path``; leave it as a crash would. Returns
    (leases written, seconds)."""
    from dhcpbridge.engine.inline import run_inline
    from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
    from dhcpbridge.leases.embedded.sqlite import SqliteStore

    store = SqliteStore(path)
    n6 = int(n * v6_share)
    start = time.perf_counter()
    duid = b"\x00\x01\x00\x01\x2a\x2b\x2c\x2d"
    written = 0
    for i in range(n):
        if i < n - n6:
            lease = Lease(
                V4_BASE + i,
                b"\x01" + mac(i),
                LeaseState.BOUND,
                NOW,
                NOW + LIFETIME,
                hwaddr=mac(i),
                subnet="10.0.0.0/8",
                source="pools",
                relay="10.68.0.2",
            )
        else:
            lease = Lease(
                V6_BASE + i,
                (1).to_bytes(4, "big") + duid + mac(i),
                LeaseState.BOUND,
                NOW,
                NOW + LIFETIME,
                kind=LeaseKind.NA,
                prefix_len=128,
                subnet="2001:db8::/64",
                source="pools",
            )
        run_inline(store.commit(lease, NOW))
        written += 1
        if written % BATCH == 0:
            store.flush_sync()
            if time.monotonic() > deadline:
                break
    store.flush_sync()
    seconds = time.perf_counter() - start
    store.db.close()  # no checkpoint: the journal keeps what a kill -9 would leave
    store._unlock()
    return written, seconds


def open_child(path: Path, trace: bool) -> dict[str, Any]:
    """In this (fresh) process: RSS before and after opening the store at ``path``."""
    import tracemalloc

    from dhcpbridge.leases.embedded.sqlite import SqliteStore

    gc.collect()
    before = rss_bytes()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    cpu = time.process_time()
    store = SqliteStore(path)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    traced = tracemalloc.get_traced_memory()[0] if trace else 0
    gc.collect()
    after = rss_bytes()
    n = sum(len(t) for t in store.index.by_addr.values())
    return {
        "open_s": seconds,
        "open_cpu_s": cpu,
        "rss_before": before,
        "rss_after": after,
        "leases": n,
        "traced": traced,
    }


KEA_HEADER = (
    "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
)


def kea_csv(path: Path, n: int) -> None:
    """A Kea 2.2 memfile v4 lease file with the bench's ``n`` v4 leases (the same addresses and
    identifiers as the fill's)."""
    expire = int(NOW + LIFETIME)
    with path.open("w") as f:
        f.write(KEA_HEADER)
        for i in range(n):
            a = V4_BASE + i
            m = mac(i).hex(":")
            f.write(
                f"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255},{m},01:{m},"
                f"{int(LIFETIME)},{expire},1,0,0,,0,\n"
            )


def kea_restart(workdir: Path, n: int, timeout: float) -> dict[str, Any] | str:
    """kea-dhcp4 started on a memfile of ``n`` v4 leases: seconds until DHCP4_STARTED, its RSS;
    or why it could not be measured."""
    kea = shutil.which("kea-dhcp4") or (
        "/usr/sbin/kea-dhcp4" if Path("/usr/sbin/kea-dhcp4").exists() else None
    )
    if kea is None:
        return "kea-dhcp4 is not installed (make system-deps)"
    if os.geteuid() != 0:
        return "Kea runs in a network namespace: needs root"
    csv = workdir / "kea-leases4.csv"
    kea_csv(csv, n)
    conf = workdir / "kea-dhcp4.json"
    conf.write_text(
        json.dumps(
            {
                "Dhcp4": {
                    "interfaces-config": {"interfaces": ["lo"], "dhcp-socket-type": "udp"},
                    "lease-database": {
                        "type": "memfile",
                        "persist": True,
                        "name": str(csv),
                        "lfc-interval": 0,
                    },
                    "valid-lifetime": int(LIFETIME),
                    "subnet4": [
                        {"id": 1, "subnet": "10.0.0.0/8", "pools": [{"pool": "10.0.0.1-10.255.255.254"}]}
                    ],
                    "loggers": [
                        {"name": "kea-dhcp4", "output_options": [{"output": "stdout"}], "severity": "INFO"}
                    ],
                }
            }
        )
    )
    ns = f"dhcpb-scale-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    proc = None
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        env = dict(os.environ, KEA_PIDFILE_DIR=str(workdir), KEA_LOCKFILE_DIR=str(workdir))
        start = time.perf_counter()
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, kea, "-c", str(conf)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        assert proc.stdout is not None
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        for line in proc.stdout:
            seen.append(line)
            if "DHCP4_STARTED" in line:
                seconds = time.perf_counter() - start
                time.sleep(0.5)
                return {"open_s": seconds, "rss": rss_bytes(proc.pid), "leases": n}
            if time.monotonic() > deadline:
                return f"kea-dhcp4 did not start within {timeout:.0f} s"
        return "kea-dhcp4 exited: " + "".join(seen[-3:]).strip()
    finally:
        if proc is not None:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        subprocess.run(["ip", "netns", "del", ns], check=False)


def run(n: int, v6_share: float, kea: bool, trace: bool, budget: float) -> dict[str, Any]:
    """The whole measurement (fill, restart, Kea); prints as it goes and returns the figures."""
    deadline = time.monotonic() + budget
    out: dict[str, Any] = {"leases_asked": n, "v6_share": v6_share}
    with tempfile.TemporaryDirectory(prefix="dhcpb-scale-") as tmp:
        path = Path(tmp) / "leases.db"
        written, seconds = fill(path, n, v6_share, deadline - budget / 3)
        out.update(leases=written, fill_s=seconds)
        print(f"fill: {written:,} leases in {seconds:.1f} s ({seconds / max(written, 1) * 1e6:.1f} µs/lease)")
        journal = Path(f"{path}.journal")
        print(
            f"  on disk: {path.stat().st_size / 1e6:.0f} MB SQLite, "
            f"{journal.stat().st_size / 1e6 if journal.exists() else 0:.1f} MB journal"
        )
        child = subprocess.run(
            [sys.executable, __file__, "--open", str(path), *(["--tracemalloc"] if trace else [])],
            capture_output=True,
            text=True,
            timeout=max(30.0, deadline - time.monotonic()),
            check=True,
        )
        ours = json.loads(child.stdout.strip().splitlines()[-1])
        per = (ours["rss_after"] - ours["rss_before"]) / max(ours["leases"], 1)
        out.update(
            restart_s=ours["open_s"],
            restart_cpu_s=ours["open_cpu_s"],
            rss_after=ours["rss_after"],
            bytes_per_lease=per,
        )
        print(
            f"restart (open + replay + index): {ours['open_s']:.2f} s ({ours['open_cpu_s']:.2f} s CPU) "
            f"for {ours['leases']:,} leases; "
            f"RSS {ours['rss_before'] / 1e6:.0f} -> {ours['rss_after'] / 1e6:.0f} MB = {per:,.0f} B/lease"
        )
        if trace:
            out["traced_per_lease"] = ours["traced"] / max(ours["leases"], 1)
            print(f"  tracemalloc: {out['traced_per_lease']:,.0f} B/lease allocated by the open")
        if kea:
            n4 = written - int(written * v6_share)
            empty = Path(tmp) / "kea-empty"
            empty.mkdir()
            base = kea_restart(empty, 0, 30.0)  # Kea's own RSS, without leases
            got = kea_restart(Path(tmp), n4, max(30.0, deadline - time.monotonic()))
            if isinstance(got, str):
                out["kea"] = got
                print(f"Kea: not measured: {got}")
            else:
                kea_base = base["rss"] if isinstance(base, dict) else 0
                kea_per = (got["rss"] - kea_base) / max(n4, 1)
                out.update(
                    kea_restart_s=got["open_s"],
                    kea_rss=got["rss"],
                    kea_rss_empty=kea_base,
                    kea_bytes_per_lease=kea_per,
                    kea_whole_bytes_per_lease=got["rss"] / max(n4, 1),
                )
                print(
                    f"Kea memfile: {n4:,} v4 leases, started in {got['open_s']:.2f} s, RSS "
                    f"{kea_base / 1e6:.0f} (no leases) -> {got['rss'] / 1e6:.0f} MB = {kea_per:,.0f} B/lease "
                    f"({got['rss'] / max(n4, 1):,.0f} B/lease counting the whole process)"
                )
                print(
                    f"ratio ours/Kea: restart {ours['open_s'] / got['open_s']:.2f}x, "
                    f"memory per lease {per / kea_per:.2f}x"
                )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--leases", type=int, default=1_000_000)
    p.add_argument("--quick", action="store_true", help="100,000 leases")
    p.add_argument("--v6-share", type=float, default=0.5, help="share of IA_NA leases (default 0.5)")
    p.add_argument("--no-kea", action="store_true")
    p.add_argument("--tracemalloc", action="store_true", help="also count Python allocations (slower open)")
    p.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run")
    p.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    p.add_argument("--open", type=Path, help=argparse.SUPPRESS)  # the restart child
    args = p.parse_args(argv)
    if args.open:
        print(json.dumps(open_child(args.open, args.tracemalloc)))
        return 0
    n = 100_000 if args.quick else args.leases
    out = run(n, args.v6_share, not args.no_kea, args.tracemalloc, args.budget)
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
