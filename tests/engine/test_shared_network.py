"""``[[shared-network]]`` (issue 13 §4), DHCPv4: two subnets on one interface; when the first's
pool is full the second's is used, its own options (mask, router) go with it, a client renews in
the member its address is in, and a returning client keeps its address in the second member."""

from __future__ import annotations

from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4, build_sources
from dhcpbridge.config.loader import ConfigError, from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, ip4_str, parse

NOW = 1_800_000_000.0
SERVER = ip4_int("10.70.0.1")
CONFIG: dict[str, Any] = {
    "leases": {"store": "memory://"},
    "subnet4": [
        {
            "subnet": "10.70.0.0/24",
            "interface": "eth0",
            "pools": ["10.70.0.10-10.70.0.11"],
            "options": {"routers": ["10.70.0.1"]},
        },
        {"subnet": "10.71.0.0/24", "pools": ["10.71.0.10-10.71.0.19"], "options": {"routers": ["10.71.0.1"]}},
    ],
    "shared-network": [{"name": "lab", "subnets": ["10.70.0.0/24", "10.71.0.0/24"]}],
}


class Lab:
    def __init__(self, config: dict[str, Any] = CONFIG) -> None:
        cfg = from_dict(config)
        self.store = MemoryStore()
        host = HostInfo.build({"eth0": (SERVER,)})
        self.engine = build_engine4(cfg, self.store, host, Stats(), sources=build_sources(cfg))

    def send(self, n: int, kind: int, **opts: bytes) -> Any:
        options = {53: bytes((kind,)), **{int(k[1:]): v for k, v in opts.items()}}
        msg = Message4(xid=n, htype=1, hlen=6, chaddr=bytes.fromhex(f"0270000000{n:02x}"), options=options)
        return run_inline(self.engine.process(encode(msg), Meta4(0, 68, BROADCAST, SERVER, 2, "eth0"), NOW))

    def dora(self, n: int) -> Message4:
        offer = self.send(n, 1)
        assert offer.data is not None, offer.drop_reason
        yiaddr = parse(offer.data).yiaddr.to_bytes(4, "big")
        ack = self.send(n, 3, o50=yiaddr, o54=SERVER.to_bytes(4, "big"))
        assert ack.data is not None, ack.drop_reason
        reply = parse(ack.data)
        assert reply.msg_type == 5, reply.options.get(56)
        return reply


def test_second_subnet_used_when_the_first_pool_is_full() -> None:
    lab = Lab()
    first = [ip4_str(lab.dora(n).yiaddr) for n in (1, 2)]
    assert sorted(first) == ["10.70.0.10", "10.70.0.11"]
    third = lab.dora(3)
    assert ip4_str(third.yiaddr).startswith("10.71.0.")
    assert third.options[3] == bytes([10, 71, 0, 1])  # the router of the subnet it is in
    assert third.options[1] == bytes([255, 255, 255, 0])


def test_renewal_and_rediscover_in_the_second_member() -> None:
    lab = Lab()
    for n in (1, 2):
        lab.dora(n)
    addr = lab.dora(3).yiaddr
    # init-reboot REQUEST for the address in the second member: ACKed, not NAKed as off-network
    again = lab.send(3, 3, o50=addr.to_bytes(4, "big"))
    assert parse(again.data).msg_type == 5
    # one of the first pool's clients leaves; client 3 still gets its own address back
    lab.send(1, 7)  # (a RELEASE without ciaddr is dropped; the pool stays full either way)
    offer = lab.send(3, 1)
    assert parse(offer.data).yiaddr == addr


def test_all_members_full_is_pool_exhausted() -> None:
    config = {
        **CONFIG,
        "subnet4": [dict(CONFIG["subnet4"][0]), {**CONFIG["subnet4"][1], "pools": ["10.71.0.10-10.71.0.10"]}],
    }
    lab = Lab(config)
    for n in (1, 2, 3):
        lab.dora(n)
    out = lab.send(4, 1)
    assert out.data is None and out.drop_reason == "pool-exhausted"


def test_shared_network_members_must_be_subnets() -> None:
    bad = {**CONFIG, "shared-network": [{"name": "lab", "subnets": ["10.70.0.0/24", "10.72.0.0/24"]}]}
    with pytest.raises(
        ConfigError, match=r"shared-network\[0\]\.subnets\[1\]: 10.72.0.0/24 is not a configured"
    ):
        from_dict(bad)
