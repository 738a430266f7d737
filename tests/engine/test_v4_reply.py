"""DHCPv4 engine: what a reply holds and where it goes — RFC 2131 Table 3 and §4.1 destinations,
option selection (option 55 order, basics, per-client options), relay agent information (RFC 3046,
3527, 5107, 8357), client-id echo (RFC 6842), subnet selection (giaddr, relay addresses, option 118,
interface), INFORM, boot fields and the client's maximum message size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dhcpbridge.wire.v4.message import FLAG_BROADCAST, HEADER_LEN, ip4_str
from dhcpbridge.wire.v4.message import ip4_int as ip
from dhcpbridge.wire.v4.options import encode_suboptions, parse_suboptions

V4 = Any  # the harness class lives in conftest.py
Make = Callable[..., V4]
MAC_A = "02:67:00:00:00:0a"
MAC_B = "02:67:00:00:00:0b"
BCAST = 0xFFFFFFFF


def dest(out: Any) -> tuple[str, int, bool]:
    tx = out.tx
    assert tx is not None and out.data is not None
    return ip4_str(tx.dest_ip), tx.dest_port, tx.dest_l2


def wire_codes(data: bytes) -> list[int]:
    """Option codes in wire order, walked by hand from the options field (no overload here)."""
    codes, pos = [], HEADER_LEN + 4
    while pos < len(data) and data[pos] != 255:
        if data[pos]:
            codes.append(data[pos])
            pos += 2 + data[pos + 1]
        else:
            pos += 1
    return [*codes, data[pos]]


def n(value: bytes) -> int:
    return int.from_bytes(value, "big")


# --- header fields -------------------------------------------------------------------------------------
def test_reply_header_rfc2131_table_3(v4: Make) -> None:
    h = v4()
    req = h.msg(1, MAC_A, broadcast=True)
    req.secs = 9
    req.hops = 0
    offer = h.reply(h.send(req))
    assert (offer.op, offer.htype, offer.hlen, offer.hops, offer.secs) == (2, 1, 6, 0, 0)
    assert (
        offer.xid == req.xid and offer.flags == FLAG_BROADCAST and offer.chaddr == req.chaddr.ljust(16, b"\0")
    )
    assert offer.ciaddr == 0 and offer.giaddr == 0 and offer.yiaddr != 0
    assert list(offer.options)[:5] == [53, 54, 51, 58, 59]
    assert n(offer.options[54]) == ip("10.67.0.1")


# --- destinations (RFC 2131 §4.1) ----------------------------------------------------------------------------
def test_unicast_to_yiaddr_needs_a_link_layer_frame(v4: Make) -> None:
    h = v4()
    out = h.send(h.msg(1, MAC_A))
    offer = h.reply(out)
    assert dest(out) == (ip4_str(offer.yiaddr), 68, True)


def test_broadcast_bit_means_broadcast(v4: Make) -> None:
    h = v4()
    out = h.send(h.msg(1, MAC_A, broadcast=True))
    assert dest(out) == ("255.255.255.255", 68, False)
    assert h.reply(out).flags & FLAG_BROADCAST


def test_relayed_replies_go_to_giaddr_port_67(v4: Make) -> None:
    h = v4()
    out = h.send(h.msg(1, MAC_A, giaddr="10.68.0.2", broadcast=True))
    assert dest(out) == ("10.68.0.2", 67, False)
    offer = h.reply(out)
    assert ip4_str(offer.giaddr) == "10.68.0.2" and ip4_str(offer.yiaddr).startswith("10.68.1.")


def test_relay_source_port_rfc8357(v4: Make) -> None:
    """With sub-option 19 the server answers the relay's own UDP source port and echoes option 82."""
    h = v4()
    rai = encode_suboptions({1: b"ge-0/0/1", 19: b""})
    req = h.msg(1, MAC_A, giaddr="10.68.0.2", options={82: rai})
    out = h.send(req, h.relayed("10.68.0.2", port=40067))
    assert dest(out) == ("10.68.0.2", 40067, False)
    assert h.reply(out).options[82] == rai
    # without the sub-option a relay's odd source port is not trusted
    out = h.send(h.msg(1, MAC_B, giaddr="10.68.0.2"), h.relayed("10.68.0.2", port=40067))
    assert dest(out) == ("10.68.0.2", 67, False)


