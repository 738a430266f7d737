"""``[[shared-network]]`` (issue 13 §4), DHCPv6: two /64s on one interface; when the first's
IA_NA pool is full the second's is used, and a REQUEST for an address of the second member is
on-link (not NotOnLink)."""

from __future__ import annotations

import ipaddress
from typing import Any

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, IAAddr, ServerId

NOW = 1_800_000_000.0
CONFIG: dict[str, Any] = {
    "leases": {"store": "memory://"},
    "subnet6": [
        {"subnet": "fd70::/64", "interface": "srv0", "pools": ["fd70::10-fd70::11"]},
        {"subnet": "fd71::/64", "pools": ["fd71::10-fd71::1f"]},
    ],
    "shared-network": [{"name": "lab", "subnets": ["fd70::/64", "fd71::/64"]}],
}
META = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")


class Lab:
    def __init__(self) -> None:
        cfg = from_dict(CONFIG)
        srv = int(ipaddress.IPv6Address("fd70::1"))
        self.engine = build_engine6(
            cfg, MemoryStore(), HostInfo6({"srv0": (srv,)}), Stats(), build_sources(cfg)
        )

    def exchange(self, n: int, kind: int, *ia_opts: Any) -> tuple[int, int]:
        """(address, status) of the reply's IA_NA."""
        opts = [
            ClientId(Duid(Duid.ll(1, bytes([2, 0x70, 0, 0, 0, n])).raw)),
            IANA(1, options=list(ia_opts)),
            ElapsedTime(0),
        ]
        if kind == 3:
            opts.append(ServerId(Duid(self.engine.env.server_duid)))
        out = run_inline(self.engine.process(encode6(Message6(kind, n, opts)), META, NOW))
        assert out.data is not None, out.drop_reason
        reply = parse6(out.data)
        assert isinstance(reply, Message6)
        ia = reply.raw(3)
        assert ia is not None
        if len(ia) > 16 and int.from_bytes(ia[12:14], "big") == 5:  # IAADDR
            return int.from_bytes(ia[16:32], "big"), 0
        return 0, int.from_bytes(ia[16:18], "big") if len(ia) > 17 else -1

    def sarr(self, n: int) -> int:
        addr, _ = self.exchange(n, 1)
        assert addr, "no address advertised"
        got, status = self.exchange(n, 3, IAAddr(ipaddress.IPv6Address(addr), 0, 0))
        assert got == addr, status
        return addr


def test_second_link_prefix_used_when_the_first_pool_is_full() -> None:
    lab = Lab()
    first = {str(ipaddress.IPv6Address(lab.sarr(n))) for n in (1, 2)}
    assert first == {"fd70::10", "fd70::11"}
    third = ipaddress.IPv6Address(lab.sarr(3))
    assert third in ipaddress.IPv6Network("fd71::/64")
    # the same client asks again: it keeps its address in the second member
    addr, _ = lab.exchange(3, 1)
    assert ipaddress.IPv6Address(addr) == third
