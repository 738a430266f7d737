"""The looking glass over real engines (no sockets): a DORA filed under the client's MAC with
its request and reply decoded and its decision path; a drop names the hook that dropped it; a
relayed DHCPv6 exchange found by its interface-id with the relay chain decoded; and the bounds:
a flood of random MACs keeps at most ``clients`` rings of at most ``per_client`` exchanges (and
a fixed amount of memory), while a client keeps its own exchanges through any amount of other
clients' traffic until ``clients`` newer clients need its ring."""

from __future__ import annotations

import gc
import ipaddress
import random
import time
import tracemalloc
from typing import Any

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.glass import LookingGlass
from dhcpbridge.glass.decode import client_to_json, exchange_to_json, summary_to_json
from dhcpbridge.leases import open_store
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, parse

CONFIG4 = {
    "subnet4": [
        {
            "subnet": "10.68.0.0/16",
            "pools": ["10.68.1.0-10.68.255.254"],
            "options": {"routers": ["10.68.0.1"], "domain-name": "glass.test"},
        }
    ]
}
GIADDR = ip4_int("10.68.0.2")
META4 = Meta4(GIADDR, 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "srv1")


def engine4() -> Any:
    cfg = loader.from_dict(CONFIG4)
    return build_engine4(
        cfg, open_store("memory://"), HostInfo.build({"srv1": (ip4_int("10.68.0.1"),)}), Stats()
    )


