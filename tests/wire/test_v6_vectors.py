"""Real DHCPv6 packets (tests/wire/vectors6/*.hex): exact round trip and fields equal to tshark's decode.

Each vector's header holds ``# tshark <field>=<JSON list>`` lines written by extract_vectors.py
from tshark's own dissection; here the same fields are computed from dhcpbridge's decode
(walking options depth-first, as tshark lists them) and must match exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dhcpbridge.wire.v6.message import (
    Message6,
    RelayMessage6,
    RelayMsg,
    encode6,
    message6_to_json,
    parse6,
    unwrap_relay,
)
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    IATA,
    OPTION_CLASSES,
    ClientId,
    DnsServers,
    DomainList,
    IAAddr,
    IAPrefix,
    Option6,
    OptionContainer,
    OptionRequest,
    ServerId,
    StatusCode,
    VendorClass,
)

VECTORS = Path(__file__).parent / "vectors6"


def load_vector(path: Path) -> tuple[bytes, dict[str, list[str]]]:
    """(payload, tshark fields) from one .hex file."""
    fields: dict[str, list[str]] = {}
    hex_lines: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith("# tshark "):
            name, _, value = line[len("# tshark ") :].partition("=")
            fields[name] = json.loads(value)
        elif line.strip() and not line.startswith("#"):
            hex_lines.append(line.strip())
    return bytes.fromhex("".join(hex_lines)), fields


VECTOR_FILES = sorted(VECTORS.glob("*.hex"))


def test_vectors_present() -> None:
    names = {p.name for p in VECTOR_FILES}
    assert len(names) == 34
    for prefix in (
        "kea6-dhclient6-0",
        "kea6-dhclient6-pd-",
        "kea6-dhclient6-napd-",
        "kea6-dhcpcd6-",
        "perfdhcp6-relay-",
    ):
        assert any(n.startswith(prefix) for n in names), prefix


def walk(options: list[Option6]) -> Iterator[Option6]:
    """Decoded options depth-first (IA sub-options and relayed messages included), tshark's order."""
    for raw in options:
        cls = RelayMsg if raw.code == 9 else OPTION_CLASSES.get(raw.code)
        opt = cls.from_wire(raw.to_wire()) if cls is not None else raw
        yield opt
        if isinstance(opt, OptionContainer):
            yield from walk(opt.options)
        elif isinstance(opt, RelayMsg):
            yield from walk(opt.message.options)


def our_fields(msg: Message6 | RelayMessage6) -> dict[str, list[str]]:
    inner, chain = unwrap_relay(msg)
    opts = list(walk(msg.options))

    ias = [o for o in opts if isinstance(o, (IANA, IAPD))]
    addrs = [o for o in opts if isinstance(o, IAAddr)]
    prefixes = [o for o in opts if isinstance(o, IAPrefix)]
    statuses = [o for o in opts if isinstance(o, StatusCode)]
    vendor = [o for o in opts if isinstance(o, VendorClass)]
    out: dict[str, list[str]] = {
        "dhcpv6.msgtype": [str(r.msg_type) for r in chain] + [str(inner.msg_type)],
        "dhcpv6.xid": [f"0x{inner.transaction_id:06x}"],
        "dhcpv6.hopcount": [str(r.hop_count) for r in chain],
        "dhcpv6.linkaddr": [str(r.link_address) for r in chain],
        "dhcpv6.peeraddr": [str(r.peer_address) for r in chain],
        "dhcpv6.option.type": [str(o.code) for o in opts],
        "dhcpv6.duid.bytes": [o.duid.raw.hex() for o in opts if isinstance(o, (ClientId, ServerId))],
        "dhcpv6.iaid": [f"{o.iaid:08x}" for o in opts if isinstance(o, (IANA, IATA, IAPD))],
        "dhcpv6.iaid.t1": [str(o.t1) for o in ias],
        "dhcpv6.iaid.t2": [str(o.t2) for o in ias],
        "dhcpv6.iaaddr.ip": [str(a.address) for a in addrs],
        "dhcpv6.iaaddr.pref_lifetime": [str(a.preferred) for a in addrs],
        "dhcpv6.iaaddr.valid_lifetime": [str(a.valid) for a in addrs],
        "dhcpv6.iaprefix.pref_lifetime": [str(p.preferred) for p in prefixes],
        "dhcpv6.iaprefix.valid_lifetime": [str(p.valid) for p in prefixes],
        "dhcpv6.iaprefix.pref_len": [str(p.prefix_length) for p in prefixes],
        "dhcpv6.iaprefix.pref_addr": [str(p.prefix) for p in prefixes],
        "dhcpv6.requested_option_code": [
            str(c) for o in opts if isinstance(o, OptionRequest) for c in o.codes
        ],
        "dhcpv6.status_code": [str(s.status) for s in statuses],
        "dhcpv6.status_msg": [s.message for s in statuses],
        "dhcpv6.dns_server": [str(a) for o in opts if isinstance(o, DnsServers) for a in o.addresses],
        "dhcpv6.search_list_entry": [n + "." for o in opts if isinstance(o, DomainList) for n in o.names],
        "dhcpv6.vendorclass.enterprise": [str(v.enterprise) for v in vendor],
        "dhcpv6.vendorclass.data": [d.decode() for v in vendor for d in v.data],
    }
    return {k: v for k, v in out.items() if v}


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_round_trip_exact(path: Path) -> None:
    data, _ = load_vector(path)
    assert encode6(parse6(data)) == data


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_fields_match_tshark(path: Path) -> None:
    data, expected = load_vector(path)
    assert expected, "vector without tshark expectations"
    assert our_fields(parse6(data)) == expected


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_display_is_json(path: Path) -> None:
    data, _ = load_vector(path)
    text = json.dumps(message6_to_json(parse6(data)))
    assert "malformed" not in text


