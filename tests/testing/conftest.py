"""Fixtures for the toolkit's own tests: lab topologies with Kea 4 and 6 on short leases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.kea import KeaLab, kea_lab
from dhcpbridge.testing.netns import lab_topology, relayed_topology
from dhcpbridge.testing.plan import LAB_PLAN, RELAYED_PLAN, SHORT_LEASES


@pytest.fixture(scope="module")
def lab_with_kea() -> Iterator[KeaLab]:
    """The lab topology with kea-dhcp4 and kea-dhcp6 running (T1 5 s, lease 30 s)."""
    require_e2e("kea-dhcp4", "kea-dhcp6")
    with lab_topology() as topo, kea_lab(topo, LAB_PLAN.with_lifetimes(**SHORT_LEASES)) as lab:
        yield lab


@pytest.fixture(scope="module")
def relayed_with_kea() -> Iterator[KeaLab]:
    """The relayed topology (client behind dhcrelay) with both Kea daemons on short leases."""
    require_e2e("kea-dhcp4", "kea-dhcp6", "dhcrelay")
    with relayed_topology() as topo, kea_lab(topo, RELAYED_PLAN.with_lifetimes(**SHORT_LEASES)) as lab:
        yield lab
