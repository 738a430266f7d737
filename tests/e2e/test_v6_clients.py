"""Real DHCPv6 clients (dhclient -6 / -P / -N -P, dhcpcd -6 with ia_na + ia_pd) obtain, renew and
release addresses and delegated prefixes from ``dhcpbridge serve`` in network namespaces."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest

from dhcpbridge.testing.clients import Dhclient, Dhcpcd, DhcpClient
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology
from dhcpbridge.testing.server import default_dhcpbridge_exe, wait_for

pytestmark = pytest.mark.e2e

NA_POOL = ipaddress.ip_network("fd67::100:0/104")
PD_POOL = ipaddress.ip_network("fd67:1000::/40")
BOUND, RELEASED = 1, 2


def make(name: str, topo: Topology) -> DhcpClient:
    cli = topo["cli"]
    if name == "dhcpcd6":
        return Dhcpcd(cli, family=6)
    return Dhclient(cli, mode={"dhclient6": "6", "dhclient6pd": "6-pd", "dhclient6napd": "6-napd"}[name])


@pytest.mark.parametrize("name", ["dhclient6", "dhclient6pd", "dhclient6napd", "dhcpcd6"])
def test_client_obtains_renews_and_releases(lab6: Topology, lab6_server: Any, name: str) -> None:
    require_e2e("dhclient" if name.startswith("dhclient") else "dhcpcd")
    server = lab6_server
    wants_na = name in ("dhclient6", "dhclient6napd", "dhcpcd6")
    wants_pd = name in ("dhclient6pd", "dhclient6napd", "dhcpcd6")
    with make(name, lab6) as client:
        lease = client.obtain(timeout=30)
        assert bool(lease.addresses6) == wants_na
        assert bool(lease.prefixes) == wants_pd
        assert lease.dns_servers == (ipaddress.ip_address("fd67::1"),)
        assert lease.domain_search == ("lab.test",)
        assert lease.server_id == "00030001026700000001"  # DUID-LL of srv0, the first served interface
        assert (lease.t1, lease.t2) == (5, 15)
        assert (lease.preferred_lifetime, lease.valid_lifetime) == (20, 30)
        configured = lab6["cli"].addresses("cli0", scope="global")
        rows = {(r["address"], r["prefix_len"]): r for r in server.leases()}
        for addr in lease.addresses6:
            assert addr.ip in NA_POOL and addr.network.prefixlen == 128
            assert addr in configured
            assert rows[(str(addr.ip), 128)]["state"] == BOUND  # committed before the REPLY left
        for prefix in lease.prefixes:
            assert prefix.subnet_of(PD_POOL) and prefix.prefixlen == 56  # type: ignore[arg-type]
            assert rows[(str(prefix.network_address), 56)]["state"] == BOUND

        renewed = client.renew(timeout=30)
        assert renewed.reason.upper().startswith(("RENEW", "REBIND"))
        assert renewed.addresses6 == lease.addresses6
        assert renewed.prefixes == lease.prefixes
        assert renewed.time > lease.time

        assert client.release(timeout=15) is True

        def released() -> bool:
            now = {(r["address"], r["prefix_len"]): r["state"] for r in server.leases()}
            keys = [(str(a.ip), 128) for a in lease.addresses6] + [
                (str(p.network_address), p.prefixlen) for p in lease.prefixes
            ]
            return all(now.get(k) == RELEASED for k in keys)

        assert wait_for(released, 5.0), server.leases()
    assert server.alive(), server.log()[-3000:]


def test_probe_as_a_client_on_the_interface(lab6: Topology, lab6_server: Any) -> None:
    """``dhcpbridge probe -6 --interface cli0``: SOLICIT from cli0's link-local address to ff02::1:2,
    then REQUEST, RENEW, REBIND, RELEASE (multicast, like a real client)."""
    require_e2e()
    exe = str(default_dhcpbridge_exe())
    argv = [
        exe,
        "probe",
        "-6",
        "--interface",
        "cli0",
        "--ia-pd",
        "--full",
        "--renew",
        "--rebind",
        "--release",
        "--json",
    ]
    result = lab6["cli"].run(argv, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    assert [s["step"] for s in steps] == [
        "SOLICIT -> ADVERTISE",
        "REQUEST -> REPLY",
        "RENEW -> REPLY",
        "REBIND -> REPLY",
        "RELEASE -> REPLY",
    ]
    granted = [
        sub["value"]
        for opt in steps[1]["reply"]["options"]
        if opt["code"] in (3, 25)
        for sub in opt["value"]["options"]
    ]
    assert ipaddress.ip_address(granted[0]["address"]) in NA_POOL
    assert ipaddress.ip_network(granted[1]["prefix"]).subnet_of(PD_POOL)  # type: ignore[arg-type]
    release = steps[-1]["reply"]["options"]
    assert {
        "code": 13,
        "name": "status-code",
        "value": {"status": 0, "name": "Success", "message": "released"},
    } in release
    # and a human-readable table without --json
    result = lab6["cli"].run([exe, "probe", "-6", "--interface", "cli0"], timeout=30, check=False)
    assert result.returncode == 0 and "ADVERTISE" in result.stdout and "addresses" in result.stdout
