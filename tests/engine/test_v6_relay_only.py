"""dhcpkit parity (issue 13 §4): relay-only DHCPv6 (``[server6] multicast = false``: no group
joined, a direct multicast message is dropped as ``multicast-off`` while relayed ones are served)
and a handler's veto of Rapid Commit (``extend.veto_rapid_commit``)."""

from __future__ import annotations

import ipaddress
from typing import Any

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.extend import Handler, Transaction6, veto_rapid_commit
from dhcpbridge.io.udp6 import Udp6Socket
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, InterfaceId, RapidCommit

NOW = 1_800_000_000.0
SRV = int(ipaddress.IPv6Address("fd72::1"))


def engine(multicast: bool = True, extra: tuple[Any, ...] = ()) -> Any:
    cfg = from_dict(
        {
            "leases": {"store": "memory://"},
            "server6": {"multicast": multicast},
            "subnet6": [
                {
                    "subnet": "fd72::/64",
                    "interface": "srv0",
                    "relay-link-addresses": ["fd72::2"],
                    "pools": ["fd72::100-fd72::1ff"],
                    "rapid-commit": True,
                }
            ],
        }
    )
    return build_engine6(cfg, MemoryStore(), HostInfo6({"srv0": (SRV,)}), Stats(), build_sources(cfg), extra)


def solicit(n: int, rapid: bool = False) -> Message6:
    opts: list[Any] = [ClientId(Duid(Duid.ll(1, bytes([2, 0x72, 0, 0, 0, n])).raw)), IANA(1), ElapsedTime(0)]
    if rapid:
        opts.append(RapidCommit())
    return Message6(1, n, opts)


DIRECT = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
FROM_RELAY = Meta6("fd72::2", 547, ipaddress.IPv6Address(SRV).packed, 2, "srv0")


def relayed(msg: Message6) -> bytes:
    relay = RelayMessage6(
        12,
        0,
        ipaddress.IPv6Address("fd72::2"),
        ipaddress.IPv6Address("fe80::2"),
        [InterfaceId(b"port-1"), RelayMsg(msg)],
    )
    return encode6(relay)


def test_relay_only_drops_direct_multicast_and_serves_relayed() -> None:
    eng = engine(multicast=False)
    out = run_inline(eng.process(encode6(solicit(1)), DIRECT, NOW))
    assert out.data is None and out.drop_reason == "multicast-off"
    out = run_inline(eng.process(relayed(solicit(2)), FROM_RELAY, NOW))
    assert out.data is not None, out.drop_reason
    # with multicast on (the default) the direct SOLICIT is answered
    assert run_inline(engine().process(encode6(solicit(1)), DIRECT, NOW)).data is not None


def test_relay_only_socket_joins_no_group() -> None:
    sock = Udp6Socket("::1", 0, ["lo"], multicast=False)
    try:
        assert sock.joined == [] and sock.not_joined == {}
    finally:
        sock.close()


class NoRapidForOdd(Handler[Transaction6]):
    def pre(self, tx: Transaction6) -> None:
        if tx.client_mac[-1] % 2:
            veto_rapid_commit(tx)


def test_a_handler_vetoes_rapid_commit() -> None:
    eng = engine(extra=(NoRapidForOdd(),))
    vetoed = parse6(run_inline(eng.process(encode6(solicit(1, rapid=True)), DIRECT, NOW)).data)
    assert isinstance(vetoed, Message6) and vetoed.msg_type == 2  # ADVERTISE
    allowed = parse6(run_inline(eng.process(encode6(solicit(2, rapid=True)), DIRECT, NOW)).data)
    assert isinstance(allowed, Message6) and allowed.msg_type == 7 and allowed.raw(14) is not None  # REPLY
