"""RFC 4388 DHCPv4 Leasequery from the lease store: by IP address, MAC address and client id,
only from ``[server] leasequery-requesters``, the reply to giaddr."""

from __future__ import annotations

from typing import Any

from dhcpbridge.assemble import build_engine4, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, ip4_str, parse

NOW = 1_800_000_000.0
SERVER = ip4_int("10.73.0.1")
REQUESTER = ip4_int("10.68.0.2")
MAC = bytes.fromhex("027300000001")
ACTIVE, UNASSIGNED, UNKNOWN = 13, 11, 12


def lab(requesters: list[str] | None = None) -> Any:
    cfg: dict[str, Any] = {
        "leases": {"store": "memory://"},
        "subnet4": [{"subnet": "10.73.0.0/24", "interface": "eth0", "pools": ["10.73.0.100-10.73.0.199"]}],
    }
    if requesters is not None:
        cfg["server"] = {"leasequery-requesters": requesters}
    conf = from_dict(cfg)
    host = HostInfo.build({"eth0": (SERVER,), "eth1": (ip4_int("10.68.0.1"),)})
    engine = build_engine4(conf, MemoryStore(), host, Stats(), sources=build_sources(conf))
    direct = Meta4(0, 68, BROADCAST, SERVER, 2, "eth0")
    offer = parse(
        run_inline(
            engine.process(encode(Message4(xid=1, chaddr=MAC, options={53: b"\x01"})), direct, NOW)
        ).data
    )
    req = {53: b"\x03", 50: offer.yiaddr.to_bytes(4, "big"), 54: SERVER.to_bytes(4, "big")}
    ack = parse(
        run_inline(engine.process(encode(Message4(xid=2, chaddr=MAC, options=req)), direct, NOW)).data
    )
    assert ack.msg_type == 5
    return engine, ack.yiaddr


def query(engine: Any, src: int = REQUESTER, **kw: Any) -> Any:
    options = {53: b"\x0a", **kw.pop("options", {})}
    msg = Message4(xid=9, giaddr=REQUESTER, options=options, **kw)
    return run_inline(
        engine.process(
            encode(msg), Meta4(src, 67, ip4_int("10.68.0.1"), ip4_int("10.68.0.1"), 3, "eth1"), NOW + 100
        )
    )


def test_by_ip_mac_and_client_id() -> None:
    engine, addr = lab(["10.68.0.0/30"])
    out = query(engine, ciaddr=addr, hlen=0, chaddr=b"")
    reply = parse(out.data)
    assert reply.msg_type == ACTIVE and reply.ciaddr == addr and reply.chaddr[:6] == MAC
    assert int.from_bytes(reply.options[51], "big") == 3600 - 100
    assert int.from_bytes(reply.options[91], "big") == 100
    assert out.tx.dest_ip == REQUESTER and out.tx.dest_port == 67
    by_mac = parse(query(engine, chaddr=MAC).data)
    assert (
        by_mac.msg_type == ACTIVE and by_mac.ciaddr == addr and by_mac.options[92] == addr.to_bytes(4, "big")
    )
    by_cid = parse(query(engine, hlen=0, chaddr=b"", options={61: b"\x01" + MAC}).data)
    assert by_cid.msg_type == ACTIVE and by_cid.ciaddr == addr


def test_unassigned_and_unknown() -> None:
    engine, addr = lab(["10.68.0.2"])
    free = ip4_int("10.73.0.150") if addr != ip4_int("10.73.0.150") else ip4_int("10.73.0.151")
    assert parse(query(engine, ciaddr=free, hlen=0, chaddr=b"").data).msg_type == UNASSIGNED
    assert parse(query(engine, ciaddr=ip4_int("192.0.2.1"), hlen=0, chaddr=b"").data).msg_type == UNKNOWN
    assert parse(query(engine, chaddr=bytes(6)).data).msg_type == UNKNOWN, ip4_str(addr)


def test_only_configured_requesters() -> None:
    engine, addr = lab(["10.68.0.2"])
    out = query(engine, src=ip4_int("10.68.0.3"), ciaddr=addr, hlen=0, chaddr=b"")
    assert out.data is None and out.drop_reason == "leasequery-refused"
    off, addr = lab()
    out = query(off, ciaddr=addr, hlen=0, chaddr=b"")
    assert out.data is None and out.drop_reason == "unsupported-type"
