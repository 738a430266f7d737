"""The DHCPv6 engine, message by message (RFC 8415 §16 validation, §18.3 server behaviour): what
each message type gets back, which status codes where, and what the lease store holds after."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config import loader
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v6.engine import Engine6, Outcome6
from dhcpbridge.leases import MemoryStore
from dhcpbridge.sources.question import question as build_question
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    IATA,
    ClientId,
    ElapsedTime,
    IAAddr,
    IAPrefix,
    MessageType6,
    Option6,
    OptionRequest,
    RapidCommit,
    RawOption,
    StatusCode6,
)

MT = MessageType6
SC = StatusCode6
NOW = 1_800_000_000.0
SERVER_DUID = bytes.fromhex("00030001026700000001")
MULTICAST = ipaddress.IPv6Address("ff02::1:2").packed
UNICAST = ipaddress.IPv6Address("fd67::1").packed
META = Meta6("fe80::2", 546, MULTICAST, 2, "srv0")
NA_POOL = ipaddress.ip_network("fd67::100:0/120")
PD_POOL = ipaddress.ip_network("fd67:1000::/48")

BASE: dict[str, Any] = {
    "server6": {"server-duid": "ll:02:67:00:00:00:01"},
    "subnet6": [
        {
            "subnet": "fd67::/64",
            "pools": ["fd67::100:0/120"],
            "pd-pools": [{"prefix": "fd67:1000::/48", "delegated-length": 56}],
            "interface": "srv0",
            "preferred-lifetime": 3000,
            "valid-lifetime": 4000,
            "renew-timer": 1000,
            "rebind-timer": 2000,
            "options": {
                "dns-servers": ["fd67::1"],
                "domain-search": ["lab.test"],
                "preference": 200,
                "information-refresh-time": 600,
            },
        }
    ],
}


class Lab:
    """An engine on a memory store, and a client that talks to it."""

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        cfg = loader.from_dict(config or BASE)
        self.store = MemoryStore()
        self.stats = Stats()
        self.engine: Engine6 = build_engine6(
            cfg, self.store, HostInfo6({"srv0": (int(ipaddress.IPv6Address("fd67::1")),)}), self.stats,
            build_sources(cfg),
        )  # fmt: skip
        self.now = NOW
        self.xid = 0

    def run(self, msg: Message6 | bytes, meta: Meta6 = META) -> Outcome6:
        data = msg if isinstance(msg, bytes) else encode6(msg)
        return run_inline(self.engine.process(data, meta, self.now))

    def send(self, msg: Message6, meta: Meta6 = META) -> Message6 | None:
        out = self.run(msg, meta)
        if out.data is None:
            return None
        reply = parse6(out.data)
        assert isinstance(reply, Message6)
        assert reply.transaction_id == msg.transaction_id
        return reply

    def message(self, kind: int, duid: bytes, *options: Option6, server: bytes | None = None) -> Message6:
        self.xid += 1
        opts: list[Option6] = [ClientId(Duid(duid))] if duid else []
        if server is not None:
            opts.append(RawOption(2, server))
        opts += [*options, OptionRequest([23, 24, 32]), ElapsedTime(0)]
        return Message6(kind, self.xid, opts)

    def lease(self, kind: LeaseKind, addr: str) -> Any:
        return run_inline(self.store.get(kind, int(ipaddress.IPv6Address(addr))))


def duid(n: int) -> bytes:
    return Duid.ll(1, bytes([2, 0, 0, 0, n >> 8, n & 0xFF])).raw


def na(iaid: int = 1, *addresses: str) -> IANA:
    return IANA(iaid, 0, 0, [IAAddr(ipaddress.IPv6Address(a), 0, 0) for a in addresses])


def pd(iaid: int = 2, *prefixes: str) -> IAPD:
    opts: list[Option6] = []
    for text in prefixes:
        net = ipaddress.IPv6Network(text)
        opts.append(IAPrefix(0, 0, net.prefixlen, net.network_address))
    return IAPD(iaid, 0, 0, opts)


def addresses(reply: Message6) -> list[tuple[int, str, int, int]]:
    """(iaid, address, preferred, valid) of every IAADDR in the reply."""
    return [(ia.iaid, str(a.address), a.preferred, a.valid) for ia in reply.ia_na for a in ia.addresses]


def prefixes(reply: Message6) -> list[tuple[int, str, int, int]]:
    return [
        (ia.iaid, f"{p.prefix}/{p.prefix_length}", p.preferred, p.valid)
        for ia in reply.ia_pd
        for p in ia.prefixes
    ]


def ia_status(reply: Message6) -> dict[tuple[int, int], int]:
    """(option code, iaid) -> status code of every IA that carries one."""
    out = {}
    for ia in [*reply.ia_na, *reply.ia_pd, *reply.ia_ta]:
        st = ia.status
        if st is not None:
            out[(ia.code, ia.iaid)] = st.status
    return out


def top_status(reply: Message6) -> int | None:
    st = reply.status
    return None if st is None else st.status


def codes(reply: Message6) -> list[int]:
    return [o.code for o in reply.options]


def exchange(lab: Lab, client: bytes, *ias: Option6) -> Message6:
    """SOLICIT -> ADVERTISE -> REQUEST -> REPLY; the REPLY."""
    adv = lab.send(lab.message(MT.SOLICIT, client, *ias))
    assert adv is not None and adv.msg_type == MT.ADVERTISE
    echoed = [o for o in adv.options if o.code in (3, 25)]
    reply = lab.send(lab.message(MT.REQUEST, client, *echoed, server=SERVER_DUID))
    assert reply is not None and reply.msg_type == MT.REPLY
    return reply


# --- SOLICIT --------------------------------------------------------------------------------


def test_solicit_advertises_address_and_prefix_with_configured_lifetimes() -> None:
    lab = Lab()
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), pd(2)))
    assert adv is not None and adv.msg_type == MT.ADVERTISE
    assert adv.client_id == Duid(duid(1)) and adv.server_id == Duid(SERVER_DUID)
    [(iaid, addr, preferred, valid)] = addresses(adv)
    assert iaid == 1 and ipaddress.IPv6Address(addr) in NA_POOL and (preferred, valid) == (3000, 4000)
    [(iaid, prefix, preferred, valid)] = prefixes(adv)
    assert iaid == 2 and ipaddress.IPv6Network(prefix).subnet_of(PD_POOL)
    assert ipaddress.IPv6Network(prefix).prefixlen == 56
    assert [(ia.t1, ia.t2) for ia in [*adv.ia_na, *adv.ia_pd]] == [(1000, 2000), (1000, 2000)]
    # ORO asked 23, 24, 32: DNS and search list; 32 only goes to Information-request; preference always
    assert codes(adv) == [1, 2, 3, 25, 7, 23, 24]
    # an ADVERTISE only holds: nothing is bound or durable
    held = lab.lease(LeaseKind.NA, addr)
    assert held.state == LeaseState.OFFERED and held.client == (1).to_bytes(4, "big") + duid(1)
    assert lab.run(lab.message(MT.SOLICIT, duid(1), na(1))).effects == []


def test_solicit_is_stable_for_a_client_and_distinct_between_clients() -> None:
    lab = Lab()
    first = addresses(lab.send(lab.message(MT.SOLICIT, duid(1), na(1))))  # type: ignore[arg-type]
    again = addresses(lab.send(lab.message(MT.SOLICIT, duid(1), na(1))))  # type: ignore[arg-type]
    other = addresses(lab.send(lab.message(MT.SOLICIT, duid(2), na(1))))  # type: ignore[arg-type]
    assert first == again
    assert first[0][1] != other[0][1]


def test_solicit_with_several_ias_gets_distinct_leases_for_each() -> None:
    lab = Lab()
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), na(7), pd(2), pd(9)))
    assert adv is not None
    got_na = addresses(adv)
    got_pd = prefixes(adv)
    assert [iaid for iaid, *_ in got_na] == [1, 7] and len({a for _, a, *_ in got_na}) == 2
    assert [iaid for iaid, *_ in got_pd] == [2, 9] and len({p for _, p, *_ in got_pd}) == 2


def test_rapid_commit_only_when_the_subnet_allows_it() -> None:
    lab = Lab()
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), RapidCommit()))
    assert adv is not None and adv.msg_type == MT.ADVERTISE and not adv.rapid_commit
    cfg = {**BASE, "subnet6": [{**BASE["subnet6"][0], "rapid-commit": True}]}
    lab = Lab(cfg)
    out = lab.run(lab.message(MT.SOLICIT, duid(1), na(1), pd(2), RapidCommit()))
    assert out.data is not None
    reply = parse6(out.data)
    assert isinstance(reply, Message6) and reply.msg_type == MT.REPLY and reply.rapid_commit
    [(_, addr, *_)] = addresses(reply)
    assert lab.lease(LeaseKind.NA, addr).state == LeaseState.BOUND
    assert {e.event for e in out.effects} == {"commit"} and len(out.effects) == 2  # flushed before sending
    # without the client's Rapid Commit option the subnet's setting changes nothing
    plain = lab.send(lab.message(MT.SOLICIT, duid(2), na(1)))
    assert plain is not None and plain.msg_type == MT.ADVERTISE


def test_exhausted_pools_advertise_only_a_noaddrsavail_status() -> None:
    cfg = {**BASE, "subnet6": [{**BASE["subnet6"][0], "pools": ["fd67::100:0-fd67::100:1"], "pd-pools": []}]}
    lab = Lab(cfg)
    exchange(lab, duid(1), na(1))
    exchange(lab, duid(2), na(1))
    adv = lab.send(lab.message(MT.SOLICIT, duid(3), na(1), pd(2)))
    assert adv is not None and adv.msg_type == MT.ADVERTISE
    assert top_status(adv) == SC.NO_ADDRS_AVAIL
    assert codes(adv) == [1, 2, 13]  # RFC 8415 §18.3.9: only the status (no IAs, no options)
    # a REQUEST gets each IA back with its own status
    reply = lab.send(lab.message(MT.REQUEST, duid(3), na(1), pd(2), server=SERVER_DUID))
    assert reply is not None
    assert ia_status(reply) == {(3, 1): SC.NO_ADDRS_AVAIL, (25, 2): SC.NO_PREFIX_AVAIL}
    assert addresses(reply) == [] and prefixes(reply) == []


def test_partially_served_solicit_keeps_the_ia_it_cannot_serve_with_its_status() -> None:
    cfg = {**BASE, "subnet6": [{**BASE["subnet6"][0], "pd-pools": []}]}
    lab = Lab(cfg)
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), pd(2)))
    assert adv is not None and top_status(adv) is None
    assert len(addresses(adv)) == 1
    assert ia_status(adv) == {(25, 2): SC.NO_PREFIX_AVAIL}


def test_ia_ta_gets_a_temporary_address_of_its_own() -> None:
    """RFC 8415 §6.5 / §21.5: an IA_TA (same IAID as the IA_NA) gets its own address from the
    link's pools, in an IA_TA without T1/T2; REQUEST binds it, RELEASE frees it."""
    lab = Lab()
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), IATA(1)))
    assert adv is not None and ia_status(adv) == {}
    [ta] = adv.ia_ta
    [temp] = ta.addresses
    [(_, permanent, _, _)] = addresses(adv)
    assert str(temp.address) != permanent and temp.valid > 0
    assert len(ta.to_wire()) == 4 + 4 + 24  # IAID, then the IAADDR: no T1 / T2
    req = lab.message(
        MT.REQUEST, duid(1), IATA(1, [IAAddr(temp.address, 0, 0)]), server=lab.engine.env.server_duid
    )
    reply = lab.send(req)
    assert reply is not None and [str(a.address) for a in reply.ia_ta[0].addresses] == [str(temp.address)]
    lease = lab.lease(LeaseKind.NA, str(temp.address))
    assert lease is not None and lease.state == LeaseState.BOUND
    rel = lab.message(
        MT.RELEASE, duid(1), IATA(1, [IAAddr(temp.address, 0, 0)]), server=lab.engine.env.server_duid
    )
    assert lab.send(rel) is not None
    assert lab.lease(LeaseKind.NA, str(temp.address)).state == LeaseState.RELEASED


