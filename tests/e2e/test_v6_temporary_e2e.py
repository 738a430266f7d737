"""IA_TA with a real client (RFC 8415 §6.5): ``dhclient -6 -T`` asks for a temporary address and
gets one from the link's pool, bound in the lease store."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from dhcpbridge.testing.clients import Dhclient
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology

pytestmark = pytest.mark.e2e

NA_POOL = ipaddress.ip_network("fd67::100:0/104")
BOUND = 1


class TemporaryDhclient(Dhclient):
    """dhclient -6 -T: an IA_TA instead of an IA_NA."""

    def command(self, timeout: float) -> list[str]:
        argv = super().command(timeout)
        return [argv[0], "-6", "-T", *argv[2:]]


def test_dhclient_gets_a_temporary_address(lab6: Topology, lab6_server: Any) -> None:
    require_e2e("dhclient")
    with TemporaryDhclient(lab6["cli"], mode="6") as client:
        lease = client.obtain(timeout=30)
        [addr] = lease.addresses6
        assert addr.ip in NA_POOL
        rows = {(r["address"], r["prefix_len"]): r for r in lab6_server.leases()}
        row = rows[(str(addr.ip), 128)]
        assert row["state"] == BOUND and bytes(row["client"]).startswith(b"TA")  # key "TA" + IAID + DUID
    assert lab6_server.alive(), lab6_server.log()[-3000:]
