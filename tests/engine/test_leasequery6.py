"""RFC 5007 DHCPv6 Leasequery from the lease store: by address (an address or one inside a
delegated prefix) and by client id (one link, or the links when the client is on several), only
from ``[server6] leasequery-requesters``; the queries are bytes built per RFC 5007 §4.1.2."""

from __future__ import annotations

import ipaddress
import struct
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, encode6, parse6
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    ClientData,
    ClientId,
    ElapsedTime,
    IAAddr,
    IAPrefix,
    LqClientLink,
    LqRelayData,
    RapidCommit,
    RawOption,
)
from dhcpbridge.wire.v6.relay_chain import parse_chain

NOW = 1_800_000_000.0
SERVER = ipaddress.IPv6Address("fd72::1")
REQUESTER = "fd72::99"
CLIENT_DUID = Duid.ll(1, bytes.fromhex("027200000001")).raw
REQUESTER_DUID = Duid.ll(1, bytes.fromhex("027200000099")).raw
LEASEQUERY_REPLY = 15
UNKNOWN_QUERY_TYPE, MALFORMED_QUERY, NOT_CONFIGURED, NOT_ALLOWED = 7, 8, 9, 10


def ip6(text: str) -> int:
    return int(ipaddress.IPv6Address(text))


def opt(code: int, body: bytes) -> bytes:
    return struct.pack("!HH", code, len(body)) + body


def lq_query(query_type: int, link: str, *query_options: bytes) -> bytes:
    """OPTION_LQ_QUERY (44): query-type (1 byte), link-address (16), query-options."""
    return opt(44, bytes((query_type,)) + ipaddress.IPv6Address(link).packed + b"".join(query_options))


def by_address(addr: str, link: str = "::") -> bytes:
    return lq_query(1, link, opt(5, ipaddress.IPv6Address(addr).packed + bytes(8)))  # IAADDR, lifetimes 0


def by_client(duid: bytes, link: str = "::") -> bytes:
    return lq_query(2, link, opt(1, duid))


def leasequery(*options: bytes, xid: int = 0x4C5100) -> bytes:
    """LEASEQUERY (14): type, transaction-id, the requester's Client Identifier, then ``options``."""
    return bytes((14,)) + xid.to_bytes(3, "big") + opt(1, REQUESTER_DUID) + b"".join(options)


