"""Write the lease-file samples of tests/leases/files/samples/ with the real servers (root).

One job: in a private lab topology (dhcpbridge.testing.netns), run ISC dhcpd, Kea (dhcp4 and
dhcp6) and dnsmasq (v4 + v6) one after the other in the server namespace, walk a few clients
through each (``dhcpbridge probe`` as a relay agent from the relay namespace: bound, renewed and
released leases with host names; a real udhcpc and a real dhclient -6 on the direct link), stop
the server and copy the lease file it wrote. Nothing leaves the namespaces.

    sudo .venv/bin/python scripts/make-lease-samples.py [OUT_DIR]
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

from dhcpbridge.testing.clients import Udhcpc
from dhcpbridge.testing.kea import Kea4, Kea6
from dhcpbridge.testing.netns import Namespace, Topology, lab_topology
from dhcpbridge.testing.peers import Dhcpd, Dhcpd6, Dnsmasq, NamedDhclient6
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import ManagedServer

DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))


class NamedUdhcpc(Udhcpc):
    """udhcpc sending a host name (option 12)."""

    def command(self, timeout: float) -> list[str]:
        return [*super().command(timeout), "-x", "hostname:udhcpc-host"]


def probe4(ns: Namespace, n: int, *flags: str) -> None:
    argv = [DHCPBRIDGE, "probe", "--server", "10.68.0.1", "--giaddr", "10.68.0.2"]
    argv += ["--mac", f"02:00:00:00:01:{n:02x}", "--hostname", f"host-{n}", "--full", *flags]
    ns.run(argv, timeout=30)


def probe6(ns: Namespace, n: int, *flags: str) -> None:
    argv = [DHCPBRIDGE, "probe", "-6", "--server", "fd68::1", "--link-address", "fd68::2"]
    argv += ["--duid", f"ll:02:00:00:00:06:{n:02x}", "--full", *flags]
    ns.run(argv, timeout=30)


def clients4(topo: Topology) -> None:
    rly = topo["rly"]
    for n in (1, 2, 3):
        probe4(rly, n)
    probe4(rly, 2, "--renew")  # a second block / row for the same address
    probe4(rly, 4, "--release")
    udhcpc = NamedUdhcpc(topo["cli"], release_on_exit=False)
    try:
        udhcpc.obtain()
    finally:
        udhcpc.close(flush=False)


def clients6(topo: Topology, pd: bool) -> None:
    rly = topo["rly"]
    for n in (1, 2):
        probe6(rly, n)
    probe6(rly, 3, "--release")
    if pd:
        probe6(rly, 4, "--ia-pd", "--no-ia-na")
    dhclient = NamedDhclient6(topo["cli"])
    try:
        dhclient.obtain()
    finally:
        dhclient.close(flush=False)


def collect(server: ManagedServer, lease_file: Path, target: Path, walk: list[object]) -> None:
    with server:
        for step in walk:
            assert callable(step)
            step()
    shutil.copyfile(lease_file, target)
    print(f"{target}: {len(target.read_text().splitlines())} lines")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with lab_topology() as topo:
        srv, work = topo["srv"], topo.workdir
        dhcpd = Dhcpd(srv, work / "dhcpd")
        collect(dhcpd, dhcpd.lease_file, out / "dhcpd.leases", [lambda: clients4(topo)])
        dhcpd6 = Dhcpd6(srv, work / "dhcpd6")
        collect(dhcpd6, dhcpd6.lease_file, out / "dhcpd6.leases", [lambda: clients6(topo, pd=True)])
        kea4 = Kea4(srv, work / "kea4", LAB_PLAN)
        collect(kea4, kea4.lease_file, out / "kea-leases4.csv", [lambda: clients4(topo)])
        plan6 = dataclasses.replace(LAB_PLAN, unicast6=(("srv1", "fd68::1"),))  # relayed by unicast
        kea6 = Kea6(srv, work / "kea6", plan6)
        collect(kea6, kea6.lease_file, out / "kea-leases6.csv", [lambda: clients6(topo, pd=True)])
        dnsmasq = Dnsmasq(srv, work / "dnsmasq")
        collect(
            dnsmasq,
            dnsmasq.lease_file,
            out / "dnsmasq.leases",
            [lambda: clients4(topo), lambda: clients6(topo, pd=False)],
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tests/leases/files/samples"))
