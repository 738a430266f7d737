"""Relayed DHCPv6: replies inside the matching RELAY-REPL chain (1-8 relays deep), Interface-ID
echoed per layer, the link chosen by the link-address of the relay closest to the client (RFC
6221 Lightweight Relays leave it ``::``), replies sent to the relay's port."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.core import Outcome
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v6.engine import Outcome6
from dhcpbridge.leases import MemoryStore
from dhcpbridge.sources.question import question
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6, parse6
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    ClientId,
    EchoRequest,
    InterfaceId,
    MessageType6,
    Option6,
    RawOption,
    RelaySourcePort,
    RemoteId,
)

NOW = 1_800_000_000.0
RELAY = "fd68::2"
META = Meta6(RELAY, 547, ipaddress.IPv6Address("fd68::1").packed, 3, "srv1")
CONFIG: dict[str, Any] = {
    "server6": {"server-duid": "ll:02:67:00:00:00:01"},
    "subnet6": [
        {"subnet": "fd67::/64", "pools": ["fd67::100:0/120"], "interface": "srv0"},
        {
            "subnet": "fd68::/64",
            "pools": ["fd68::100:0/120"],
            "interface": "srv1",
            "pd-pools": [{"prefix": "fd68:1000::/48", "delegated-length": 56}],
        },
        {"subnet": "fd69::/64", "pools": ["fd69::100:0/120"]},
        {"subnet": "fd70::/64", "pools": ["fd70::100:0/120"], "relay-link-addresses": ["2001:db8:70::1"]},
    ],
}


def engine() -> Any:
    cfg = loader.from_dict(CONFIG)
    return build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), build_sources(cfg))


def solicit(xid: int = 1) -> Message6:
    client = Duid.ll(1, bytes.fromhex("026900000002"))
    return Message6(MessageType6.SOLICIT, xid, [ClientId(client), IANA(1), IAPD(2)])


def wrap(msg: Message6 | RelayMessage6, links: list[str], innermost_options: list[Option6]) -> RelayMessage6:
    """Wrap in one RELAY-FORW per link-address, the first being the relay closest to the client."""
    out: Message6 | RelayMessage6 = msg
    for hop, link in enumerate(links):
        opts: list[Option6] = list(innermost_options) if hop == 0 else [InterfaceId(f"hop{hop}".encode())]
        opts.append(RelayMsg(out))
        peer = "fe80::69:ff:fe00:2" if hop == 0 else f"fe80::{hop}"
        out = RelayMessage6(12, hop, ipaddress.IPv6Address(link), ipaddress.IPv6Address(peer), opts)
    assert isinstance(out, RelayMessage6)
    return out


def run(eng: Any, msg: Message6 | RelayMessage6 | bytes, meta: Meta6 = META) -> Outcome6:
    data = msg if isinstance(msg, bytes) else encode6(msg)
    out = run_inline(eng.process(data, meta, NOW))
    assert isinstance(out, Outcome)
    return out


@pytest.mark.parametrize("depth", range(1, 9))
def test_reply_is_wrapped_in_the_matching_relay_chain(depth: int) -> None:
    eng = engine()
    links = ["fd69::1", *["::"] * (depth - 1)]
    forw = wrap(solicit(), links, [InterfaceId(b"port-7")])
    out = run(eng, forw)
    assert out.data is not None and out.dest == (RELAY, 547, 0, 0)
    cur = parse6(out.data)
    layers = []
    while isinstance(cur, RelayMessage6):
        layers.append(cur)
        assert cur.msg_type == MessageType6.RELAY_REPL
        nxt = cur.message
        assert nxt is not None
        cur = nxt
    assert len(layers) == depth
    # outermost first: each layer copies hop count, link and peer of its RELAY-FORW, echoes its Interface-ID
    sent: list[RelayMessage6] = []
    node: Message6 | RelayMessage6 | None = forw
    while isinstance(node, RelayMessage6):
        sent.append(node)
        node = node.message
    for got, want in zip(layers, sent, strict=True):
        assert (got.hop_count, got.link_address, got.peer_address) == (
            want.hop_count,
            want.link_address,
            want.peer_address,
        )
        assert got.interface_id == want.interface_id
        assert got.options[-1].code == 9  # Relay Message last, after the echoed options
    assert isinstance(cur, Message6) and cur.msg_type == MessageType6.ADVERTISE
    [ia] = cur.ia_na
    assert ipaddress.IPv6Address(ia.addresses[0].address) in ipaddress.ip_network("fd69::/64")


def test_lightweight_relay_link_address_defers_to_the_next_relay() -> None:
    eng = engine()
    # an LDRA (RFC 6221) next to the client sets link-address ::, the relay above it fd69::1
    forw = wrap(solicit(), ["::", "fd69::1"], [InterfaceId(b"ldra-port-3")])
    out = run(eng, forw)
    assert out.tx is not None and out.tx.subnet is not None and out.tx.subnet.name == "fd69::/64"
    assert out.tx.interface_id == b"ldra-port-3"  # identifiers come from the relay closest to the client


def test_only_ldras_means_the_receiving_interface_decides() -> None:
    eng = engine()
    out = run(eng, wrap(solicit(), ["::"], [InterfaceId(b"p1")]), Meta6("fe80::9", 547, bytes(16), 3, "srv1"))
    assert out.tx is not None and out.tx.subnet is not None and out.tx.subnet.name == "fd68::/64"
    assert out.dest == ("fe80::9", 547, 0, 3)


def test_configured_relay_link_address_selects_its_subnet() -> None:
    eng = engine()
    out = run(eng, wrap(solicit(), ["2001:db8:70::1"], []))
    assert out.tx is not None and out.tx.subnet is not None and out.tx.subnet.name == "fd70::/64"
    unknown = run(eng, wrap(solicit(), ["2001:db8:99::1"], []))
    assert unknown.data is None and unknown.drop_reason == "no-subnet"


def test_relay_source_port_is_answered_on_that_port() -> None:
    eng = engine()
    forw = wrap(solicit(), ["fd69::1"], [RelaySourcePort(0)])
    out = run(eng, forw, Meta6(RELAY, 40123, bytes(16), 3, "srv1"))
    assert out.dest == (RELAY, 40123, 0, 0)
    reply = parse6(out.data or b"")
    assert isinstance(reply, RelayMessage6) and reply.has(135)  # echoed (RFC 8357)


def test_ero_requested_options_are_echoed() -> None:
    eng = engine()
    forw = wrap(solicit(), ["fd69::1"], [EchoRequest([37]), RemoteId(9, b"line-1"), RawOption(38, b"sub")])
    out = run(eng, forw)
    reply = parse6(out.data or b"")
    assert isinstance(reply, RelayMessage6)
    assert [o.code for o in reply.options] == [37, 9]  # Remote-ID asked for by the ERO; not 38


def test_relay_identifiers_reach_the_transaction() -> None:
    eng = engine()
    opts: list[Option6] = [
        InterfaceId(b"eth0/1/2"),
        RemoteId(4491, b"\x0a\x0b"),
        RawOption(38, b"subscriber-1"),
    ]
    out = run(eng, wrap(solicit(), ["fd69::1", "fd68::2"], opts))
    tx = out.tx
    assert tx is not None
    assert (tx.interface_id, tx.remote_enterprise, tx.remote_id) == (b"eth0/1/2", 4491, b"\x0a\x0b")
    assert tx.subscriber_id == b"subscriber-1"
    assert tx.relay_ip == "fd69::1"
    q = question(tx)
    assert q["interface_id"] == {"hex": "657468302f312f32", "text": "eth0/1/2"}
    assert q["remote_id"] == {"hex": "0a0b", "enterprise": 4491}
    assert q["msg_type"] == "SOLICIT" and q["duid"] == "00030001026900000002"
    assert q["ia_na"] == [{"iaid": 1}] and q["ia_pd"] == [{"iaid": 2}]
    assert q["client_ip"] == "fe80::69:ff:fe00:2" and q["relay_ip"] == "fd69::1"


def test_client_link_layer_address_from_the_relay() -> None:
    eng = engine()
    msg = Message6(MessageType6.SOLICIT, 5, [ClientId(Duid.en(9, b"abc")), IANA(1)])
    out = run(eng, wrap(msg, ["fd69::1"], [RawOption(79, bytes.fromhex("0001aabbccddeeff"))]))
    assert out.tx is not None and out.tx.client_mac == bytes.fromhex("aabbccddeeff")


def test_relay_repl_and_malformed_relays_are_dropped() -> None:
    eng = engine()
    repl = RelayMessage6(
        13, 0, ipaddress.IPv6Address("fd69::1"), ipaddress.IPv6Address("fe80::1"), [RelayMsg(solicit())]
    )
    assert run(eng, repl).drop_reason == "relay-reply-received"
    no_msg = bytes.fromhex("0c00") + bytes(32)
    assert run(eng, no_msg).drop_reason == "malformed:no-relay-msg"
    truncated = encode6(wrap(solicit(), ["fd69::1"], []))[:-3]
    assert (run(eng, truncated).drop_reason or "").startswith("malformed:")


def test_relayed_exchange_binds_and_renews_through_the_relay() -> None:
    eng = engine()
    adv = parse6(run(eng, wrap(solicit(1), ["fd69::1"], [])).data or b"")
    assert isinstance(adv, RelayMessage6)
    inner = adv.message
    assert isinstance(inner, Message6)
    ias = [o for o in inner.options if o.code in (3, 25)]
    sid = inner.raw(2) or b""
    client = solicit().options[0]
    req = Message6(MessageType6.REQUEST, 2, [client, RawOption(2, sid), *ias])
    reply = parse6(run(eng, wrap(req, ["fd69::1"], [])).data or b"")
    assert isinstance(reply, RelayMessage6)
    got = reply.message
    assert isinstance(got, Message6) and got.msg_type == MessageType6.REPLY
    [na] = got.ia_na
    assert ipaddress.IPv6Address(na.addresses[0].address) in ipaddress.ip_network("fd69::100:0/120")
    assert got.ia_pd[0].status is not None  # fd69::/64 has no PD pool: NoPrefixAvail in the IA
    lease = run_inline(eng.env.store.get(LeaseKind.NA, int(na.addresses[0].address)))
    assert lease.relay == "fd69::1" and lease.subnet == "fd69::/64"


def test_leases_per_circuit_caps_the_clients_of_one_interface_id() -> None:
    """Issue 9 point 6 for v6: the relay link plus Interface-ID is a circuit; beyond its cap a new
    client's IAs get NoAddrsAvail / NoPrefixAvail, its held ones stay, other ports are served."""
    cfg = loader.from_dict({**CONFIG, "limits": {"leases-per-circuit": 2}})
    eng = build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), build_sources(cfg))

    def ask(n: int, port: bytes) -> Outcome6:
        duid = Duid.ll(1, bytes([2, 0x69, 0, 0, 1, n]))
        msg = Message6(MessageType6.SOLICIT, n, [ClientId(duid), IANA(1)])
        return run(eng, wrap(msg, ["fd68::2"], [InterfaceId(port)]))

    def addresses(out: Outcome6) -> int:
        return len([lease for lease in out.tx.leases if lease.kind == LeaseKind.NA])

    assert [addresses(ask(n, b"port-1")) for n in range(5)] == [1, 1, 0, 0, 0]
    assert eng.env.stats.refused["lease-cap-circuit"] == 3
    assert addresses(ask(0, b"port-1")) == 1  # a client counted already asks again
    assert addresses(ask(9, b"port-2")) == 1