def tlv(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


def request4(kind: int, mac: bytes, extra: dict[int, bytes] | None = None) -> bytes:
    opts = {53: bytes([kind]), 55: bytes([1, 3, 6, 15])}
    opts[82] = tlv(1, b"eth0/1/7") + tlv(2, b"olt-9")
    opts.update(extra or {})
    return encode(Message4(xid=0x1234, hops=1, giaddr=GIADDR, chaddr=mac, options=opts))


def exchange(glass: LookingGlass, engine: Any, data: bytes, meta: Any = META4, family: str = "v4") -> Any:
    outcome = run_inline(engine.process(data, meta, time.time()))
    status = "sent" if outcome.data is not None else ("dropped" if outcome.drop_reason else "no-reply")
    glass.record(family, outcome, meta, time.time(), status)
    return outcome


def dora(glass: LookingGlass, engine: Any, mac: bytes) -> None:
    offer = exchange(glass, engine, request4(1, mac))
    assert offer.data is not None
    o = parse(offer.data)
    ack = exchange(glass, engine, request4(3, mac, {50: o.yiaddr.to_bytes(4, "big"), 54: o.options[54]}))
    assert ack.data is not None
    run_inline(engine.env.store.flush())
    ack.effects.clear()


def test_a_dora_is_filed_under_the_mac_decoded_with_its_decision_path() -> None:
    glass = LookingGlass()
    engine = engine4()
    glass.set_steps("v4", engine.pipeline.handlers)
    mac = bytes.fromhex("026700000001")
    dora(glass, engine, mac)
    found = glass.find("02:67:00:00:00:01")
    assert len(found) == 1
    view = client_to_json(*found[0])
    assert view["client"] == "02:67:00:00:00:01" and view["family"] == "v4"
    ack, offer = view["exchanges"]  # newest first
    assert offer["request"]["type"] == "DHCPDISCOVER" and offer["reply"]["type"] == "DHCPOFFER"
    assert ack["request"]["type"] == "DHCPREQUEST" and ack["reply"]["type"] == "DHCPACK"
    names = {o["name"]: o["value"] for o in ack["reply"]["options"]}
    assert names["routers"] == ["10.68.0.1"] and names["domain-name"] == "glass.test"
    assert ack["reply"]["yiaddr"].startswith("10.68.")
    relay = {o["name"]: o["value"] for o in ack["request"]["options"]}["dhcp-agent-options"]
    assert relay["circuit-id"]["text"] == "eth0/1/7" and relay["remote-id"]["text"] == "olt-9"
    decision = ack["decision"]
    assert decision["status"] == "sent" and decision["subnet"] == "10.68.0.0/16"
    assert decision["source"] == "pools" and decision["action"] == "assign"
    assert decision["drop_reason"] is None and decision["dropped_by"] is None
    assert "Classify" in decision["steps"] and "AskSources" in decision["steps"]
    assert ack["reply_to"] == "10.68.0.2:67"
    # the same client by its circuit-id (text) and remote-id (hex)
    assert glass.find("eth0/1/7")[0][1] == mac
    assert glass.find(b"olt-9".hex(":"))[0][1] == mac
    assert glass.find("02:67:00:00:00:99") == []
    summary = summary_to_json(*glass.recent()[0])
    assert summary["request"] == "DHCPREQUEST" and summary["reply"] == "DHCPACK" and summary["exchanges"] == 2


def test_a_drop_names_the_hook_that_dropped_it() -> None:
    glass = LookingGlass()
    engine = engine4()
    outcome = exchange(glass, engine, request4(1, bytes.fromhex("026700000002"), {61: b"\x01"}))
    assert outcome.data is None
    (found,) = glass.find("026700000002")
    decision = client_to_json(*found)["exchanges"][0]["decision"]
    assert decision["status"] == "dropped" and decision["drop_reason"] == "bad-client-id"
    assert decision["dropped_by"] == "Classify.pre"
    assert client_to_json(*found)["exchanges"][0]["reply"] is None


CONFIG6 = {
    "server6": {"server-duid": "ll:02:67:00:00:00:01"},
    "subnet6": [
        {
            "subnet": "fd67::/64",
            "pools": ["fd67::100:0/104"],
            "relay-link-addresses": ["fd67::2"],
            "options": {"dns-servers": ["fd67::1"]},
        }
    ],
}
RELAY_META = Meta6("fd67::2", 547, ipaddress.IPv6Address("fd67::1").packed, 2, "srv0")


def opt6(code: int, body: bytes) -> bytes:
    return code.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body


def test_a_relayed_v6_exchange_is_found_by_interface_id_with_its_relay_chain() -> None:
    cfg = loader.from_dict(CONFIG6)
    engine = build_engine6(cfg, open_store("memory://"), HostInfo6({}), Stats(), build_sources(cfg))
    glass = LookingGlass()
    glass.set_steps("v6", engine.pipeline.handlers)
    duid = bytes.fromhex("00030001026700000007")
    ia = opt6(3, (7).to_bytes(4, "big") + bytes(8))
    solicit = bytes([1, 0, 0, 9]) + opt6(1, duid) + opt6(8, b"\0\0") + ia
    relay = (
        bytes([12, 0])
        + ipaddress.IPv6Address("fd67::2").packed
        + ipaddress.IPv6Address("fe80::7").packed
        + opt6(18, b"port-7")
        + opt6(9, solicit)
    )
    outcome = exchange(glass, engine, relay, RELAY_META, "v6")
    assert outcome.data is not None, outcome.drop_reason
    (found,) = glass.find("port-7")
    view = client_to_json(*found)
    assert view["client"] == duid.hex(":") and view["family"] == "v6"
    assert view["identifiers"]["mac"] == "02:67:00:00:00:07"  # from the DUID-LL
    (ex,) = view["exchanges"]
    assert ex["request"]["type"] == "RELAY_FORW"
    inner = next(o for o in ex["request"]["options"] if o["code"] == 9)["value"]
    assert inner["type"] == "SOLICIT"
    assert ex["reply"]["type"] == "RELAY_REPL"
    reply = next(o for o in ex["reply"]["options"] if o["code"] == 9)["value"]
    assert reply["type"] == "ADVERTISE"
    assert any(o["code"] == 18 for o in ex["reply"]["options"])  # interface-id echoed
    assert ex["decision"]["subnet"] == "fd67::/64" and ex["decision"]["source"] == "pools"
    assert glass.find("02:67:00:00:00:07")[0][1] == duid  # by the MAC inside the DUID


def test_a_flood_of_random_macs_stays_within_the_bounds() -> None:
    glass = LookingGlass(clients=200, per_client=4)  # 200 rings of 4 exchanges
    engine = engine4()
    rng = random.Random(12)
    now = time.time()
    outcomes = [run_inline(engine.process(request4(1, rng.randbytes(6)), META4, now)) for _ in range(3000)]
    for outcome in outcomes[:1000]:  # every ring is taken after these
        glass.record("v4", outcome, META4, now, "sent")
    # recording keeps no per-exchange object: nothing new for the garbage collector, and the
    # heap does not grow with the flood (the bytes live in the preallocated arena)
    gc.collect()
    tracked = len(gc.get_objects())
    for outcome in outcomes[1000:2000]:  # 1000 more clients (their packets exist already)
        glass.record("v4", outcome, META4, now, "sent")
    assert len(gc.get_objects()) - tracked < 50
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    for outcome in outcomes[2000:]:  # and 1000 more
        glass.record("v4", outcome, META4, now, "sent")
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # (what is alive from then on is at most the few int objects per slot of the 800 slots: the
    # ones they replaced were allocated before tracing, so their freeing does not count; the
    # datagrams were made before tracing too)
    assert grown < glass.slots * 160, grown
    stats = glass.stats()
    assert stats["clients"] == 200 and stats["exchanges"] == 200 and len(glass.recent(10_000)) == 200
    assert stats["filed"] == 3000 and stats["overwritten"] == 2800 and stats["evicted"] == 2800
    last = outcomes[-1].tx.request.mac
    assert len(glass.find(last.hex())) == 1
    assert glass.find(outcomes[0].tx.request.mac.hex()) == []  # the oldest went first
    for _ in range(10):
        exchange(glass, engine, request4(1, last))
    (found,) = glass.find(last.hex())
    assert len(found[2]) == 4  # a look shows the client's last 4
    assert glass.recent(1)[0][1] == last


def test_a_client_keeps_its_exchanges_through_10000_of_other_clients() -> None:
    glass = LookingGlass(clients=64, per_client=4)  # 256 slots in all
    engine = engine4()
    quiet = bytes.fromhex("02670000a0a0")
    dora(glass, engine, quiet)
    others = [bytes([2, 0x67, 1, 0, 0, i]) for i in range(40)]
    now = time.time()
    discovers = [request4(1, mac) for mac in others]
    for n in range(10_000):  # the others' traffic: 250 exchanges each
        outcome = run_inline(engine.process(discovers[n % len(others)], META4, now))
        glass.record("v4", outcome, META4, now, "sent")
    (found,) = glass.find(quiet.hex())
    assert [e.request.options[53] for e in found[2]] == [b"\x01", b"\x03"]  # its DISCOVER and REQUEST
    assert all(len(entries) == 4 for _, key, entries in glass.recent(100) if key != quiet)
    stats = glass.stats()
    assert stats["clients"] == 41 and stats["evicted"] == 0 and stats["exchanges"] == 2 + 40 * 4
    # a new client takes a free ring; once all are taken, one not seen for a while goes
    for i in range(23):
        exchange(glass, engine, request4(1, bytes([2, 0x67, 2, 0, 0, i])))
    assert glass.stats()["evicted"] == 0 and len(glass.find(quiet.hex())) == 1
    exchange(glass, engine, request4(1, bytes([2, 0x67, 3, 0, 0, 0])))
    assert glass.stats()["evicted"] == 1 and glass.find(quiet.hex()) == []  # the least recent


def test_new_clients_take_the_rings_of_the_oldest_and_every_kept_exchange_decodes() -> None:
    glass = LookingGlass(clients=50, per_client=2)  # 100 slots
    engine = engine4()
    macs = [bytes([2, 0, 0, 0, i >> 8, i & 255]) for i in range(250)]
    for mac in macs:
        exchange(glass, engine, request4(1, mac))
    assert glass.stats()["exchanges"] == 50 and glass.stats()["overwritten"] == 200
    seen = glass.recent(1000)
    assert [key for _, key, _ in seen] == macs[::-1][:50]
    for _, key, (entry,) in seen:
        view = exchange_to_json(entry)
        assert view["request"]["chaddr"] == key.hex(":") and view["reply"]["type"] == "DHCPOFFER"
        assert view["received"]["src"] == "10.68.0.2:67" and view["reply_to"] == "10.68.0.2:67"


def test_resize_to_other_bounds_starts_empty_and_the_same_bounds_keep_all() -> None:
    glass = LookingGlass(clients=10, per_client=8)
    engine = engine4()
    for i in range(10):
        for _ in range(3):
            exchange(glass, engine, request4(1, bytes([2, 0, 0, 0, 0, i])))
    glass.resize(10, 8)  # a reload that kept the bounds
    kept = glass.recent()
    assert [key[-1] for _, key, _ in kept] == list(range(9, -1, -1))  # the most recently seen first
    assert all(len(entries) == 3 for _, _, entries in kept)
    glass.resize(4, 2)
    assert glass.stats()["exchanges"] == 0 and glass.recent() == []
