"""Hook environments of the real clients (as captured in the lab) parse into leases."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from dhcpbridge.testing.clients import HookEvent, Lease, lease_from_event, read_events


def ev(reason: str, **env: str) -> HookEvent:
    return HookEvent(reason=reason, env={"reason": reason, **env}, time=1.0)


def test_dhclient4_bound() -> None:
    lease = lease_from_event(
        "dhclient4",
        ev(
            "BOUND",
            new_ip_address="10.67.0.100",
            new_subnet_mask="255.255.255.0",
            new_routers="10.67.0.1",
            new_domain_name_servers="10.67.0.1 10.67.0.2",
            new_domain_name="lab.test",
            new_dhcp_lease_time="30",
            new_dhcp_server_identifier="10.67.0.1",
            new_dhcp_renewal_time="5",
            new_dhcp_rebinding_time="20",
        ),
    )
    assert lease.address == ipaddress.IPv4Interface("10.67.0.100/24")
    assert lease.dns_servers == (ipaddress.ip_address("10.67.0.1"), ipaddress.ip_address("10.67.0.2"))
    assert (lease.lease_time, lease.t1, lease.t2, lease.server_id) == (30, 5, 20, "10.67.0.1")


def test_udhcpc_bound_hex_timers() -> None:
    e = HookEvent(
        reason="bound",
        env={"ip": "10.67.0.101", "mask": "24", "router": "10.67.0.1", "dns": "10.67.0.1", "domain": "lab.test",
             "serverid": "10.67.0.1", "lease": "30", "opt58": "00000005", "opt59": "00000014"},
        time=2.0,
        args="bound",
    )  # fmt: skip
    lease = lease_from_event("udhcpc", e)
    assert lease.address == ipaddress.IPv4Interface("10.67.0.101/24")
    assert (lease.t1, lease.t2, lease.lease_time) == (5, 20, 30)


def test_dhclient6_one_lease_per_call_merges() -> None:
    common = {"new_dhcp6_server_id": "0:1:0:1:32:99:d0:ef:2:67:0:0:0:1", "new_renew": "5", "new_rebind": "15",
              "new_preferred_life": "20", "new_max_life": "30", "new_dhcp6_domain_search": "lab.test."}  # fmt: skip
    na = lease_from_event("d", ev("BOUND6", new_ip6_address="fd67::100:0", new_ip6_prefixlen="128", **common))
    pd = lease_from_event("d", ev("BOUND6", new_ip6_prefix="fd67:1000::/56", **common))
    lease = na.merged(pd)
    assert lease.addresses6 == (ipaddress.IPv6Interface("fd67::100:0/128"),)
    assert lease.prefixes == (ipaddress.IPv6Network("fd67:1000::/56"),)
    assert lease.server_id == "000100013299d0ef026700000001"
    assert lease.domain_search == ("lab.test",)
    assert (lease.t1, lease.t2, lease.preferred_lifetime, lease.valid_lifetime) == (5, 15, 20, 30)


def test_dhcpcd6_all_ias_in_one_call() -> None:
    lease = lease_from_event(
        "dhcpcd6",
        ev(
            "BOUND6",
            new_dhcp6_ia_na1_ia_addr1="fd67::100:1",
            new_dhcp6_ia_na1_ia_addr1_pltime="20",
            new_dhcp6_ia_na1_ia_addr1_vltime="30",
            new_dhcp6_ia_na1_t1="5",
            new_dhcp6_ia_na1_t2="15",
            new_dhcp6_ia_pd1_prefix1="fd67:1000:0:100::",
            new_dhcp6_ia_pd1_prefix1_length="56",
            new_dhcp6_server_id="000100013299D0EF026700000001",
        ),
    )
    assert lease.addresses6 == (ipaddress.IPv6Interface("fd67::100:1/128"),)
    assert lease.prefixes == (ipaddress.IPv6Network("fd67:1000:0:100::/56"),)
    assert (lease.t1, lease.t2, lease.valid_lifetime) == (5, 15, 30)
    assert lease.server_id == "000100013299d0ef026700000001"


def test_other_reasons_carry_no_address() -> None:
    assert lease_from_event("x", ev("RELEASE6", old_ip6_address="fd67::1")) == Lease(
        "x", "RELEASE6", time=1.0
    )


def test_read_events_env0_files(tmp_path: Path) -> None:
    (tmp_path / "2000000000-7").write_bytes(b"HOOK_ARGS=renew\0ip=10.0.0.2\0multi=a\nb\0")
    (tmp_path / "1000000000-7").write_bytes(b"HOOK_ARGS=\0reason=BOUND\0x=1=2\0")
    (tmp_path / "3000000000-7.tmp").write_bytes(b"HOOK_ARGS=partial\0")
    events = read_events(tmp_path)
    assert [e.reason for e in events] == ["BOUND", "renew"]
    assert events[0].time == 1.0 and events[0].env["x"] == "1=2"
    assert events[1].env["multi"] == "a\nb" and events[1].args == "renew"