def test_solicit_with_a_prefix_length_hint_uses_a_matching_pool() -> None:
    pools = [
        {"prefix": "fd67:1000::/48", "delegated-length": 56},
        {"prefix": "fd67:2000::/48", "delegated-length": 60},
    ]
    lab = Lab({**BASE, "subnet6": [{**BASE["subnet6"][0], "pd-pools": pools}]})
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), pd(2, "::/60")))
    assert adv is not None
    [(_, prefix, *_)] = prefixes(adv)
    net = ipaddress.IPv6Network(prefix)
    assert net.prefixlen == 60 and net.subnet_of(ipaddress.IPv6Network("fd67:2000::/48"))


# --- REQUEST --------------------------------------------------------------------------------


def test_request_commits_what_was_advertised() -> None:
    lab = Lab()
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), pd(2)))
    assert adv is not None
    echoed = [o for o in adv.options if o.code in (3, 25)]
    out = lab.run(lab.message(MT.REQUEST, duid(1), *echoed, server=SERVER_DUID))
    assert out.data is not None
    reply = parse6(out.data)
    assert isinstance(reply, Message6) and reply.msg_type == MT.REPLY
    assert addresses(reply) == addresses(adv) and prefixes(reply) == prefixes(adv)
    assert codes(reply) == [1, 2, 3, 25, 23, 24]  # no preference in a REPLY
    [(_, addr, *_)] = addresses(reply)
    [(_, prefix, *_)] = prefixes(reply)
    bound = lab.lease(LeaseKind.NA, addr)
    assert bound.state == LeaseState.BOUND and bound.expires == NOW + 4000
    delegated = lab.lease(LeaseKind.PD, prefix.split("/")[0])
    assert delegated.state == LeaseState.BOUND and delegated.prefix_len == 56
    assert [e.event for e in out.effects] == ["commit", "commit"]  # the runtime flushes these first
    # each effect carries its transaction: the bridge's on-commit notification sends the question
    question = build_question(out.effects[0].query)
    assert question["msg_type"] == "REQUEST" and question["duid"] == duid(1).hex()
    assert question["ia_na"] == [{"iaid": 1, "addresses": [addr]}]


