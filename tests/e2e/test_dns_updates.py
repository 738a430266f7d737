"""DNS updates end to end: ``dhcpbridge serve`` with ``[dns]`` and a real BIND 9 (``named``) in the
server's namespace (127.0.0.1:53053), real clients in the client namespace.

- udhcpc asks for a name with option 81 (``-F``): after its lease BIND has its A, PTR and DHCID
  records (looked up with dnspython); its release removes them.
- BIND stopped while a relayed load gets leases (names from ``generated-prefix``): DHCP keeps
  serving every client, the failures are counted on /metrics; the DHCP server restarts while BIND
  is still down; once BIND is back every pending update arrives.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.bind import BindServer, key_text, socket_in
from dhcpbridge.testing.clients import Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import lab_topology
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e
ZONES = ["lab.test", "67.10.in-addr.arpa", "68.10.in-addr.arpa"]
METRICS = "127.0.0.1:9367"
LOAD = 40


class NamedUdhcpc(Udhcpc):
    """udhcpc that sends option 81 (``-F NAME``: the server updates A and PTR)."""

    def __init__(self, *args: Any, fqdn: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fqdn = fqdn

    def command(self, timeout: float) -> list[str]:
        return [*super().command(timeout), "-F", self.fqdn]


def dns_table(bind: BindServer) -> dict[str, Any]:
    return {
        "generated-prefix": "dhcp",
        "retry-min": 0.2,
        "retry-max": 1.0,
        "timeout": 1.0,
        "zone": [
            {"name": z, "server": "127.0.0.1", "port": bind.port, "key-file": str(bind.key_path)}
            for z in ZONES
        ],
    }


def metric(ns: Any, name: str) -> float:
    """One sample of the server's /metrics (read from inside the server namespace)."""
    import socket

    host, port = METRICS.split(":")
    with socket_in(ns, socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect((host, int(port)))
        s.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    for line in data.decode().splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == name:
            return float(value)
    return 0.0


def test_client_name_published_and_removed_then_bind_outage_and_restart_lose_nothing() -> None:
    require_e2e("udhcpc", "named")
    with lab_topology() as topo:
        srv = topo["srv"]
        bind = BindServer(topo.workdir / "bind", ZONES, ns=srv)
        bind.start()
        server = h.V4Server(
            srv,
            topo.workdir / "dhcpbridge4",
            LAB_PLAN,
            server={"metrics": METRICS},
            extra={"dns": dns_table(bind)},
        )
        server.start()
        try:
            with NamedUdhcpc(topo["cli"], fqdn="laptop") as client:
                got = client.obtain(timeout=30)
                assert got.address is not None
                address = str(got.address).split("/")[0]
                ptr = ipaddress.ip_address(address).reverse_pointer
                assert wait_for(lambda: bind.query("laptop.lab.test", "A") == [address], 15), server.log()[
                    -3000:
                ]
                assert wait_for(lambda: bind.query(ptr, "PTR") == ["laptop.lab.test."], 15)
                assert len(bind.query("laptop.lab.test", "DHCID")) == 1
                assert client.release()
                assert wait_for(lambda: bind.query("laptop.lab.test", "A") == [], 15), server.log()[-3000:]
                assert wait_for(lambda: bind.query(ptr, "PTR") == [], 15)  # its own update: may come after
                assert bind.query("laptop.lab.test", "DHCID") == []
            assert metric(srv, 'dhcpbridge_dns_updates_total{outcome="success"}') >= 2

            bind.stop()  # BIND down: DHCP keeps serving
            sock = h.relay_socket(topo["rly"], "10.68.0.2")
            loader = h.RelayLoader(
                sock, ("10.68.0.1", 67), "10.68.0.2", count=LOAD, window=16, max_seconds=60
            )
            loader.start()
            assert loader.join(70) and len(loader.acks) == LOAD, (loader.errors, loader.unanswered)
            assert wait_for(
                lambda: metric(srv, 'dhcpbridge_dns_updates_total{outcome="unreachable"}') >= 1, 15
            )
            assert metric(srv, "dhcpbridge_dns_backlog") == LOAD
            server.stop()  # a restart while BIND is still down
            server.start()
            bind.start()
            names = {
                f"dhcp-{h.int2ip(ip).replace('.', '-')}.lab.test": h.int2ip(ip) for ip in loader.acks.values()
            }

            def all_arrived() -> bool:
                return all(bind.query(n, "A") == [a] for n, a in names.items())

            assert wait_for(all_arrived, 60, 0.5), server.log()[-3000:]
            for name, address in list(names.items())[:5]:
                assert bind.query(ipaddress.ip_address(address).reverse_pointer, "PTR") == [name + "."]
            assert wait_for(lambda: metric(srv, "dhcpbridge_dns_backlog") == 0, 15)
        finally:
            server.stop()
            bind.stop()


def test_wrong_tsig_key_is_refused_logged_and_counted_while_dhcp_serves() -> None:
    require_e2e("udhcpc", "named")
    with lab_topology() as topo:
        srv = topo["srv"]
        with BindServer(topo.workdir / "bind", ZONES, ns=srv) as bind:
            wrong = topo.workdir / "wrong.key"
            wrong.write_text(key_text(bind.key_name, b"a-secret-that-bind-does-not-know"))
            table = dns_table(bind)
            for zone in table["zone"]:
                zone["key-file"] = str(wrong)
            server = h.V4Server(
                srv, topo.workdir / "dhcpbridge4", LAB_PLAN, server={"metrics": METRICS}, extra={"dns": table}
            )
            with server, NamedUdhcpc(topo["cli"], fqdn="laptop") as client:
                assert client.obtain(timeout=30).address is not None  # DHCP does not wait for DNS
                assert wait_for(
                    lambda: metric(srv, 'dhcpbridge_dns_updates_total{outcome="tsig-error"}') >= 2, 15
                )
                assert metric(srv, "dhcpbridge_dns_backlog") == 1
                assert metric(srv, 'dhcpbridge_dns_updates_total{outcome="success"}') == 0
                assert bind.query("laptop.lab.test", "A") == []
                logged = [
                    r for r in server.events("DNS update failed; will retry") if "tsig-error" in r["error"]
                ]
                assert logged and logged[0]["fqdn"] == "laptop.lab.test."
                assert server.proc is not None and server.proc.alive()
