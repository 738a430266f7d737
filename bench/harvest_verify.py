"""``dhcpbridge harvest --verify`` on 1,000 hosts (root): how long the ICMP check of a whole
lease file takes with a worker pool, all hosts up, and with some down (each costs a timeout).

Everything stays in a private namespace pair (dhcpbridge.testing.pinghosts): the answering hosts
are addresses on the loopback of the ``hosts`` namespace, the harvester runs in ``hv``. Bounded:
three harvests of 1,000 hosts, timeout 1 s each host.

    sudo .venv/bin/python bench/harvest_verify.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from dhcpbridge.testing.pinghosts import add_hosts, host_v4, ping_topology

DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))
HOSTS = 1000
DOWN = 50  # the last DOWN hosts of the lease file are not on the hosts namespace


def main() -> None:
    with ping_topology() as topo:
        addresses = [host_v4(n) for n in range(1, HOSTS + 1)]
        add_hosts(topo["hosts"], addresses[: HOSTS - DOWN])
        end = int(time.time()) + 3600
        leases = topo.workdir / "dnsmasq.leases"
        leases.write_text(
            "".join(
                f"{end} 02:00:00:00:{n >> 8:02x}:{n & 255:02x} {a} h{n} *\n" for n, a in enumerate(addresses)
            )
        )
        all_up = topo.workdir / "all-up.leases"
        all_up.write_text("".join(leases.read_text().splitlines(keepends=True)[: HOSTS - DOWN]))
        for label, path, workers in (
            (f"{HOSTS - DOWN} hosts, all up", all_up, 64),
            (f"{HOSTS} hosts, {DOWN} down", leases, 64),
            (f"{HOSTS} hosts, {DOWN} down", leases, 16),
        ):
            dest = topo.workdir / f"h-{workers}-{path.stem}.inc"
            argv = [DHCPBRIDGE, "harvest", "--leases", str(path), "--dest", str(dest), "--verify"]
            argv += ["--timeout", "1s", "--workers", str(workers), "--json"]
            started = time.monotonic()
            out = topo["hv"].run(argv, timeout=600)
            wall = time.monotonic() - started
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{label:24} workers={workers:3}  harvest {result['seconds']:6.2f} s (process {wall:5.2f} s)  "
                f"records={result['records']} unreachable={len(result['unreachable'])}"
            )


if __name__ == "__main__":
    main()
