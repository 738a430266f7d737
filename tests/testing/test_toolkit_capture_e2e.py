"""Packet captures show what the drivers put on the wire (dhcrelay -6 -I adds an Interface-Id)."""

from __future__ import annotations

import pytest

from dhcpbridge.testing.capture import Capture
from dhcpbridge.testing.clients import Dhclient, relay_for
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.kea import KeaLab

pytestmark = pytest.mark.e2e


def test_relayed_solicit_carries_interface_id_and_link_address(relayed_with_kea: KeaLab) -> None:
    require_e2e("tshark", "dhclient", "dhcrelay")
    topo = relayed_with_kea.topo
    relay = relay_for(topo["rly"], 6, topo.spec.facts)
    with relay, Capture(topo["srv"], "srv1") as cap, Dhclient(topo["cli"], mode="6") as client:
        client.obtain(timeout=30)
    forwards = cap.fields(
        "ipv6.src",
        "ipv6.dst",
        "dhcpv6.linkaddr",
        "dhcpv6.interface_id",
        display_filter="dhcpv6.msgtype == 12",
    )
    assert forwards, cap.summary()
    src, dst, link_address, interface_id = forwards[0]
    assert (src, dst, link_address) == ("fd68::2", "fd68::1", "fd69::1")
    assert interface_id  # -I: the relay names its client-facing interface
    replies = cap.summary("dhcpv6.msgtype == 13")
    assert len(replies) >= 2  # Relay-repl for Advertise and Reply


def test_dhclient4_sends_broadcast_discover_without_client_id(lab_with_kea: KeaLab) -> None:
    require_e2e("tshark", "dhclient")
    topo = lab_with_kea.topo
    with Capture(topo["srv"], "srv0") as cap, Dhclient(topo["cli"], mode="4") as client:
        client.obtain(timeout=30)
    discovers = cap.fields(
        "ip.src", "ip.dst", "dhcp.flags.bc", "dhcp.option.type", display_filter="dhcp.option.dhcp == 1"
    )
    assert discovers
    src, dst, broadcast_flag, option_types = discovers[0]
    assert (src, dst) == ("0.0.0.0", "255.255.255.255")
    assert broadcast_flag in ("0", "False")
    assert "53" in option_types.split(",") and "61" not in option_types.split(",")
