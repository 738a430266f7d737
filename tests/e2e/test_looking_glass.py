"""The looking glass with real clients: busybox udhcpc and ISC dhclient on a directly attached
veth get a lease from ``dhcpbridge serve``; their DISCOVER/OFFER/REQUEST/ACK then shows up in the
looking glass (the control socket and ``dhcpbridge looking-glass``), decoded, with the decision."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.clients import Dhclient, DhcpClient, Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import LAB_MACS, Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN, SHORT_LEASES
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e
PLAN = LAB_PLAN.with_lifetimes(**SHORT_LEASES)
CLIENT_MAC = LAB_MACS["cli0"]


@pytest.fixture(scope="module")
def lab() -> Iterator[Topology]:
    require_e2e("udhcpc", "dhclient")
    with lab_topology() as topo:
        yield topo


@pytest.fixture(scope="module")
def server(lab: Topology) -> Iterator[Any]:
    srv = h.V4Server(lab["srv"], lab.workdir / "dhcpbridge-glass", PLAN)
    with srv:
        yield srv
    assert "Traceback" not in srv.log(), srv.log()[-3000:]


def make(name: str, topo: Topology) -> DhcpClient:
    return Udhcpc(topo["cli"]) if name == "udhcpc" else Dhclient(topo["cli"], mode="4")


def glass(server: Any) -> list[dict[str, Any]]:
    try:
        found: list[dict[str, Any]] = server.control({"cmd": "looking-glass", "client": CLIENT_MAC})
    except RuntimeError:
        return []
    return found


@pytest.mark.parametrize("name", ["udhcpc", "dhclient"])
def test_a_real_clients_dora_shows_up_in_the_looking_glass(lab: Topology, server: Any, name: str) -> None:
    before = len(glass(server)[0]["exchanges"]) if glass(server) else 0
    with make(name, lab) as client:
        lease = client.obtain(timeout=30)
        assert lease.address is not None
        address = str(lease.address.ip)
        assert wait_for(
            lambda: len(glass(server)[0]["exchanges"]) >= before + 2 if glass(server) else False, 15
        )
        (found,) = glass(server)
    assert found["client"] == CLIENT_MAC and found["family"] == "v4"
    exchanges = found["exchanges"]  # newest first
    ack = next(e for e in exchanges if e["reply"] and e["reply"]["type"] == "DHCPACK")
    offer = next(e for e in exchanges if e["reply"] and e["reply"]["type"] == "DHCPOFFER")
    assert offer["request"]["type"] == "DHCPDISCOVER" and ack["request"]["type"] == "DHCPREQUEST"
    assert ack["reply"]["yiaddr"] == address
    assert ack["received"]["interface"] == "srv0"
    options = {o["name"]: o["value"] for o in ack["reply"]["options"]}
    assert options["routers"] == ["10.67.0.1"] and options["dhcp-lease-time"] == SHORT_LEASES["valid4"]
    requested = {o["name"] for o in ack["request"]["options"]}
    assert "dhcp-parameter-request-list" in requested
    decision = ack["decision"]
    assert decision["status"] == "sent" and decision["source"] == "pools"
    assert decision["subnet"] == "10.67.0.0/24" and decision["drop_reason"] is None
    # the CLI shows the same through the control socket
    argv = [h.EXE, "looking-glass", "--config", str(server.config_path), "--json", CLIENT_MAC]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)[0]["exchanges"][0]["decision"]["status"] in ("sent", "no-reply")