def test_request_without_hints_gets_the_held_address() -> None:
    lab = Lab()
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1)))
    reply = lab.send(lab.message(MT.REQUEST, duid(1), na(1), server=SERVER_DUID))
    assert adv is not None and reply is not None
    assert addresses(reply) == addresses(adv)


def test_request_for_an_address_bound_to_another_client_gets_another_one() -> None:
    lab = Lab()
    taken = addresses(exchange(lab, duid(1), na(1)))[0][1]
    reply = lab.send(lab.message(MT.REQUEST, duid(2), na(1, taken), server=SERVER_DUID))
    assert reply is not None
    [(_, addr, *_)] = addresses(reply)
    assert addr != taken and ipaddress.IPv6Address(addr) in NA_POOL
    assert lab.lease(LeaseKind.NA, taken).client.endswith(duid(1))


def test_request_for_an_address_off_link_is_notonlink() -> None:
    lab = Lab()
    reply = lab.send(lab.message(MT.REQUEST, duid(1), na(1, "2001:db8::1"), server=SERVER_DUID))
    assert reply is not None
    assert ia_status(reply) == {(3, 1): SC.NOT_ON_LINK}
    assert addresses(reply) == []


# --- RENEW / REBIND -------------------------------------------------------------------------


def test_renew_extends_the_binding() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1), pd(2))
    lab.now += 1000
    echoed = [o for o in reply.options if o.code in (3, 25)]
    renewed = lab.send(lab.message(MT.RENEW, duid(1), *echoed, server=SERVER_DUID))
    assert renewed is not None and renewed.msg_type == MT.REPLY
    assert addresses(renewed) == addresses(reply) and prefixes(renewed) == prefixes(reply)
    [(_, addr, *_)] = addresses(renewed)
    assert lab.lease(LeaseKind.NA, addr).expires == NOW + 1000 + 4000