def test_dhclient_solicit_details() -> None:
    data, _ = load_vector(VECTORS / "kea6-dhclient6-napd-01-solicit.hex")
    msg = parse6(data)
    assert isinstance(msg, Message6)
    assert msg.type_name == "SOLICIT" and msg.transaction_id == 0x7B9F02
    assert msg.client_id is not None and msg.client_id.link_layer_address == bytes.fromhex("026700000002")
    assert msg.server_id is None
    assert msg.oro == [23, 24]
    assert msg.elapsed_time == 0
    assert not msg.rapid_commit
    assert [(ia.iaid, ia.t1, ia.t2, ia.options) for ia in msg.ia_na] == [(2, 3600, 5400, [])]
    assert [(pd.iaid, pd.t1, pd.t2, pd.options) for pd in msg.ia_pd] == [(2, 3600, 5400, [])]


def test_kea_advertise_details() -> None:
    data, _ = load_vector(VECTORS / "kea6-dhclient6-napd-02-advertise.hex")
    msg = parse6(data)
    assert isinstance(msg, Message6)
    assert msg.server_id is not None and msg.server_id.describe().startswith("LLT hw=1 ")
    (na,) = msg.ia_na
    (addr,) = na.addresses
    assert (str(addr.address), addr.preferred, addr.valid) == ("fd67::100:5", 3000, 4000)
    (pd,) = msg.ia_pd
    (prefix,) = pd.prefixes
    assert str(prefix.network) == "fd67:1000:0:500::/56"
    dns = msg.get(DnsServers)
    assert dns is not None and [str(a) for a in dns.addresses] == ["fd67::1"]
    search = msg.get(DomainList)
    assert search is not None and search.names == ["lab.test"]


def test_kea_release_reply_status_codes() -> None:
    data, _ = load_vector(VECTORS / "kea6-dhclient6-napd-06-reply.hex")
    msg = parse6(data)
    assert isinstance(msg, Message6)
    top = msg.status
    assert top is not None and top.name == "Success" and top.message.startswith("Summary status")
    (na,) = msg.ia_na
    assert na.status is not None and na.status.status == 0 and "released" in na.status.message


def test_perfdhcp_relay_forw() -> None:
    data, _ = load_vector(VECTORS / "perfdhcp6-relay-09-relayforw.hex")
    msg = parse6(data)
    assert isinstance(msg, RelayMessage6)
    inner, chain = unwrap_relay(msg)
    assert [r.type_name for r in chain] == ["RELAY_FORW"]
    assert str(chain[0].link_address) == "fd69::2" and chain[0].interface_id is None
    assert inner.type_name == "REQUEST"
    assert inner.server_id is not None and inner.server_id.enterprise == 2495
