"""One ``dhcpbridge serve`` for both families: DHCPv4 and DHCPv6 clients on the same link, one
process, one SQLite store, one source chain (its own topology: no other server may listen)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from dhcpbridge.testing.clients import Dhclient
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology
from dhcpbridge.testing.plan import LAB_PLAN, SHORT_LEASES
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e

NA_POOL = ipaddress.ip_network("fd67::100:0/104")
BOUND = 1


def test_one_server_serves_both_families_from_one_store(lab6: Topology, server6_class: Any) -> None:
    """v4 and v6 side by side: one process, one SQLite store, one source chain."""
    require_e2e("dhclient")
    extra = {
        "subnet4": [
            {
                "subnet": "10.67.0.0/24",
                "pools": ["10.67.0.100-10.67.0.199"],
                "options": {"routers": ["10.67.0.1"]},
            }
        ]
    }
    server = server6_class(lab6["srv"], lab6.workdir / "both", LAB_PLAN.with_lifetimes(**SHORT_LEASES), extra)
    with server:
        assert wait_for(lambda: lab6["srv"].udp_listening(67), 10.0)
        with Dhclient(lab6["cli"], mode="4") as c4, Dhclient(lab6["cli"], mode="6-napd") as c6:
            lease4 = c4.obtain(timeout=30)
            lease6 = c6.obtain(timeout=30)
            assert lease4.address is not None and lease4.address.ip in ipaddress.ip_network("10.67.0.0/24")
            assert lease6.address6 is not None and lease6.address6.ip in NA_POOL
            kinds = sorted({r["kind"] for r in server.leases() if r["state"] == BOUND})
            assert kinds == [4, 6, 7]
    assert "Traceback" not in server.log()