def test_renew_of_an_empty_ia_returns_the_binding() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1))
    renewed = lab.send(lab.message(MT.RENEW, duid(1), na(1), server=SERVER_DUID))
    assert renewed is not None and addresses(renewed) == addresses(reply)


def test_renew_without_a_binding_is_nobinding() -> None:
    lab = Lab()
    renewed = lab.send(lab.message(MT.RENEW, duid(1), na(1, "fd67::100:5"), pd(2), server=SERVER_DUID))
    assert renewed is not None
    assert ia_status(renewed) == {(3, 1): SC.NO_BINDING, (25, 2): SC.NO_BINDING}


def test_renew_of_an_address_not_appropriate_for_the_link_gets_lifetime_zero() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1))
    [(_, addr, *_)] = addresses(reply)
    renewed = lab.send(lab.message(MT.RENEW, duid(1), na(1, addr, "2001:db8::9"), server=SERVER_DUID))
    assert renewed is not None
    assert addresses(renewed) == [(1, addr, 3000, 4000), (1, "2001:db8::9", 0, 0)]


def test_rebind_extends_and_withdraws_what_left_the_link() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1))
    [(_, addr, *_)] = addresses(reply)
    rebound = lab.send(lab.message(MT.REBIND, duid(1), na(1, addr)))
    assert rebound is not None and addresses(rebound) == [(1, addr, 3000, 4000)]
    gone = lab.send(lab.message(MT.REBIND, duid(5), na(1, "2001:db8::7")))
    assert gone is not None and addresses(gone) == [(1, "2001:db8::7", 0, 0)]
    unknown = lab.send(lab.message(MT.REBIND, duid(6), na(1, "fd67::100:77")))
    assert unknown is not None and ia_status(unknown) == {(3, 1): SC.NO_BINDING}