def test_configured_ports(base_config: dict[str, Any], v4: Make) -> None:
    base_config["server"].update({"client-port": 1068, "relay-port": 1067})
    h = v4(base_config)
    assert dest(h.send(h.msg(1, MAC_A, broadcast=True)))[:2] == ("255.255.255.255", 1068)
    assert dest(h.send(h.msg(1, MAC_A, giaddr="10.68.0.2")))[:2] == ("10.68.0.2", 1067)


def test_ack_to_a_client_with_an_address_goes_to_ciaddr(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    out = h.send(h.msg(3, MAC_A, ciaddr=addr, broadcast=True), h.unicast(addr))
    assert dest(out) == (addr, 68, False)  # ciaddr wins over the broadcast bit


# --- option 82 and client-id echo -----------------------------------------------------------------------------
def test_option_82_echoed_as_the_last_option(v4: Make) -> None:
    h = v4()
    rai = encode_suboptions({1: b"port-7", 2: bytes.fromhex("020000000007")})
    cid = b"\x01" + bytes.fromhex("02670000000a")
    req = h.msg(1, MAC_A, giaddr="10.68.0.2", client_id=cid, prl=bytes([1, 3, 6, 15]), options={82: rai})
    out = h.send(req)
    offer = h.reply(out)
    assert list(offer.options)[-1] == 82 and offer.options[82] == rai
    assert offer.options[61] == cid
    assert wire_codes(out.data)[-2:] == [82, 255]  # on the wire too: 82, then END
    # and the lease remembers where the client was seen
    lease = h.lease(ip4_str(offer.yiaddr))
    assert lease is not None and lease.circuit_id == b"port-7" and lease.relay == "10.68.0.2"
    assert lease.remote_id == bytes.fromhex("020000000007")


def test_client_id_echo_rfc6842(v4: Make) -> None:
    h = v4()
    cid = b"\xff\x00\x00\x00\x01\x00\x04" + bytes(16)
    ack = h.dora(MAC_A, client_id=cid)
    assert ack.options[61] == cid
    assert 61 not in h.discover(MAC_B).options  # nothing to echo


def test_link_selection_rfc3527_picks_the_subnet_reply_still_goes_to_giaddr(v4: Make) -> None:
    h = v4()
    rai = encode_suboptions({5: bytes((10, 67, 0, 0))})
    out = h.send(h.msg(1, MAC_A, giaddr="10.68.0.2", options={82: rai}))
    offer = h.reply(out)
    assert ip4_str(offer.yiaddr).startswith("10.67.0.")
    assert dest(out)[:2] == ("10.68.0.2", 67)
    assert out.tx.subnet.name == "10.67.0.0/24"


def test_subnet_selection_option_118(v4: Make) -> None:
    h = v4()
    out = h.send(h.msg(1, MAC_A, giaddr="10.68.0.2", options={118: bytes((10, 67, 0, 9))}))
    assert ip4_str(h.reply(out).yiaddr).startswith("10.67.0.")
    # RFC 3527 link selection wins over option 118
    rai = encode_suboptions({5: bytes((10, 68, 0, 0))})
    out = h.send(h.msg(1, MAC_B, options={118: bytes((10, 67, 0, 9)), 82: rai}, giaddr="10.68.0.2"))
    assert ip4_str(h.reply(out).yiaddr).startswith("10.68.1.")


def test_server_id_override_rfc5107(v4: Make) -> None:
    h = v4()
    rai = encode_suboptions({1: b"p1", 11: bytes((10, 68, 0, 2))})
    offer = h.reply(h.send(h.msg(1, MAC_A, giaddr="10.68.0.2", options={82: rai})))
    assert offer.options[54] == bytes((10, 68, 0, 2))
    req = h.msg(
        3,
        MAC_A,
        giaddr="10.68.0.2",
        requested=ip4_str(offer.yiaddr),
        server_id="10.68.0.2",
        options={82: rai},
    )
    ack = h.reply(h.send(req))
    assert ack.msg_type == 5 and ack.options[54] == bytes((10, 68, 0, 2))
    assert parse_suboptions(ack.options[82])[11] == bytes((10, 68, 0, 2))


# --- subnet selection ------------------------------------------------------------------------------------------
@pytest.fixture
def three_subnets(base_config: dict[str, Any]) -> dict[str, Any]:
    base_config["subnet4"].append(
        {
            "subnet": "192.168.50.0/24",
            "pools": ["192.168.50.10-192.168.50.20"],
            "relay-addresses": ["10.99.0.1"],
        }
    )
    return base_config


@pytest.mark.parametrize(
    ("giaddr", "ifname", "prefix"),
    [
        ("10.68.0.2", "eth1", "10.68.1."),  # listed relay address
        ("10.68.7.1", "eth1", "10.68.1."),  # giaddr inside the subnet
        ("10.99.0.1", "eth1", "192.168.50."),  # relay address of a subnet it is not in
        ("0.0.0.0", "eth0", "10.67.0."),  # interface named by the subnet
        ("0.0.0.0", "eth1", "10.68.1."),  # the interface's own address is in the subnet
    ],
)
def test_subnet_selection(
    three_subnets: dict[str, Any], v4: Make, giaddr: str, ifname: str, prefix: str
) -> None:
    h = v4(three_subnets)
    meta = h.relayed(giaddr) if giaddr != "0.0.0.0" else h.direct(ifname, local=ip("10.67.0.1"))
    offer = h.reply(h.send(h.msg(1, MAC_A, giaddr=giaddr), meta))
    assert ip4_str(offer.yiaddr).startswith(prefix)


@pytest.mark.parametrize(("giaddr", "ifname"), [("10.5.5.5", "eth1"), ("0.0.0.0", "eth9")])
def test_unknown_network_is_dropped(v4: Make, giaddr: str, ifname: str) -> None:
    h = v4()
    meta = h.relayed(giaddr) if giaddr != "0.0.0.0" else h.direct(ifname)
    out = h.send(h.msg(1, MAC_A, giaddr=giaddr), meta)
    assert out.data is None and out.drop_reason == "no-subnet"
    assert h.stats.drops["no-subnet"] == 1


def test_only_served_interfaces_answer_broadcasts(v4: Make) -> None:
    h = v4(served=frozenset({"eth0"}))
    assert h.send(h.msg(1, MAC_A), h.direct("eth1")).drop_reason == "interface-not-served"
    assert h.send(h.msg(1, MAC_A), h.direct("eth0")).data is not None
    assert h.send(h.msg(1, MAC_B, giaddr="10.68.0.2"), h.relayed("10.68.0.2", ifname="eth1")).data is not None


def test_server_id_is_the_receiving_address_or_the_subnet_one(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][1]["server-id"] = "10.68.0.254"
    h = v4(base_config)
    assert h.discover(MAC_A).options[54] == bytes((10, 67, 0, 1))
    assert h.discover(MAC_A, giaddr="10.68.0.2").options[54] == bytes((10, 68, 0, 254))


# --- options ----------------------------------------------------------------------------------------------
def test_option_55_order_and_basics(v4: Make) -> None:
    h = v4()
    offer = h.discover(MAC_A, prl=bytes([42, 15, 3, 51, 54, 121]))
    codes = list(offer.options)
    assert codes[:5] == [53, 54, 51, 58, 59]
    assert codes[5:8] == [42, 15, 3]  # requested ones, in the client's order
    assert set(codes[8:]) == {1, 6}  # the basics are sent anyway
    assert 26 not in offer.options  # configured but neither asked for nor basic


def test_without_option_55_every_configured_option_is_sent(v4: Make) -> None:
    offer = v4().discover(MAC_A)
    for code in (1, 3, 6, 15, 26, 42):
        assert code in offer.options
    assert offer.options[1] == bytes((255, 255, 255, 0))
    assert offer.options[6] == bytes((10, 67, 0, 1, 10, 67, 0, 2))
    assert offer.options[15] == b"lab.example"
    assert n(offer.options[26]) == 1500


def test_global_options_are_inherited_and_overridden(base_config: dict[str, Any], v4: Make) -> None:
    base_config["options"] = {
        "domain-name": "global.example",
        "ntp-servers": ["192.0.2.123"],
        "time-offset": -3600,
    }
    h = v4(base_config)
    offer = h.discover(MAC_A)
    assert offer.options[15] == b"lab.example"  # the subnet's own
    assert offer.options[42] == bytes((10, 67, 0, 5))
    assert offer.options[2] == (-3600).to_bytes(4, "big", signed=True)
    relayed = h.discover(MAC_A, giaddr="10.68.0.2")
    assert relayed.options[15] == b"global.example"
    assert relayed.options[1] == bytes((255, 255, 0, 0))


def test_per_client_options_override_and_add(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [
        {"mac": MAC_A, "options": {"domain-name": "special.example", "tftp-server-name": "tftp.example"}}
    ]
    h = v4(base_config)
    offer = h.discover(MAC_A, prl=bytes([1, 3, 15]))
    assert offer.options[15] == b"special.example"
    assert offer.options[66] == b"tftp.example"  # set for this client: sent although not requested
    assert 100 <= offer.yiaddr & 255 <= 199  # option-only reservation: address from the pool
    assert h.lease(ip4_str(offer.yiaddr)).source == "reservations"  # type: ignore[union-attr]
    other = h.discover(MAC_B, prl=bytes([1, 3, 15]))
    assert other.options[15] == b"lab.example" and 66 not in other.options


def test_reserved_hostname_sent_when_asked(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "ip": "10.67.0.10", "hostname": "printer"}]
    h = v4(base_config)
    assert 12 not in h.discover(MAC_A, prl=bytes([1, 3])).options
    assert h.discover(MAC_A, prl=bytes([1, 3, 12])).options[12] == b"printer"
    assert h.discover(MAC_A, options={12: b"whatever"}).options[12] == b"printer"


def test_client_hostname_is_recorded(v4: Make) -> None:
    h = v4()
    ack = h.dora(MAC_A, options={12: b"laptop\x00"})
    lease = h.lease(ip4_str(ack.yiaddr))
    assert lease is not None and lease.hostname == "laptop"
    assert 12 not in ack.options  # nothing configured to send back


def test_boot_fields(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0].update(
        {"next-server": "10.67.0.3", "boot-file-name": "pxelinux.0", "server-hostname": "boot.lab.example"}
    )
    base_config["reservation"] = [
        {"mac": MAC_B, "next-server": "10.67.0.4", "boot-file-name": "ipxe.efi", "hostname": "pxe"}
    ]
    h = v4(base_config)
    offer = h.discover(MAC_A)
    assert ip4_str(offer.siaddr) == "10.67.0.3"
    assert offer.file.rstrip(b"\0") == b"pxelinux.0" and offer.sname.rstrip(b"\0") == b"boot.lab.example"
    special = h.dora(MAC_B)
    assert ip4_str(special.siaddr) == "10.67.0.4" and special.file.rstrip(b"\0") == b"ipxe.efi"


def test_nak_carries_no_boot_fields(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0].update({"next-server": "10.67.0.3", "boot-file-name": "pxelinux.0"})
    h = v4(base_config)
    nak = h.reply(h.send(h.msg(3, MAC_A, requested="10.99.0.1")))
    assert nak.msg_type == 6 and nak.siaddr == 0 and not nak.file.strip(b"\0")


# --- maximum message size ------------------------------------------------------------------------------------
def test_max_message_size_makes_the_reply_use_overload(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0]["options"].update(
        {
            "root-path": "/srv/nfs/" + "r" * 90,  # 101 bytes on the wire
            "classless-static-route": [f"10.{i}.0.0/16 via 10.67.0.1" for i in range(14)],  # 100
            "domain-search": [f"zone{i}.lab.example" for i in range(6)],  # 113: only fits in file
            "v4-captive-portal": "https://portal.lab.example/" + "p" * 20,  # 49: only fits in sname
        }
    )
    h = v4(base_config)
    plain = h.reply(h.send(h.msg(1, MAC_A)))
    out = h.send(h.msg(1, MAC_A, options={57: (576).to_bytes(2, "big")}))
    assert out.data is not None and len(out.data) <= 576 - 28  # RFC 2132 §9.10, IP + UDP included
    assert out.data[HEADER_LEN + 4 : HEADER_LEN + 7] == b"\x34\x01\x03"  # option overload first
    small = h.reply(out)
    assert small.options == plain.options  # everything still arrives, via file and sname
    assert not small.file and not small.sname
    big = h.send(h.msg(1, MAC_A, options={57: (1500).to_bytes(2, "big")}))
    assert big.data is not None and len(big.data) > 576 and big.data[HEADER_LEN + 4] == 53


def test_max_message_size_drops_only_what_cannot_fit(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0]["options"].update(
        {
            "domain-search": [f"zone{i}.department.lab.example" for i in range(8)],  # 252 bytes
            "classless-static-route": [f"10.{i}.0.0/16 via 10.67.0.1" for i in range(20)],  # 142
            "root-path": "/srv/nfs/" + "r" * 60,  # 71
        }
    )
    h = v4(base_config)
    offer = h.reply(h.send(h.msg(1, MAC_A, options={57: (576).to_bytes(2, "big")})))
    assert 121 in offer.options and 17 in offer.options


# --- INFORM ---------------------------------------------------------------------------------------------------
def test_inform_gets_options_but_no_lease(v4: Make) -> None:
    """RFC 2131 §4.3.5: ACK to ciaddr, no lease time, no yiaddr, nothing stored."""
    h = v4()
    out = h.send(h.msg(8, MAC_A, ciaddr="10.67.0.50", prl=bytes([1, 3, 6, 15, 51])), h.unicast("10.67.0.50"))
    ack = h.reply(out)
    assert ack.msg_type == 5 and ip4_str(ack.ciaddr) == "10.67.0.50" and ack.yiaddr == 0
    for code in (51, 58, 59):
        assert code not in ack.options
    assert ack.options[3] == bytes((10, 67, 0, 1)) and ack.options[15] == b"lab.example"
    assert dest(out) == ("10.67.0.50", 68, False)
    assert out.effects == [] and h.lease("10.67.0.50") is None


def test_inform_through_a_relay(v4: Make) -> None:
    h = v4()
    out = h.send(h.msg(8, MAC_A, ciaddr="10.68.3.3", giaddr="10.68.0.2"))
    ack = h.reply(out)
    assert ack.msg_type == 5 and ack.options[3] == bytes((10, 68, 0, 1))
    assert dest(out)[:2] == ("10.68.0.2", 67)


def test_inform_gets_per_client_options(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "options": {"domain-name": "special.example"}}]
    h = v4(base_config)
    inform = h.msg(8, MAC_A, ciaddr="10.67.0.50", prl=bytes([1, 3, 15]))
    ack = h.reply(h.send(inform, h.unicast("10.67.0.50")))
    assert ack.options[15] == b"special.example"


@pytest.mark.parametrize("kind", [1, 8])
def test_per_client_options_override_without_option_55(
    base_config: dict[str, Any], v4: Make, kind: int
) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "options": {"domain-name": "special.example"}}]
    h = v4(base_config)
    msg = h.msg(kind, MAC_A, ciaddr="10.67.0.50" if kind == 8 else "0.0.0.0")
    reply = h.reply(h.send(msg, h.unicast("10.67.0.50") if kind == 8 else None))
    assert reply.options[15] == b"special.example"
