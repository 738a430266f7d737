"""Micro-benchmark of the DHCPv6 codec: µs per parse of a perfdhcp-like SOLICIT, per encode of an ADVERTISE.

Bounded: each case runs ``--loops`` iterations (default 20 000) or stops after ``--max-seconds``
per repeat, best of ``--repeat`` runs. Prints one line per case.

    .venv/bin/python bench/micro_wire6.py [--loops N] [--repeat R]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from ipaddress import IPv6Address, IPv6Network

from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import (
    Message6,
    encode6,
    parse6,
    reply_skeleton,
    unwrap_relay,
    wrap_relay_reply,
)
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    DnsServers,
    IAAddr,
    IAPrefix,
    MessageType6,
    RawOption,
    ServerId,
)

# perfdhcp 2.2.0 -6 SOLICIT (client-id DUID-LLT, IA_NA, ORO 23/24, elapsed time), and the same
# inside perfdhcp -A 1's RELAY-FORW (tests/wire/vectors6/perfdhcp6-relay-01-relayforw.hex).
SOLICIT = bytes.fromhex(
    "01000000"  # SOLICIT, transaction id 0
    "0001000e000100013299d0e2000c01020304"  # client-id: DUID-LLT
    "0003000c0000000100000e1000001518"  # IA_NA iaid 1, T1 3600, T2 5400
    "0006000400170018"  # ORO: 23, 24
    "000800020000"  # elapsed time 0
)
RELAY_SOLICIT = (
    bytes.fromhex("0c00fd690000000000000000000000000002fd69000000000000000000000000000200090034") + SOLICIT
)

SERVER_ID = RawOption.of(ServerId(Duid.en(2495, b"dhcpbridge")))
DNS = RawOption.of(DnsServers([IPv6Address("fd67::1")]))
ADDR = IPv6Address("fd67::100:1")
PREFIX = IPv6Network("fd67:1000:0:100::/56")


def bench(name: str, fn: Callable[[], object], loops: int, repeat: int, max_seconds: float) -> float:
    best = float("inf")
    for _ in range(repeat):
        done = 0
        start = time.perf_counter()
        deadline = start + max_seconds
        while done < loops:
            for _ in range(100):
                fn()
            done += 100
            if time.perf_counter() > deadline:
                break
        best = min(best, (time.perf_counter() - start) / done * 1e6)
    print(f"{name:<52} {best:6.2f} µs")
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--max-seconds", type=float, default=2.0)
    args = ap.parse_args()
    loops, repeat, cap = min(args.loops, 1_000_000), min(args.repeat, 20), min(args.max_seconds, 10.0)

    solicit = parse6(SOLICIT)
    assert isinstance(solicit, Message6)

    def parse_only() -> object:
        return parse6(SOLICIT)

    def parse_and_read() -> object:
        msg = parse6(SOLICIT)
        assert isinstance(msg, Message6)
        return msg.client_id, msg.ia_na, msg.oro, msg.rapid_commit

    def parse_relayed_and_read() -> object:
        inner, chain = unwrap_relay(parse6(RELAY_SOLICIT))
        return chain[0].link_address, inner.client_id, inner.ia_na

    def advertise_na() -> bytes:
        reply = reply_skeleton(solicit, MessageType6.ADVERTISE, SERVER_ID)
        reply.options.append(IANA(1, 1000, 2000, [IAAddr(ADDR, 3000, 4000)]))
        reply.options.append(DNS)
        return encode6(reply)

    def advertise_pd() -> bytes:
        reply = reply_skeleton(solicit, MessageType6.ADVERTISE, SERVER_ID)
        reply.options.append(IAPD(1, 1000, 2000, [IAPrefix.of(PREFIX, 3000, 4000)]))
        reply.options.append(DNS)
        return encode6(reply)

    relay_inner, relay_chain = unwrap_relay(parse6(RELAY_SOLICIT))

    def advertise_relayed() -> bytes:
        reply = reply_skeleton(relay_inner, MessageType6.ADVERTISE, SERVER_ID)
        reply.options.append(IANA(1, 1000, 2000, [IAAddr(ADDR, 3000, 4000)]))
        reply.options.append(DNS)
        return encode6(wrap_relay_reply(reply, relay_chain))

    print(f"DHCPv6 codec, best of {repeat} x {loops} loops (time.perf_counter)")
    bench("parse SOLICIT (perfdhcp-like)", parse_only, loops, repeat, cap)
    bench("parse SOLICIT + client_id, ia_na, oro, rapid_commit", parse_and_read, loops, repeat, cap)
    bench("parse RELAY-FORW(SOLICIT) + unwrap + read", parse_relayed_and_read, loops, repeat, cap)
    bench("build + encode ADVERTISE (IA_NA+IAADDR, DNS)", advertise_na, loops, repeat, cap)
    bench("build + encode ADVERTISE (IA_PD+IAPREFIX, DNS)", advertise_pd, loops, repeat, cap)
    bench("build + wrap + encode RELAY-REPL(ADVERTISE)", advertise_relayed, loops, repeat, cap)


if __name__ == "__main__":
    main()
