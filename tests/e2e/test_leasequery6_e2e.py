"""RFC 5007 leasequery for a client behind a real relay (issue 13 §4): dhcpcd behind ISC
``dhcrelay -6 -I`` gets an address; the relay's own address (fd68::2, a configured requester)
asks the server by that address with an ORO naming OPTION_LQ_RELAY_DATA and the DNS servers, and
gets both in the OPTION_CLIENT_DATA (the link's configured DNS server, fd68::1, and the relay data: the relay the server heard (fd68::2) and dhcrelay's
RELAY-FORW as it came (link-address fd69::1, its Interface-ID), without the client's message).

Topology (``relayed_topology``): cli(cli0) <-> rly(rly0 fd69::1 | rly1 fd68::2) <-> srv(srv1 fd68::1).
"""

from __future__ import annotations

import ipaddress
import struct
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from dhcpbridge.testing.clients import Dhcpcd, relay_for
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology, relayed_topology
from dhcpbridge.testing.plan import RELAYED_PLAN
from dhcpbridge.wire.v6.message import Message6, parse6
from dhcpbridge.wire.v6.options import ClientData, IAAddr, LqRelayData
from dhcpbridge.wire.v6.relay_chain import parse_chain

pytestmark = pytest.mark.e2e

REQUESTER_DUID = bytes.fromhex("00030001026800000002")

# sent from the relay's namespace: one LEASEQUERY to [fd68::1]:547, the reply's hex on stdout
ASK = """
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("fd68::2", 0))
s.settimeout(5)
s.sendto(bytes.fromhex(sys.argv[1]), ("fd68::1", 547))
print(s.recvfrom(4096)[0].hex())
"""


def opt(code: int, body: bytes) -> bytes:
    return struct.pack("!HH", code, len(body)) + body


def leasequery_by_address(address: str, *codes: int) -> bytes:
    """LEASEQUERY (14) with the requester's CLIENTID and an OPTION_LQ_QUERY by address (link ::)
    whose query-options carry the IAADDR and an ORO of ``codes``."""
    oro = opt(6, b"".join(struct.pack("!H", c) for c in codes))
    iaaddr = opt(5, ipaddress.IPv6Address(address).packed + bytes(8))
    query = opt(44, b"\x01" + bytes(16) + iaaddr + oro)
    return bytes((14,)) + (0x4C5107).to_bytes(3, "big") + opt(1, REQUESTER_DUID) + query


@pytest.fixture(scope="module")
def relayed() -> Iterator[Topology]:
    require_e2e("dhcpcd", "dhcrelay")
    with relayed_topology() as topo:
        yield topo


def test_leasequery_gives_the_relay_data_of_a_relayed_client(relayed: Topology, server6_class: Any) -> None:
    work = relayed.workdir / "leasequery6"
    work.mkdir()
    plan = RELAYED_PLAN
    extra = {
        "server": {"interfaces": list(plan.interfaces), "control-socket": str(work / "control.sock")},
        "server6": {"leasequery-requesters": ["fd68::2"]},
    }
    server = server6_class(relayed["srv"], work / "srv", plan, extra=extra)
    client = Dhcpcd(relayed["cli"], family=6, ia_pd=False)
    with server, relay_for(relayed["rly"], 6, relayed.spec.facts) as relay, client:
        assert relay.interface_id  # dhcrelay -I
        (address,) = client.obtain(timeout=30).addresses6
        query = leasequery_by_address(str(address.ip), 47, 23)
        out = relayed["rly"].run([sys.executable, "-c", ASK, query.hex()], timeout=20)
        reply = parse6(bytes.fromhex(out.stdout.strip()))
        assert isinstance(reply, Message6) and reply.msg_type == 15 and reply.status is None, reply
        data = reply.get(ClientData)
        assert data is not None, reply
        assert [a.address for a in data.get_all(IAAddr)] == [address.ip]
        assert data.raw(23) == ipaddress.IPv6Address("fd68::1").packed, data  # the link's DNS server
        relay_data = data.get(LqRelayData)
        assert relay_data is not None and relay_data.peer_address == ipaddress.IPv6Address("fd68::2")
        (forw,) = parse_chain(relay_data.relay_message)
        assert forw.link_address == ipaddress.IPv6Address("fd69::1"), forw
        assert forw.raw(18) and not forw.has(9), forw  # dhcrelay's Interface-ID; no client message
        assert forw.peer_address.is_link_local, forw  # the client's own address
    assert "Traceback" not in server.log(), server.log()[-3000:]