def lab(requesters: list[str] | None = None) -> tuple[Any, int, int, int]:
    """One client with an address and a prefix on fd72::/64 (its interface) and an address on
    fd73::/64 (through a relay): the engine and the three leased values."""
    cfg: dict[str, Any] = {
        "leases": {"store": "memory://"},
        "subnet6": [
            {
                "subnet": "fd72::/64",
                "interface": "srv0",
                "pools": ["fd72::100-fd72::1ff"],
                "pd-pools": [{"prefix": "fd72:1000::/48", "delegated-length": 56}],
                "rapid-commit": True,
            },
            {
                "subnet": "fd73::/64",
                "pools": ["fd73::100-fd73::1ff"],
                "rapid-commit": True,
                "options": {"dns-servers": ["fd73::53"], "domain-search": ["lab.test"]},
            },
        ],
    }
    if requesters is not None:
        cfg["server6"] = {"leasequery-requesters": requesters}
    conf = from_dict(cfg)
    host = HostInfo6({"srv0": (int(SERVER),)})
    engine = build_engine6(conf, MemoryStore(), host, Stats(), build_sources(conf))
    client = ClientId(Duid(CLIENT_DUID))
    solicit = Message6(1, 1, [client, IANA(1), IAPD(2), ElapsedTime(0), RapidCommit()])
    direct = Meta6("fe80::72:1", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
    reply = parse6(run_inline(engine.process(encode6(solicit), direct, NOW)).data or b"")
    assert isinstance(reply, Message6) and reply.msg_type == 7
    ia_na, ia_pd = reply.get(IANA), reply.get(IAPD)
    assert ia_na is not None and ia_pd is not None
    addr = int(ia_na.addresses[0].address)
    prefix = int(ia_pd.prefixes[0].prefix)
    relayed = RelayMessage6(
        12,
        0,
        ipaddress.IPv6Address("fd73::1"),
        ipaddress.IPv6Address("fe80::72:1"),
        [
            RawOption(18, b"port-3"),
            RawOption(9, encode6(Message6(1, 2, [client, IANA(3), ElapsedTime(0), RapidCommit()]))),
        ],
    )
    relay_meta = Meta6("fd73::2", 547, SERVER.packed, 2, "srv0")
    out = parse6(run_inline(engine.process(encode6(relayed), relay_meta, NOW)).data or b"")
    assert isinstance(out, RelayMessage6) and out.message is not None
    inner = out.message.get(IANA)
    assert inner is not None
    return engine, addr, prefix, int(inner.addresses[0].address)


def ask(engine: Any, data: bytes, src: str = REQUESTER, dst: str = str(SERVER)) -> Any:
    meta = Meta6(src, 40123, ipaddress.IPv6Address(dst).packed, 2, "srv0")
    return run_inline(engine.process(data, meta, NOW + 100))


def reply_of(out: Any) -> Message6:
    assert out.data is not None, out.drop_reason
    msg = parse6(out.data)
    assert isinstance(msg, Message6) and msg.msg_type == LEASEQUERY_REPLY
    assert msg.transaction_id == 0x4C5100
    assert msg.raw(1) == REQUESTER_DUID and msg.raw(2) is not None  # requester's id, ours
    return msg


def status_of(msg: Message6) -> int | None:
    status = msg.status
    return None if status is None else status.status


def client_data(msg: Message6) -> ClientData:
    data = msg.get(ClientData)
    assert data is not None
    return data


def test_by_address_gives_the_clients_bindings_on_that_link() -> None:
    engine, addr, prefix, _ = lab(["fd72::99"])
    out = ask(engine, leasequery(by_address(str(ipaddress.IPv6Address(addr)))))
    assert out.dest[:2] == (REQUESTER, 40123)  # back to the requester's own port
    msg = reply_of(out)
    assert status_of(msg) is None
    data = client_data(msg)
    assert data.raw(1) == CLIENT_DUID
    (iaaddr,) = data.get_all(IAAddr)
    assert int(iaaddr.address) == addr and iaaddr.valid == 7200 - 100 and iaaddr.preferred == 3600 - 100
    (iaprefix,) = data.get_all(IAPrefix)
    assert int(iaprefix.prefix) == prefix and iaprefix.prefix_length == 56 and iaprefix.valid == 7200 - 100
    clt = data.raw(46)
    assert clt is not None and int.from_bytes(clt, "big") == 100  # seconds since its last message


def test_by_an_address_inside_a_delegated_prefix() -> None:
    engine, _, prefix, _ = lab(["fd72::/64"])
    inside = str(ipaddress.IPv6Address(prefix + 0x1234_0000_0000_0001))
    data = client_data(reply_of(ask(engine, leasequery(by_address(inside)))))
    assert data.raw(1) == CLIENT_DUID
    assert [int(p.prefix) for p in data.get_all(IAPrefix)] == [prefix]


def test_free_address_unknown_link_and_bad_queries() -> None:
    engine, addr, _, _ = lab(["fd72::99"])
    free = "fd72::1ff" if addr != ip6("fd72::1ff") else "fd72::1fe"
    msg = reply_of(ask(engine, leasequery(by_address(free))))
    assert status_of(msg) is None and msg.get(ClientData) is None  # ours, not bound
    assert status_of(reply_of(ask(engine, leasequery(by_address("2001:db8::1"))))) == NOT_CONFIGURED
    assert status_of(reply_of(ask(engine, leasequery(lq_query(3, "::"))))) == UNKNOWN_QUERY_TYPE
    assert status_of(reply_of(ask(engine, leasequery(lq_query(1, "::"))))) == MALFORMED_QUERY  # no IAADDR
    assert status_of(reply_of(ask(engine, leasequery()))) == MALFORMED_QUERY  # no OPTION_LQ_QUERY
    truncated = opt(44, b"\x01" + bytes(8))  # link-address cut short
    assert status_of(reply_of(ask(engine, leasequery(truncated)))) == MALFORMED_QUERY


def test_by_client_id_names_the_links_then_answers_per_link() -> None:
    engine, addr, prefix, relayed = lab(["fd72::99"])
    msg = reply_of(ask(engine, leasequery(by_client(CLIENT_DUID))))
    links = msg.get(LqClientLink)
    assert msg.get(ClientData) is None and links is not None
    assert sorted(str(a) for a in links.addresses) == ["fd72::", "fd73::"]
    on_72 = client_data(reply_of(ask(engine, leasequery(by_client(CLIENT_DUID, "fd72::")))))
    assert [int(a.address) for a in on_72.get_all(IAAddr)] == [addr]
    assert [int(p.prefix) for p in on_72.get_all(IAPrefix)] == [prefix]
    on_73 = client_data(reply_of(ask(engine, leasequery(by_client(CLIENT_DUID, "fd73::5")))))
    assert [int(a.address) for a in on_73.get_all(IAAddr)] == [relayed] and not on_73.get_all(IAPrefix)
    unknown = reply_of(ask(engine, leasequery(by_client(REQUESTER_DUID))))
    assert status_of(unknown) is None and unknown.get(ClientData) is None
    assert (
        status_of(reply_of(ask(engine, leasequery(by_client(CLIENT_DUID, "2001:db8::"))))) == NOT_CONFIGURED
    )


def test_by_client_id_on_one_link_gives_the_data_at_once() -> None:
    engine, addr, _, _ = lab(["fd72::99"])
    # the relayed address is released: the client is on one link now
    store = engine.env.store
    for lease in run_inline(store.leases()):
        if lease.address not in (addr,) and lease.prefix_len == 128 and lease.subnet != "fd72::/64":
            run_inline(store.release(lease.kind, lease.address, lease.client, NOW + 50))
    data = client_data(reply_of(ask(engine, leasequery(by_client(CLIENT_DUID)))))
    assert [int(a.address) for a in data.get_all(IAAddr)] == [addr]


def test_only_configured_requesters_directly() -> None:
    engine, addr, _, _ = lab(["fd72::99"])
    query = leasequery(by_address(str(ipaddress.IPv6Address(addr))))
    refused = reply_of(ask(engine, query, src="fd72::98"))
    assert status_of(refused) == NOT_ALLOWED and refused.get(ClientData) is None
    assert ask(engine, query, dst="ff02::1:2").data is not None  # multicast is fine too
    relayed = RelayMessage6(
        12, 0, ipaddress.IPv6Address("fd72::1"), ipaddress.IPv6Address(REQUESTER), [RawOption(9, query)]
    )
    out = ask(engine, encode6(relayed), src="fd72::2")
    assert out.data is None and out.drop_reason == "leasequery-relayed"
    off, addr, _, _ = lab()
    out = ask(off, leasequery(by_address(str(ipaddress.IPv6Address(addr)))))
    assert out.data is None and out.drop_reason == "unsupported-type"


@pytest.mark.parametrize("store_finds_duid", [True, False])
def test_any_store_a_store_without_find_duid_is_read_whole(store_finds_duid: bool) -> None:
    engine, addr, _, _ = lab(["fd72::99"])
    if not store_finds_duid:
        plain = engine.env.store

        class Plain:  # the LeaseStore protocol only: no find_duid
            def __getattr__(self, name: str) -> Any:
                if name == "find_duid":
                    raise AttributeError(name)
                return getattr(plain, name)

        engine.env.store = Plain()
    data = client_data(reply_of(ask(engine, leasequery(by_client(CLIENT_DUID, "fd72::")))))
    assert [int(a.address) for a in data.get_all(IAAddr)] == [addr]


def oro(*codes: int) -> bytes:
    return opt(6, b"".join(struct.pack("!H", code) for code in codes))


def test_the_query_oro_picks_options_and_relay_data() -> None:
    """RFC 5007 §4.1.2.1: the ORO of the query names what else each OPTION_CLIENT_DATA carries:
    here the configured DNS servers of the client's link and OPTION_LQ_RELAY_DATA (§4.1.2.4:
    the relay the server heard, fd73::2, and the RELAY-FORW without the client's message)."""
    engine, _, _, relayed_addr = lab(["fd72::99"])
    query = lq_query(1, "::", opt(5, ipaddress.IPv6Address(relayed_addr).packed + bytes(8)), oro(23, 47))
    data = client_data(reply_of(ask(engine, leasequery(query))))
    assert [o.code for o in data.options] == [1, 5, 46, 23, 47]
    assert data.raw(23) == ipaddress.IPv6Address("fd73::53").packed
    relay = data.get(LqRelayData)
    assert relay is not None and relay.peer_address == ipaddress.IPv6Address("fd73::2")
    (forw,) = parse_chain(relay.relay_message)
    assert forw.link_address == ipaddress.IPv6Address("fd73::1") and forw.raw(18) == b"port-3"
    assert forw.peer_address == ipaddress.IPv6Address("fe80::72:1") and not forw.has(9)
    # only what the ORO names: the domain list, no relay data
    query = lq_query(1, "::", opt(5, ipaddress.IPv6Address(relayed_addr).packed + bytes(8)), oro(24))
    data = client_data(reply_of(ask(engine, leasequery(query))))
    assert [o.code for o in data.options] == [1, 5, 46, 24]
    # an ORO in the LEASEQUERY itself (not in the query) counts too
    data = client_data(reply_of(ask(engine, leasequery(by_client(CLIENT_DUID, "fd73::1"), oro(23)))))
    assert [o.code for o in data.options] == [1, 5, 46, 23]


def test_relay_data_without_an_oro_and_none_for_a_direct_client() -> None:
    engine, addr, _, relayed_addr = lab(["fd72::99"])
    data = client_data(
        reply_of(ask(engine, leasequery(by_address(str(ipaddress.IPv6Address(relayed_addr))))))
    )
    assert [o.code for o in data.options] == [1, 5, 46, 47]
    data = client_data(reply_of(ask(engine, leasequery(by_address(str(ipaddress.IPv6Address(addr)))))))
    assert 47 not in [o.code for o in data.options]
    query = lq_query(1, "::", opt(5, ipaddress.IPv6Address(addr).packed + bytes(8)), oro(47, 23))
    data = client_data(reply_of(ask(engine, leasequery(query))))
    assert 47 not in [o.code for o in data.options]  # nothing recorded: not relayed (fd72 has no DNS)
