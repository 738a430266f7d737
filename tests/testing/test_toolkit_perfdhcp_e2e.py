"""perfdhcp runs against Kea through dhcpbridge.testing.perfdhcp, with CPU accounting."""

from __future__ import annotations

import pytest

from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.kea import Kea4, Kea6
from dhcpbridge.testing.netns import lab_topology
from dhcpbridge.testing.perfdhcp import perfdhcp4, perfdhcp6
from dhcpbridge.testing.plan import LAB_PLAN

pytestmark = pytest.mark.e2e


def test_perfdhcp4_relay_mode_with_latency() -> None:
    require_e2e("perfdhcp", "kea-dhcp4")
    with lab_topology() as topo, Kea4(topo["srv"], topo.workdir / "k4", LAB_PLAN) as kea:
        r = perfdhcp4(topo["rly"], rate=500, period=2, clients=2000, latency=True, server_pid=kea.pid)
        seen = r.summary()
        assert r.ok and r.exit_code == 0, seen
        # the rate is what completed in the period (333/s was the bug of dividing by the period
        # plus perfdhcp's -W wait: tests/testing/test_toolkit_perfdhcp_parse.py)
        assert r.sent == pytest.approx(1000, rel=0.05), seen
        assert r.drop_pct < 1.0, seen
        assert r.rate == pytest.approx(500, rel=0.05), seen
        assert r.rate == pytest.approx(r.completed / 2, rel=0.01), seen
        assert r.p50_ms is not None and r.p99_ms is not None and 0 < r.p50_ms <= r.p99_ms < 100
        assert r.server_cpu_s is not None and r.server_cpu_s > 0
        assert r.cpu_us_per_exchange is not None and r.cpu_us_per_exchange > 0
        # hard bound: -p 2 + 20 s + 0.2 s to print 1000 timestamps with -x t, rounded up
        assert r.command[:6] == ["timeout", "-s", "INT", "-k", "5", "23"]
        assert "taskset" in r.command
        leases = kea.leases()
        assert len(leases) > 100 and all(row["address"].startswith("10.68.") for row in leases)


@pytest.mark.parametrize(
    ("relay", "lease_type"), [(False, "address-only"), (False, "prefix-only"), (True, "address-only")]
)
def test_perfdhcp6(relay: bool, lease_type: str) -> None:
    require_e2e("perfdhcp", "kea-dhcp6")
    with lab_topology() as topo, Kea6(topo["srv"], topo.workdir / "k6", LAB_PLAN) as kea:
        ns = topo["rly"] if relay else topo["cli"]
        r = perfdhcp6(
            ns,
            rate=300,
            period=2,
            clients=2000,
            lease_type=lease_type,
            relay=relay,
            interface="rly0" if relay else "cli0",
            server_pid=kea.pid,
        )
        assert r.ok and r.family == 6
        assert r.drop_pct < 1.0
        assert r.cpu_us_per_exchange is not None
        rows = kea.leases()
        expect = "fd68:" if relay else ("fd67:1000:" if lease_type == "prefix-only" else "fd67::")
        assert rows and all(row["address"].startswith(expect) for row in rows)


def test_perfdhcp_without_server_reports_total_loss() -> None:
    require_e2e("perfdhcp")
    with lab_topology() as topo:
        r = perfdhcp4(topo["rly"], rate=200, period=1, clients=100)
        assert r.sent > 0 and r.completed == 0 and r.drop_pct == 100.0
        assert not r.ok and r.server_cpu_s is None
