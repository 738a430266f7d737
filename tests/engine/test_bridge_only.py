"""Bridge-only mode (issue 13 §1) in both engines: no configured subnets, one HTTP source; the
answer is the whole truth (address, mask, router, lease time, options; v6 addresses and prefixes
with lifetimes) and the engine translates it: server id from the receiving address, T1/T2 from
the lease time, the ``check-subnet`` guard judged from giaddr / link-address / the interface's
networks, and ``store = "none"`` keeping nothing while renewals still get their ACK."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.contract.models import parse_answer
from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Answer, LeaseKind
from dhcpbridge.engine.ports import Query
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.engine.v6.engine import Engine6
from dhcpbridge.leases import open_store
from dhcpbridge.sources.http import answer_from_contract
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, ip4_str, parse
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, IAPD, ClientId, ElapsedTime, IAAddr, OptionRequest, RawOption

NOW = 1_800_000_000.0
SERVER = ip4_int("10.67.0.1")
SERVER1 = ip4_int("10.68.0.1")
MAC = "02:67:00:00:00:02"


def bridge_config(check: bool = True, store: str = "none") -> dict[str, Any]:
    """The ten-line config of the README: a server and one HTTP source, nothing else."""
    return {
        "server": {"port": 6767},
        "leases": {"store": store},
        "source": [
            {"type": "http", "url": "http://127.0.0.1:9/v1/question", "check-subnet": check, "name": "truth"}
        ],
    }


class Truth:
    """An in-process stand-in for the answer service: one contract answer for every question,
    translated by the HTTP source's own ``answer_from_contract``; records the questions."""

    name = "truth"

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.asked: list[tuple[str, bool]] = []  # (msg_type, whether a subnet was known)

    def reserved(self) -> frozenset[int]:
        return frozenset()

    def answer(self, query: Query) -> Answer:
        self.asked.append((query.msg_type, query.subnet is not None))
        return answer_from_contract(parse_answer(self.doc), self.name, query.protocol)

    async def ask(self, query: Query) -> Answer:
        return self.answer(query)


class Lab4:
    def __init__(self, doc: dict[str, Any], check: bool = True, store: str = "none") -> None:
        self.config = from_dict(bridge_config(check, store))
        self.store = open_store(store)
        host = HostInfo.build(
            {"eth0": (SERVER,), "eth1": (SERVER1,)},
            networks={"eth0": ((ip4_int("10.67.0.0"), 24),), "eth1": ((ip4_int("10.68.0.0"), 24),)},
        )
        self.stats = Stats()
        self.engine = build_engine4(self.config, self.store, host, self.stats, sources=[])
        self.truth = Truth(doc)
        self.engine.env.sources = SourceChain([self.truth])

    def send(self, kind: int, meta: Meta4, **kw: Any) -> tuple[Message4 | None, str | None]:
        opts: dict[int, bytes] = {53: bytes((kind,)), 55: bytes((1, 3, 6, 12, 15, 51))}
        if "requested" in kw:
            opts[50] = ip4_int(kw["requested"]).to_bytes(4, "big")
        if "server_id" in kw:
            opts[54] = ip4_int(kw["server_id"]).to_bytes(4, "big")
        msg = Message4(
            xid=7,
            htype=1,
            hlen=6,
            ciaddr=ip4_int(kw.get("ciaddr", "0.0.0.0")),
            giaddr=ip4_int(kw.get("giaddr", "0.0.0.0")),
            chaddr=bytes.fromhex(MAC.replace(":", "")),
            options=opts,
        )
        out = run_inline(self.engine.process(encode(msg), meta, NOW))
        return (parse(out.data) if out.data else None), out.drop_reason


DIRECT = Meta4(0, 68, BROADCAST, SERVER, 2, "eth0")


def relayed(giaddr: str) -> Meta4:
    return Meta4(ip4_int(giaddr), 67, SERVER1, SERVER1, 3, "eth1")


ANSWER4 = {
    "action": "assign",
    "client_ip": "10.67.0.50",
    "subnet_mask": "255.255.255.0",
    "router": ["10.67.0.1"],
    "dns_servers": ["10.67.0.53"],
    "lease_time": 900,
    "hostname": "printer-1",
}


def u32(value: bytes) -> int:
    return int.from_bytes(value, "big")


