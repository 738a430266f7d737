"""The looking glass for relayed DHCPv6: ISC ``dhclient -6`` behind ``dhcrelay -6 -I`` gets an
address from ``dhcpbridge serve``; the client's exchanges then show up in the looking glass
(through the control socket), found by its DUID, by the MAC inside it and by the relay's
Interface-ID, each with the whole relay chain decoded (RELAY-FORW around the client's message,
RELAY-REPL around the reply, the Interface-ID echoed) and the decision."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge import control
from dhcpbridge.testing.clients import Dhclient, relay_for
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology
from dhcpbridge.testing.server import wait_for

pytestmark = pytest.mark.e2e


def look(socket: Path, client: str) -> list[dict[str, Any]]:
    try:
        found: list[dict[str, Any]] = asyncio.run(
            control.call(socket, {"cmd": "looking-glass", "client": client}, timeout=15)
        )
    except (ValueError, ConnectionError):
        return []
    return found


def inner(msg: dict[str, Any]) -> dict[str, Any]:
    while msg["type"].startswith("RELAY"):
        msg = next(o["value"] for o in msg["options"] if o["code"] == 9)
    return msg


def test_a_relayed_dhclient6_shows_up_with_its_relay_chain(
    relayed6: Topology, server6_class: Any, relayed6_plan: Any
) -> None:
    require_e2e("dhclient", "dhcrelay")
    work = relayed6.workdir / "glass6"
    work.mkdir()
    socket = work / "control.sock"
    extra = {"server": {"interfaces": list(relayed6_plan.interfaces), "control-socket": str(socket)}}
    server = server6_class(relayed6["srv"], work / "srv", relayed6_plan, extra)
    with (
        server,
        relay_for(relayed6["rly"], 6, relayed6.spec.facts),
        Dhclient(relayed6["cli"], mode="6") as client,
    ):
        lease = client.obtain(timeout=30)
        assert lease.address6 is not None
        rows = server.leases()
        duid = rows[0]["client"][4:]  # the lease key is IAID + DUID
        found = wait_for(lambda: look(socket, duid.hex(":")), 15)
        assert found, "the client is not in the looking glass"
        (view,) = look(socket, duid.hex(":"))
        assert view["family"] == "v6" and view["client"] == duid.hex(":")
        exchanges = view["exchanges"]
        reply = next(e for e in exchanges if e["reply"] and inner(e["reply"])["type"] == "REPLY")
        assert reply["request"]["type"] == "RELAY_FORW" and inner(reply["request"])["type"] == "REQUEST"
        assert reply["reply"]["type"] == "RELAY_REPL"
        assert any(o["code"] == 18 for o in reply["request"]["options"])  # dhcrelay -I: Interface-ID
        assert any(o["code"] == 18 for o in reply["reply"]["options"])  # echoed in the RELAY-REPL
        ia = next(o for o in inner(reply["reply"])["options"] if o["name"] == "ia-na")
        assert str(lease.address6.ip) in str(ia["value"])
        assert any(inner(e["request"])["type"] == "SOLICIT" for e in exchanges)
        decision = reply["decision"]
        assert decision["status"] == "sent" and decision["source"] == "pools" and decision["subnet"]
        interface_id = view["identifiers"]["interface-id"]
        assert look(socket, interface_id)[0]["client"] == duid.hex(":")
        if "mac" in view["identifiers"]:  # dhclient's DUID-LLT/LL holds the MAC
            assert look(socket, view["identifiers"]["mac"])[0]["client"] == duid.hex(":")