def test_renew_withdraws_a_binding_that_left_the_pools_and_frees_it() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1))
    [(_, addr, *_)] = addresses(reply)
    # the operator moves the pool: the old address is still on the link but no longer handed out
    moved = {**BASE, "subnet6": [{**BASE["subnet6"][0], "pools": ["fd67::200:0/120"]}]}
    lab.engine = build_engine6(
        loader.from_dict(moved),
        lab.store,
        HostInfo6({}),
        lab.stats,
        build_sources(loader.from_dict(moved)),
    )
    out = lab.run(lab.message(MT.RENEW, duid(1), na(1, addr), server=SERVER_DUID))
    renewed = parse6(out.data or b"")
    assert isinstance(renewed, Message6)
    assert addresses(renewed) == [(1, addr, 0, 0)]
    assert [e.event for e in out.effects] == ["release"]
    assert lab.lease(LeaseKind.NA, addr).state == LeaseState.RELEASED
    # the next REQUEST gets an address of the new pool
    again = lab.send(lab.message(MT.REQUEST, duid(1), na(1), server=SERVER_DUID))
    assert again is not None and ipaddress.IPv6Address(addresses(again)[0][1]) in ipaddress.ip_network(
        "fd67::200:0/120"
    )


def test_renew_after_the_lease_expired_is_nobinding() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1))
    lab.now += 5000
    run_inline(lab.store.reap(lab.now))
    [(_, addr, *_)] = addresses(reply)
    renewed = lab.send(lab.message(MT.RENEW, duid(1), na(1, addr), server=SERVER_DUID))
    assert renewed is not None and ia_status(renewed) == {(3, 1): SC.NO_BINDING}