def test_v4_direct_dora_and_renewal_from_the_answer_alone_with_store_none() -> None:
    lab = Lab4(ANSWER4)
    offer, why = lab.send(1, DIRECT)
    assert offer is not None, why
    assert offer.msg_type == 2 and ip4_str(offer.yiaddr) == "10.67.0.50"
    assert offer.options[1] == ipaddress.IPv4Address("255.255.255.0").packed
    assert offer.options[3] == ipaddress.IPv4Address("10.67.0.1").packed
    assert offer.options[6] == ipaddress.IPv4Address("10.67.0.53").packed
    assert (u32(offer.options[51]), u32(offer.options[58]), u32(offer.options[59])) == (900, 450, 787)
    assert u32(offer.options[54]) == SERVER  # the address the request arrived on
    assert offer.options[12] == b"printer-1"
    ack, why = lab.send(3, DIRECT, requested="10.67.0.50", server_id="10.67.0.1")
    assert ack is not None and ack.msg_type == 5, why
    assert ip4_str(ack.yiaddr) == "10.67.0.50"
    assert run_inline(lab.store.leases()) == []  # "none" keeps nothing ...
    renew, why = lab.send(3, Meta4(ip4_int("10.67.0.50"), 68, SERVER, SERVER, 2, "eth0"), ciaddr="10.67.0.50")
    assert renew is not None and renew.msg_type == 5, why  # ... and a renewal asks again
    assert ip4_str(renew.yiaddr) == "10.67.0.50" and u32(renew.options[51]) == 900
    # no configured subnet: the questions have none
    assert lab.truth.asked == [("DHCPDISCOVER", False), ("DHCPREQUEST", False), ("DHCPREQUEST", False)]


def test_v4_relayed_answer_is_judged_against_giaddr() -> None:
    doc = {**ANSWER4, "client_ip": "10.68.0.77", "subnet_mask": "255.255.255.0", "router": ["10.68.0.2"]}
    offer, why = Lab4(doc).send(1, relayed("10.68.0.2"), giaddr="10.68.0.2")
    assert offer is not None and ip4_str(offer.yiaddr) == "10.68.0.77", why
    off = {**ANSWER4, "client_ip": "10.99.0.5"}
    assert Lab4(off).send(1, relayed("10.68.0.2"), giaddr="10.68.0.2") == (None, "answer-off-link")
    offer, why = Lab4(off, check=False).send(1, relayed("10.68.0.2"), giaddr="10.68.0.2")
    assert offer is not None and ip4_str(offer.yiaddr) == "10.99.0.5", why  # check-subnet = false
    maskless = {"action": "assign", "client_ip": "10.68.0.77"}
    assert Lab4(maskless).send(1, relayed("10.68.0.2"), giaddr="10.68.0.2") == (None, "answer-without-mask")


def test_v4_direct_answer_is_judged_against_the_interface_networks() -> None:
    off = {**ANSWER4, "client_ip": "10.68.0.50"}  # eth1's network, but the client is on eth0
    assert Lab4(off).send(1, DIRECT) == (None, "answer-off-link")
    maskless = {"action": "assign", "client_ip": "10.67.0.60"}
    offer, why = Lab4(maskless).send(1, DIRECT)
    assert offer is not None, why
    assert offer.options[1] == ipaddress.IPv4Address("255.255.255.0").packed  # the interface's
    assert u32(offer.options[51]) == 3600  # no lease time in the answer: the default


def test_v4_deny_naks_a_request_and_none_stays_silent() -> None:
    assert Lab4({"action": "deny", "message": "stolen"}).send(1, DIRECT) == (None, "denied-by-source")
    nak, why = Lab4({"action": "deny", "message": "stolen"}).send(
        3, DIRECT, requested="10.67.0.50", server_id="10.67.0.1"
    )
    assert nak is not None and nak.msg_type == 6 and nak.options[56] == b"stolen", why
    assert Lab4({"action": "none"}).send(1, DIRECT) == (None, "no-answer")
    inform, why = Lab4({"action": "assign", "domain_name": "lab.test"}).send(
        8, Meta4(ip4_int("10.67.0.9"), 68, SERVER, SERVER, 2, "eth0"), ciaddr="10.67.0.9"
    )
    assert inform is not None and inform.msg_type == 5 and inform.options[15] == b"lab.test", why


def test_v4_a_store_records_what_the_answer_granted() -> None:
    lab = Lab4(ANSWER4, store="memory://")
    lab.send(1, DIRECT)
    ack, why = lab.send(3, DIRECT, requested="10.67.0.50", server_id="10.67.0.1")
    assert ack is not None and ack.msg_type == 5, why
    lease = run_inline(lab.store.get(LeaseKind.V4, ip4_int("10.67.0.50")))
    assert lease is not None
    assert (lease.subnet, lease.source, lease.hostname) == ("10.67.0.0/24", "truth", "printer-1")
    assert lease.expires - lease.starts == 900


