"""Real DHCPv4 packets (tests/wire/vectors4/*.hex): decoded fields equal tshark's, exact re-encoding.

The vectors are UDP payloads of dhclient, udhcpc and dhcpcd talking to Kea, dnsmasq and ISC dhcpd
(lab captures) and of perfdhcp -4 acting as a relay (captured on a private namespace loopback by
capture_perfdhcp4.py). Each header holds ``# tshark <field>=<JSON list>`` lines with tshark 4.0's
own dissection; every test here recomputes the same facts from dhcpbridge's decode.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from dhcpbridge.wire import values
from dhcpbridge.wire.v4 import options as options4
from dhcpbridge.wire.v4.message import BOOTP_MIN, FLAG_BROADCAST, Message4, encode, ip4_str, parse
from dhcpbridge.wire.v4.options import ClientFqdn, parse_suboptions

VECTORS = Path(__file__).parent / "vectors4"


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
IDS = [p.stem for p in VECTOR_FILES]


@pytest.fixture(params=VECTOR_FILES, ids=IDS)
def vector(request: pytest.FixtureRequest) -> tuple[Path, bytes, dict[str, list[str]], Message4]:
    path: Path = request.param
    data, fields = load_vector(path)
    return path, data, fields, parse(data)


def test_vector_set_complete() -> None:
    names = {p.name for p in VECTOR_FILES}
    for server in ("kea4", "dnsmasq", "dhcpd", "dhcpd-bcast"):
        for client in ("dhclient4", "udhcpc", "dhcpcd4"):
            for kind in ("discover", "offer", "request", "ack"):
                assert any(n.startswith(f"{server}-{client}-") and n.endswith(f"-{kind}.hex") for n in names)
    for kind in ("discover", "request"):
        assert any(n.startswith("perfdhcp4-plain-") and n.endswith(f"-{kind}.hex") for n in names)
        assert any(n.startswith("perfdhcp4-options-") and n.endswith(f"-{kind}.hex") for n in names)
    assert sum(n.endswith("-release.hex") for n in names) == 4  # dhclient releases on all servers
    for path in VECTOR_FILES:
        head = path.read_text().splitlines()[0]
        assert head.startswith("# source: ") and ".pcapng frame " in head


def test_header_fields(vector: tuple[Path, bytes, dict[str, list[str]], Message4]) -> None:
    _, _, f, msg = vector
    assert msg.op == int(f["dhcp.type"][0])
    assert msg.htype == int(f["dhcp.hw.type"][0], 16)
    assert msg.hlen == int(f["dhcp.hw.len"][0])
    assert msg.hops == int(f["dhcp.hops"][0])
    assert msg.xid == int(f["dhcp.id"][0], 16)
    assert msg.secs == int(f["dhcp.secs"][0])
    assert msg.flags == int(f["dhcp.flags"][0], 16)
    assert ip4_str(msg.ciaddr) == f["dhcp.ip.client"][0]
    assert ip4_str(msg.yiaddr) == f["dhcp.ip.your"][0]
    assert ip4_str(msg.siaddr) == f["dhcp.ip.server"][0]
    assert ip4_str(msg.giaddr) == f["dhcp.ip.relay"][0]
    assert msg.mac.hex(":") == f["dhcp.hw.mac_addr"][0]
    assert msg.msg_type == int(f["dhcp.option.dhcp"][0])


def test_options_equal_tshark_in_order(vector: tuple[Path, bytes, dict[str, list[str]], Message4]) -> None:
    """Codes in wire order and each raw value, exactly as tshark lists them (pad/end left out)."""
    _, _, f, msg = vector
    codes = [int(c) for c in f["dhcp.option.type"] if c not in ("0", "255")]
    raw = [bytes.fromhex(v) for v in f["dhcp.option.value"]]
    assert list(msg.options) == codes
    assert list(msg.options.values()) == raw
    assert [len(v) for v in msg.options.values()] == [int(n) for n in f["dhcp.option.length"]]


def test_typed_options(vector: tuple[Path, bytes, dict[str, list[str]], Message4]) -> None:
    """Options decoded through the registry's value kinds agree with tshark's typed fields."""
    _, _, f, msg = vector
    o = msg.options
    checks = {
        "dhcp.option.request_list_item": (55, lambda v: [str(c) for c in v]),
        "dhcp.option.dhcp_max_message_size": (57, lambda v: [str(values.decode("u16", v))]),
        "dhcp.option.hostname": (12, lambda v: [values.decode("string", v)]),
        "dhcp.option.vendor_class_id": (60, lambda v: [values.decode("string", v)]),
        "dhcp.option.requested_ip_address": (50, lambda v: [values.decode("ip4", v)]),
        "dhcp.option.dhcp_server_id": (54, lambda v: [values.decode("ip4", v)]),
        "dhcp.option.ip_address_lease_time": (51, lambda v: [str(values.decode("u32", v))]),
        "dhcp.option.renewal_time_value": (58, lambda v: [str(values.decode("u32", v))]),
        "dhcp.option.rebinding_time_value": (59, lambda v: [str(values.decode("u32", v))]),
        "dhcp.option.subnet_mask": (1, lambda v: [values.decode("ip4", v)]),
        "dhcp.option.router": (3, lambda v: values.decode("ip4-list", v)),
        "dhcp.option.domain_name_server": (6, lambda v: values.decode("ip4-list", v)),
        "dhcp.option.domain_name": (15, lambda v: [values.decode("string", v)]),
        "dhcp.option.broadcast_address": (28, lambda v: [values.decode("ip4", v)]),
    }
    for field, (code, render) in checks.items():
        if field in f:
            assert code in o, field
            assert render(o[code]) == f[field], field
        else:
            assert code not in o, field
    # the registry knows each of these codes with the same kind
    for code in (1, 3, 6, 12, 15, 28, 50, 51, 54, 55, 57, 58, 59, 60):
        assert options4.BY_CODE[code].code == code


def test_client_identifier(vector: tuple[Path, bytes, dict[str, list[str]], Message4]) -> None:
    """Option 61: udhcpc/perfdhcp send htype+MAC, dhcpcd sends 255+IAID+DUID (RFC 4361), dhclient none."""
    path, _, f, msg = vector
    cid = msg.options.get(61)
    if "dhcp.client_id.iaid" in f:
        assert cid is not None and cid[0] == 255
        assert cid[1:5].hex() == f["dhcp.client_id.iaid"][0]
        assert int.from_bytes(cid[5:7], "big") == int(f["dhcp.client_id.duid_type"][0])
        assert cid[-6:].hex(":") == f["dhcp.client_id.link_layer_address"][0]
    elif cid is not None:
        # tshark shows the type-1 identifier as a second hw.type / mac_addr pair
        assert cid[0] == int(f["dhcp.hw.type"][1], 16) == 1
        assert cid[1:].hex(":") == f["dhcp.hw.mac_addr"][1]
        assert cid[1:] == msg.mac  # these clients use their own MAC
    if "-dhclient4-" in path.name and msg.op == 1:
        assert cid is None


def test_fqdn_and_relay_agent_information(
    vector: tuple[Path, bytes, dict[str, list[str]], Message4],
) -> None:
    _, _, f, msg = vector
    if "dhcp.fqdn.flags" in f:
        fq = ClientFqdn.from_wire(msg.options[81])
        assert fq.flags == int(f["dhcp.fqdn.flags"][0], 16)
        assert fq.flags & ClientFqdn.FLAG_E and fq.flags & ClientFqdn.FLAG_S
        assert fq.name == f["dhcp.fqdn.name"][0]
        assert msg.options[81][1:3] == bytes((int(f["dhcp.fqdn.rcode1"][0]), int(f["dhcp.fqdn.rcode2"][0])))
        assert ClientFqdn.from_wire(fq.to_wire()) == fq
    else:
        assert 81 not in msg.options
    key = "dhcp.option.agent_information_option.suboption"
    if key in f:
        subs = parse_suboptions(msg.options[82])
        assert [str(c) for c in subs] == f[key]
        prefix = "dhcp.option.agent_information_option."
        assert subs[1].hex() == f[prefix + "agent_circuit_id"][0]
        assert subs[2].hex() == f[prefix + "agent_remote_id"][0]
        assert str(ipaddress.IPv4Address(subs[5])) == f[prefix + "link_selection"][0]
        shown = options4.decode_for_display(82, msg.options[82])
        assert shown == {
            "circuit_id": subs[1].hex(":"),
            "remote_id": subs[2].hex(":"),
            "link_selection": "0a:45:00:00",
        }
    else:
        assert 82 not in msg.options


def test_reencode_is_exact(vector: tuple[Path, bytes, dict[str, list[str]], Message4]) -> None:
    """These packets are canonical (no pad options, no overload), so encode reproduces them byte for
    byte, except that replies shorter than the BOOTP minimum (Kea's 296-byte OFFERs, perfdhcp) are
    padded to 300 bytes."""
    _, data, _, msg = vector
    again = encode(msg)
    assert again == data.ljust(BOOTP_MIN, b"\0")
    assert parse(again) == msg


def test_perfdhcp_relay_fields() -> None:
    """perfdhcp -4 always acts as a relay: giaddr = its address, hops 1, source port 67."""
    relayed = [load_vector(p) for p in VECTOR_FILES if p.name.startswith("perfdhcp4-")]
    assert relayed
    for data, f in relayed:
        msg = parse(data)
        assert ip4_str(msg.giaddr) == "127.0.0.2" == f["ip.src"][0]
        assert msg.hops == 1 and f["udp.srcport"] == ["67"]
        assert msg.options[61] == b"\x01" + msg.mac
        if msg.msg_type == 3:  # REQUEST in SELECTING: 50 + 54 from the OFFER of capture_perfdhcp4
            assert ip4_str(int.from_bytes(msg.options[54], "big")) == "127.0.0.1"
            assert msg.options[50][:2] == bytes((10, 69))


def test_clients_never_set_broadcast_flag() -> None:
    """As the lab README notes: none of dhclient, udhcpc, dhcpcd sets the broadcast bit."""
    for path in VECTOR_FILES:
        data, f = load_vector(path)
        msg = parse(data)
        if msg.op == 1 and not path.name.startswith("perfdhcp"):
            assert not msg.flags & FLAG_BROADCAST
            assert f["ip.src"] == ["0.0.0.0"] or msg.msg_type == 7  # RELEASE is unicast from ciaddr
