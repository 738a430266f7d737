"""Real clients driven by dhcpbridge.testing.clients obtain, renew and release leases from Kea."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from dhcpbridge.testing.clients import (
    CLIENT_NAMES,
    CLIENT_TOOLS,
    ClientError,
    Dhclient,
    Dhcpcd,
    make_client,
    relay_for,
)
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.kea import KeaLab
from dhcpbridge.testing.netns import lab_topology

pytestmark = pytest.mark.e2e

POOL4 = ipaddress.ip_network("10.67.0.0/24")
NA_POOL = ipaddress.ip_network("fd67::100:0/104")
PD_POOL = ipaddress.ip_network("fd67:1000::/40")


def kea_lease_rows(lab: KeaLab, family: int) -> list[dict[str, str]]:
    return (lab.kea4 if family == 4 else lab.kea6).leases()


@pytest.mark.parametrize("name", CLIENT_NAMES)
def test_client_obtains_renews_and_releases(lab_with_kea: KeaLab, name: str) -> None:
    require_e2e(CLIENT_TOOLS[name])
    cli = lab_with_kea.topo["cli"]
    with make_client(name, cli) as client:
        lease = client.obtain(timeout=30)
        configured = cli.addresses("cli0", scope="global")
        banner = {"dhclient": "Internet Systems Consortium DHCP Client", "udhcpc": "udhcpc: started"}
        assert banner.get(client.program, "dhcpcd-") in lease.log
        if client.family == 4:
            assert lease.address is not None
            assert lease.address.ip in POOL4 and 100 <= int(lease.address.ip) & 0xFF <= 199
            assert lease.address.network == POOL4
            assert lease.routers == (ipaddress.ip_address("10.67.0.1"),)
            assert lease.dns_servers == (ipaddress.ip_address("10.67.0.1"),)
            assert lease.domain_name == "lab.test"
            assert lease.server_id == "10.67.0.1"
            assert lease.lease_time == 30
            assert (lease.t1, lease.t2) == (5, 20)
            assert lease.address in configured
            rows = {r["address"]: r for r in kea_lease_rows(lab_with_kea, 4)}
            assert str(lease.address.ip) in rows
        else:
            assert lease.dns_servers == (ipaddress.ip_address("fd67::1"),)
            assert lease.domain_search == ("lab.test",)
            assert lease.server_id is not None and lease.server_id.startswith("0001")  # Kea's DUID-LLT
            assert (lease.t1, lease.t2) == (5, 15)
            assert (lease.preferred_lifetime, lease.valid_lifetime) == (20, 30)
            kea_rows = {r["address"] for r in kea_lease_rows(lab_with_kea, 6)}
            for addr in lease.addresses6:
                assert addr.ip in NA_POOL and addr.network.prefixlen == 128
                assert addr in configured
                assert str(addr.ip) in kea_rows
            for prefix in lease.prefixes:
                assert prefix.subnet_of(PD_POOL) and prefix.prefixlen == 56  # type: ignore[arg-type]
                assert str(prefix.network_address) in kea_rows
            wants_na = name in ("dhclient6", "dhclient6napd", "dhcpcd6")
            wants_pd = name in ("dhclient6pd", "dhclient6napd", "dhcpcd6")
            assert bool(lease.addresses6) == wants_na
            assert bool(lease.prefixes) == wants_pd

        renewed = client.renew(timeout=30)
        assert renewed.reason.upper().startswith(("RENEW", "REBIND"))
        assert renewed.address == lease.address
        assert renewed.addresses6 == lease.addresses6
        assert renewed.prefixes == lease.prefixes
        assert renewed.time > lease.time

        assert client.release(timeout=15) is True
        assert not client.running()
    # the context manager flushed whatever the client configured
    assert cli.addresses("cli0", scope="global") == []


def test_client_identities_as_documented(lab_with_kea: KeaLab) -> None:
    """dhclient sends no option 61, udhcpc 01+MAC, dhcpcd ff+IAID+DUID (seen in Kea's lease file)."""
    require_e2e("dhclient", "udhcpc", "dhcpcd")
    cli = lab_with_kea.topo["cli"]
    seen: dict[str, str] = {}
    for name in ("dhclient4", "udhcpc", "dhcpcd4"):
        client = make_client(name, cli, **({"arp_probe": False} if name == "dhcpcd4" else {}))
        with client:
            lease = client.obtain(timeout=30)
            assert lease.address is not None
            rows = {r["address"]: r for r in lab_with_kea.kea4.leases()}
            seen[name] = rows[str(lease.address.ip)]["client_id"]
            client.stop()
    assert seen["dhclient4"] == ""
    assert seen["udhcpc"] == "01:02:67:00:00:00:02"
    assert seen["dhcpcd4"].startswith("ff:")


def test_dhcpcd_without_arp_probe_is_fast(lab_with_kea: KeaLab) -> None:
    require_e2e("dhcpcd")
    with Dhcpcd(lab_with_kea.topo["cli"], family=4, arp_probe=False) as client:
        lease = client.obtain(timeout=30)
        assert lease.address is not None
        bound = next(e for e in client.events if e.reason == "BOUND")
        started = client.events[0].time
        assert bound.time - started < 3.0  # with ARP probing it takes ~4.5 s more


def test_dhcpcd_leaves_host_state_alone(lab_with_kea: KeaLab) -> None:
    """dhcpcd's DUID and leases land in the driver's private dirs, not in /var/lib/dhcpcd."""
    require_e2e("dhcpcd")
    host_dir = Path("/var/lib/dhcpcd")
    before = sorted(p.name for p in host_dir.iterdir()) if host_dir.exists() else []
    with Dhcpcd(lab_with_kea.topo["cli"], family=6) as client:
        client.obtain(timeout=30)
        assert (client.db_dir / "duid").exists()
        assert (client.db_dir / "cli0.lease6").exists()
        after = sorted(p.name for p in host_dir.iterdir()) if host_dir.exists() else []
        assert after == before


def test_obtain_times_out_without_server() -> None:
    require_e2e("dhclient")
    with (
        lab_topology() as topo,
        Dhclient(topo["cli"], mode="4") as client,
        pytest.raises(ClientError, match="obtain"),
    ):
        client.obtain(timeout=3)


@pytest.mark.parametrize("family", [4, 6])
def test_dhclient_through_dhcrelay(relayed_with_kea: KeaLab, family: int) -> None:
    require_e2e("dhclient", "dhcrelay")
    topo = relayed_with_kea.topo
    with relay_for(topo["rly"], family, topo.spec.facts) as relay:
        with Dhclient(topo["cli"], mode="4" if family == 4 else "6-napd") as client:
            lease = client.obtain(timeout=30)
            if family == 4:
                assert lease.address is not None
                assert lease.address.ip in ipaddress.ip_network("10.69.0.0/24")
                assert lease.routers == (ipaddress.ip_address("10.69.0.1"),)
                assert lease.server_id == "10.68.0.1"
                assert lease.domain_name == "relayed.test"
            else:
                assert lease.address6 is not None and lease.address6.ip in ipaddress.ip_network("fd69::/64")
                assert lease.prefix is not None and lease.prefix.subnet_of(
                    ipaddress.ip_network("fd69:1000::/40")
                )
                assert lease.domain_search == ("relayed.test",)
            # the renewal is unicast to the server (v4, via the default route and the relay's
            # forwarding) or multicast and relayed again (v6)
            renewed = client.renew(timeout=30)
            assert renewed.address == lease.address and renewed.addresses6 == lease.addresses6
            assert client.release(timeout=15)
        log = relay.log()
        if family == 4:
            assert "Forwarded BOOTREQUEST for 02:69:00:00:00:02 to 10.68.0.1" in log
        else:
            assert "Relaying Solicit from fe80::69:ff:fe00:2" in log and "Relaying Reply to" in log