def test_classic_mode_keeps_dropping_requests_without_a_subnet() -> None:
    cfg = bridge_config()
    cfg["subnet4"] = [{"subnet": "10.67.0.0/24", "pools": ["10.67.0.100-10.67.0.199"]}]
    config = from_dict(cfg)
    host = HostInfo.build({"eth0": (SERVER,), "eth1": (SERVER1,)})
    engine = build_engine4(config, open_store("memory://"), host, Stats(), sources=[])
    assert not engine.env.answer_links
    msg = Message4(
        xid=1, htype=1, hlen=6, giaddr=ip4_int("10.99.0.1"), chaddr=b"\x02" * 6, options={53: b"\x01"}
    )
    out = run_inline(engine.process(encode(msg), relayed("10.99.0.1"), NOW))
    assert out.drop_reason == "no-subnet"


# --- DHCPv6 ----------------------------------------------------------------------------------
SRV6 = int(ipaddress.IPv6Address("fd67::1"))
META6 = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
DUID = Duid.ll(1, bytes.fromhex("026700000002")).raw
ANSWER6 = {
    "action": "assign",
    "addresses": [{"address": "fd67::50", "preferred_lifetime": 1000, "valid_lifetime": 2000}],
    "prefixes": [{"prefix": "fd67:1000::", "length": 56}],
    "dns_servers": ["fd67::53"],
    "domain_search": ["lab.test"],
}


class Lab6:
    def __init__(self, doc: dict[str, Any], check: bool = True) -> None:
        cfg = bridge_config(check)
        cfg["server6"] = {"server-duid": "ll:02:67:00:00:00:01"}
        config = from_dict(cfg)
        self.store = open_store("none")
        host = HostInfo6({"srv0": (SRV6,)}, networks={"srv0": ((SRV6 - 1, 64),)})
        self.engine: Engine6 = build_engine6(config, self.store, host, Stats(), build_sources(config))
        self.truth = Truth(doc)
        self.engine.env.sources = SourceChain([self.truth])
        self.xid = 0

    def send(self, kind: int, *opts: Any, server: bool = False) -> tuple[Message6 | None, str | None]:
        self.xid += 1
        options: list[Any] = [ClientId(Duid(DUID))]
        if server:
            options.append(RawOption(2, self.engine.env.server_duid))
        options += [*opts, OptionRequest([23, 24]), ElapsedTime(0)]
        out = run_inline(self.engine.process(encode6(Message6(kind, self.xid, options)), META6, NOW))
        reply = parse6(out.data) if out.data else None
        assert reply is None or isinstance(reply, Message6)
        return reply, out.drop_reason


def _ia(reply: Message6, code: int) -> Any:
    return (reply.ia_na if code == 3 else reply.ia_pd)[0]


def test_v6_solicit_request_renew_from_the_answer_alone() -> None:
    lab = Lab6(ANSWER6)
    adv, why = lab.send(1, IANA(1), IAPD(2))
    assert adv is not None and adv.msg_type == 2, why
    ia_na = _ia(adv, 3)
    addr = ia_na.addresses[0]
    assert (str(addr.address), addr.preferred, addr.valid) == ("fd67::50", 1000, 2000)
    assert (ia_na.t1, ia_na.t2) == (500, 800)  # from the preferred lifetime
    prefix = _ia(adv, 25).prefixes[0]
    assert (str(prefix.prefix), prefix.prefix_length) == ("fd67:1000::", 56)
    codes = {o.code for o in adv.options}
    assert {23, 24} <= codes  # the answer's DNS servers and search list
    rep, why = lab.send(3, IANA(1), IAPD(2), server=True)
    assert rep is not None and rep.msg_type == 7, why
    assert str(_ia(rep, 3).addresses[0].address) == "fd67::50"
    renew, why = lab.send(
        5, IANA(1, 0, 0, [IAAddr(ipaddress.IPv6Address("fd67::50"), 0, 0)]), server=True
    )  # "none" kept nothing: the answer alone renews it
    assert renew is not None and renew.msg_type == 7, why
    assert _ia(renew, 3).addresses[0].valid == 2000


def test_v6_answer_off_the_interface_link_is_refused_unless_check_is_off() -> None:
    off = {"action": "assign", "addresses": [{"address": "fd99::50"}]}
    assert Lab6(off).send(1, IANA(1)) == (None, "answer-off-link")
    adv, why = Lab6(off, check=False).send(1, IANA(1))
    assert adv is not None and str(_ia(adv, 3).addresses[0].address) == "fd99::50", why
    assert _ia(adv, 3).addresses[0].valid == 7200  # no lifetimes in the answer: the default


@pytest.mark.parametrize("doc", [{"action": "none"}, {"action": "deny"}])
def test_v6_no_answer_no_reply(doc: dict[str, Any]) -> None:
    reply, why = Lab6(doc).send(1, IANA(1))
    assert reply is None and why in ("no-subnet", "denied-by-source")
