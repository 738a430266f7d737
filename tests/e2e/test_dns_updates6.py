"""DNS updates for DHCPv6: ``dhcpbridge serve`` with ``[dns]`` and a real BIND 9 in the server's
namespace; ISC ``dhclient -6`` sends option 39 (RFC 4704) with its name. After the lease BIND has
the AAAA, the ip6.arpa PTR and the DHCID; the release removes them."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from dhcpbridge.testing.bind import BindServer
from dhcpbridge.testing.clients import Dhclient
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology
from dhcpbridge.testing.plan import LAB_PLAN, SHORT_LEASES
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e
ZONES = ["lab.test", "0.0.0.0.0.0.0.0.0.0.0.0.7.6.d.f.ip6.arpa"]  # fd67::/64


class NamedDhclient6(Dhclient):
    """dhclient -6 that sends option 39 with ``fqdn`` (S = 1: the server updates the AAAA)."""

    def __init__(self, *args: Any, fqdn: str, **kw: Any) -> None:
        super().__init__(*args, mode="6", **kw)
        self.fqdn = fqdn

    def command(self, timeout: float) -> list[str]:
        argv = super().command(timeout)
        with self.conf.open("a") as conf:
            conf.write(f'send fqdn.fqdn "{self.fqdn}";\nsend fqdn.server-update on;\n')
        return argv


def test_v6_client_gets_aaaa_and_ptr_and_release_removes_them(lab6: Topology, server6_class: Any) -> None:
    require_e2e("dhclient", "named")
    srv = lab6["srv"]
    with BindServer(lab6.workdir / "bind6", ZONES, ns=srv) as bind:
        zones = [
            {"name": z, "server": "127.0.0.1", "port": bind.port, "key-file": str(bind.key_path)}
            for z in ZONES
        ]
        server = server6_class(
            srv,
            lab6.workdir / "dhcpbridge6-dns",
            LAB_PLAN.with_lifetimes(**SHORT_LEASES),
            extra={"dns": {"zone": zones, "retry-min": 0.2, "retry-max": 1.0, "timeout": 1.0}},
        )
        with server, NamedDhclient6(lab6["cli"], fqdn="box6") as client:
            lease = client.obtain(timeout=30)
            assert lease.addresses6
            address = str(lease.addresses6[0].ip)
            ptr = ipaddress.ip_address(address).reverse_pointer
            assert wait_for(lambda: bind.query("box6.lab.test", "AAAA") == [address], 15), server.log()[
                -3000:
            ]
            assert wait_for(lambda: bind.query(ptr, "PTR") == ["box6.lab.test."], 15)
            assert len(bind.query("box6.lab.test", "DHCID")) == 1
            assert client.release()
            assert wait_for(lambda: bind.query("box6.lab.test", "AAAA") == [], 15), server.log()[-3000:]
            assert wait_for(lambda: bind.query(ptr, "PTR") == [], 15)  # its own update: may come after