# --- CONFIRM / RELEASE / DECLINE / INFORMATION-REQUEST --------------------------------------


def test_confirm_success_notonlink_and_silence() -> None:
    lab = Lab()
    ok = lab.send(lab.message(MT.CONFIRM, duid(1), na(1, "fd67::100:9")))
    assert ok is not None and top_status(ok) == SC.SUCCESS and ok.ia_na == []
    moved = lab.send(lab.message(MT.CONFIRM, duid(1), na(1, "fd67::100:9", "fd99::1")))
    assert moved is not None and top_status(moved) == SC.NOT_ON_LINK
    assert lab.send(lab.message(MT.CONFIRM, duid(1), na(1))) is None  # no addresses: no reply
    elsewhere = Meta6("fe80::2", 546, MULTICAST, 3, "srv9")
    assert lab.send(lab.message(MT.CONFIRM, duid(1), na(1, "fd67::100:9")), elsewhere) is None


def test_release_frees_the_bindings_and_reports_unknown_ias() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1), pd(2))
    echoed = [o for o in reply.options if o.code in (3, 25)]
    out = lab.run(lab.message(MT.RELEASE, duid(1), *echoed, na(8, "fd67::100:99"), server=SERVER_DUID))
    assert out.data is not None
    done = parse6(out.data)
    assert isinstance(done, Message6) and top_status(done) == SC.SUCCESS
    assert ia_status(done) == {(3, 8): SC.NO_BINDING}
    [(_, addr, *_)] = addresses(reply)
    assert lab.lease(LeaseKind.NA, addr).state == LeaseState.RELEASED
    assert [e.event for e in out.effects] == ["release", "release"]
    # the address is free again: another client may take it
    again = lab.send(lab.message(MT.REQUEST, duid(2), na(1, addr), server=SERVER_DUID))
    assert again is not None and addresses(again)[0][1] == addr


def test_decline_quarantines_the_address() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), na(1))
    [(_, addr, *_)] = addresses(reply)
    done = lab.send(lab.message(MT.DECLINE, duid(1), na(1, addr), na(4, "fd67::100:44"), server=SERVER_DUID))
    assert done is not None and top_status(done) == SC.SUCCESS
    assert ia_status(done) == {(3, 4): SC.NO_BINDING}
    declined = lab.lease(LeaseKind.NA, addr)
    assert declined.state == LeaseState.DECLINED and declined.expires == NOW + 86400
    other = lab.send(lab.message(MT.REQUEST, duid(2), na(1, addr), server=SERVER_DUID))
    assert other is not None and addresses(other)[0][1] != addr


def test_information_request_gets_options_only() -> None:
    lab = Lab()
    reply = lab.send(lab.message(MT.INFORMATION_REQUEST, duid(1)))
    assert reply is not None and reply.msg_type == MT.REPLY
    assert codes(reply) == [1, 2, 23, 24, 32]  # information-refresh-time only here
    anonymous = lab.send(lab.message(MT.INFORMATION_REQUEST, b""))
    assert anonymous is not None and codes(anonymous) == [2, 23, 24, 32]


# --- silence and UseMulticast (RFC 8415 §16, §18.4) -----------------------------------------


@pytest.mark.parametrize(
    ("kind", "client", "server", "ias", "reason"),
    [
        (MT.SOLICIT, True, SERVER_DUID, [na()], "server-id-not-allowed"),
        (MT.CONFIRM, True, SERVER_DUID, [na(1, "fd67::100:1")], "server-id-not-allowed"),
        (MT.REBIND, True, SERVER_DUID, [na()], "server-id-not-allowed"),
        (MT.REQUEST, True, None, [na()], "no-server-id"),
        (MT.RENEW, True, None, [na()], "no-server-id"),
        (MT.RELEASE, True, None, [na()], "no-server-id"),
        (MT.DECLINE, True, None, [na()], "no-server-id"),
        (MT.REQUEST, True, b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x09", [na()], "other-server"),
        (MT.RENEW, True, b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x09", [na()], "other-server"),
        (MT.INFORMATION_REQUEST, True, b"\x00\x03\x00\x01\x02\x00\x00\x00\x00\x09", [], "other-server"),
        (MT.INFORMATION_REQUEST, True, None, [na()], "ia-in-information-request"),
        (MT.SOLICIT, False, None, [na()], "no-client-id"),
        (MT.REQUEST, False, SERVER_DUID, [na()], "no-client-id"),
        (MT.ADVERTISE, True, SERVER_DUID, [], "unsupported-type"),
        (MT.REPLY, True, SERVER_DUID, [], "unsupported-type"),
        (MT.RECONFIGURE, True, SERVER_DUID, [], "unsupported-type"),
    ],
)
def test_messages_that_get_no_reply(
    kind: int, client: bool, server: bytes | None, ias: Sequence[Option6], reason: str
) -> None:
    lab = Lab()
    out = lab.run(lab.message(kind, duid(1) if client else b"", *ias, server=server))
    assert out.data is None
    assert out.drop_reason == reason
    assert lab.stats.drops[reason] == 1


def test_unicast_request_gets_usemulticast_and_nothing_else() -> None:
    lab = Lab()
    unicast = Meta6("fd67::99", 546, UNICAST, 2, "srv0")
    reply = lab.send(lab.message(MT.REQUEST, duid(1), na(1), server=SERVER_DUID), unicast)
    assert reply is not None and reply.msg_type == MT.REPLY
    assert top_status(reply) == SC.USE_MULTICAST
    assert codes(reply) == [1, 2, 13]
    assert lab.store.index.all() == []  # nothing was assigned
    # Solicit, Rebind, Confirm and Information-request are never accepted by unicast
    for kind in (MT.SOLICIT, MT.REBIND, MT.INFORMATION_REQUEST):
        out = lab.run(
            lab.message(kind, duid(1), *([na(1)] if kind != MT.INFORMATION_REQUEST else [])), unicast
        )
        assert out.data is None and out.drop_reason == "unicast-not-allowed"


def test_unicast_is_served_when_the_server_unicast_option_is_configured() -> None:
    subnet = {**BASE["subnet6"][0], "options": {**BASE["subnet6"][0]["options"], "unicast": "fd67::1"}}
    lab = Lab({**BASE, "subnet6": [subnet]})
    unicast = Meta6("fd67::99", 546, UNICAST, 2, "srv0")
    reply = lab.send(lab.message(MT.REQUEST, duid(1), na(1), server=SERVER_DUID), unicast)
    assert reply is not None and top_status(reply) is None and len(addresses(reply)) == 1


def test_interface_not_served_and_unknown_link_are_silent() -> None:
    cfg = {**BASE, "server": {"interfaces": ["srv0"]}}
    lab = Lab(cfg)
    lab.engine.env.host = HostInfo6({}, frozenset({"srv0"}))
    out = lab.run(lab.message(MT.SOLICIT, duid(1), na(1)), Meta6("fe80::2", 546, MULTICAST, 3, "srv1"))
    assert out.drop_reason == "interface-not-served"
    lab = Lab()
    out = lab.run(lab.message(MT.SOLICIT, duid(1), na(1)), Meta6("fe80::2", 546, MULTICAST, 3, "eth9"))
    assert out.drop_reason == "no-subnet"


def test_replies_go_to_the_client_port_546_on_its_interface() -> None:
    lab = Lab()
    out = lab.run(lab.message(MT.SOLICIT, duid(1), na(1)), Meta6("fe80::2", 5546, MULTICAST, 7, "srv0"))
    assert out.dest == ("fe80::2", 546, 0, 7)


def test_counters_by_message_type() -> None:
    lab = Lab()
    exchange(lab, duid(1), na(1))
    assert lab.stats.received == {"SOLICIT": 1, "REQUEST": 1}
    assert lab.stats.sent == {"ADVERTISE": 1, "REPLY": 1}
