"""DHCPv4 engine: DHCPREQUEST in each client state (RFC 2131 §4.3.2), NAK rules, server-identifier
checks, and malformed requests dropped with a counted reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dhcpbridge.engine.model import LeaseState
from dhcpbridge.wire.v4.message import FLAG_BROADCAST, Message4, encode, ip4_str
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = Any  # the harness class lives in conftest.py
Make = Callable[..., V4]
NOW = 1_700_000_000.0
MAC_A = "02:67:00:00:00:0a"
MAC_B = "02:67:00:00:00:0b"
BCAST = 0xFFFFFFFF


def request(h: V4, mac: str = MAC_A, **kw: Any) -> Message4:
    return h.msg(3, mac, **kw)


# --- SELECTING ----------------------------------------------------------------------------------------
def test_selecting_request_for_our_offer_is_acked(v4: Make) -> None:
    h = v4()
    offer = h.discover(MAC_A)
    out = h.send(request(h, xid=offer.xid, requested=ip4_str(offer.yiaddr), server_id="10.67.0.1"))
    ack = h.reply(out)
    assert ack.msg_type == 5 and ack.yiaddr == offer.yiaddr and ack.xid == offer.xid
    assert out.tx is not None and out.tx.state == "selecting"
    lease = h.lease(ip4_str(ack.yiaddr))
    assert lease is not None and lease.state == LeaseState.BOUND and lease.expires == NOW + 3600
    assert h.stats.sent["DHCPACK"] == 1


def test_selecting_another_server_means_silence_and_the_hold_is_dropped(
    base_config: dict[str, Any], v4: Make
) -> None:
    base_config["subnet4"][0]["pools"] = ["10.67.0.100-10.67.0.100"]
    h = v4(base_config)
    offer = h.discover(MAC_A)
    addr = ip4_str(offer.yiaddr)
    out = h.send(request(h, xid=offer.xid, requested=addr, server_id="10.67.0.254"))
    assert out.data is None and out.drop_reason == "other-server"
    assert h.stats.drops["other-server"] == 1
    assert h.lease(addr) is None  # the never-bound offer leaves no record
    assert h.discover(MAC_B).yiaddr == offer.yiaddr  # free again at once, no hold time to wait


def test_selecting_address_held_by_another_client_is_nakked(v4: Make) -> None:
    h = v4()
    taken = ip4_str(h.discover(MAC_B).yiaddr)
    nak = h.reply(h.send(request(h, requested=taken, server_id="10.67.0.1")))
    assert nak.msg_type == 6
    assert h.lease(taken).client[1:] == bytes.fromhex("02670000000b")  # type: ignore[union-attr]


def test_selecting_without_requested_address_is_dropped(v4: Make) -> None:
    h = v4()
    out = h.send(request(h, server_id="10.67.0.1"))
    assert out.data is None and out.drop_reason == "malformed-request"


@pytest.mark.parametrize("sid", ["10.67.0.1", "10.68.0.1", "127.0.0.1"])
def test_any_of_our_addresses_is_our_server_id(v4: Make, sid: str) -> None:
    h = v4()
    offer = h.discover(MAC_A)
    ack = h.reply(h.send(request(h, requested=ip4_str(offer.yiaddr), server_id=sid)))
    assert ack.msg_type == 5


def test_configured_server_id_is_ours(base_config: dict[str, Any], v4: Make) -> None:
    base_config["server"]["server-id"] = "192.0.2.1"
    h = v4(base_config)
    offer = h.discover(MAC_A)
    assert offer.options[54] == bytes((192, 0, 2, 1))
    ack = h.reply(h.send(request(h, requested=ip4_str(offer.yiaddr), server_id="192.0.2.1")))
    assert ack.msg_type == 5 and ack.options[54] == bytes((192, 0, 2, 1))


# --- INIT-REBOOT --------------------------------------------------------------------------------------
def test_init_reboot_known_client_is_acked(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    h.now = NOW + 7200  # rebooted after its lease ran out: still its own address
    out = h.send(request(h, requested=addr))
    ack = h.reply(out)
    assert ack.msg_type == 5 and ip4_str(ack.yiaddr) == addr
    assert out.tx is not None and out.tx.state == "init-reboot"


@pytest.mark.parametrize("wish", ["10.99.0.5", "10.68.1.5"])
def test_init_reboot_on_the_wrong_network_is_nakked(v4: Make, wish: str) -> None:
    h = v4()
    nak = h.reply(h.send(request(h, requested=wish)))
    assert nak.msg_type == 6 and b"not on network" in nak.options[56]


def test_init_reboot_unknown_client_not_authoritative_is_silence(v4: Make) -> None:
    """RFC 2131 §4.3.2: no record of the client -> remain silent."""
    h = v4()
    out = h.send(request(h, requested="10.67.0.150"))
    assert out.data is None and out.drop_reason == "unknown-client"
    assert h.lease("10.67.0.150") is None
    assert h.stats.drops["unknown-client"] == 1


def test_init_reboot_unknown_client_for_someone_elses_address_is_nakked(v4: Make) -> None:
    h = v4()
    taken = ip4_str(h.dora(MAC_B).yiaddr)
    nak = h.reply(h.send(request(h, requested=taken)))
    assert nak.msg_type == 6


@pytest.mark.parametrize("where", ["server", "subnet"])
def test_init_reboot_authoritative(base_config: dict[str, Any], v4: Make, where: str) -> None:
    if where == "server":
        base_config["server"]["authoritative"] = True
    else:
        base_config["subnet4"][0]["authoritative"] = True
    h = v4(base_config)
    ack = h.reply(h.send(request(h, requested="10.67.0.150")))
    assert ack.msg_type == 5 and ip4_str(ack.yiaddr) == "10.67.0.150"
    nak = h.reply(h.send(request(h, MAC_B, requested="10.67.0.150")))
    assert nak.msg_type == 6
    outside = h.reply(h.send(request(h, MAC_B, requested="10.67.0.20")))  # in the subnet, in no pool
    assert outside.msg_type == 6


# --- RENEWING / REBINDING ---------------------------------------------------------------------------------
def test_renewing_is_unicast_and_extends_the_lease(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    h.now = NOW + 1800
    out = h.send(request(h, ciaddr=addr), h.unicast(addr))
    ack = h.reply(out)
    tx = out.tx
    assert tx is not None and tx.state == "renewing"
    assert ack.msg_type == 5 and ip4_str(ack.yiaddr) == addr and ip4_str(ack.ciaddr) == addr
    assert (tx.dest_ip, tx.dest_port, tx.dest_l2) == (ip(addr), 68, False)
    lease = h.lease(addr)
    assert lease is not None and lease.expires == NOW + 1800 + 3600 and lease.starts == NOW


def test_rebinding_is_broadcast_and_acked_to_ciaddr(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    h.now = NOW + 3200
    out = h.send(request(h, ciaddr=addr), h.direct())
    ack = h.reply(out)
    assert out.tx is not None and out.tx.state == "rebinding"
    assert ack.msg_type == 5 and ip4_str(ack.yiaddr) == addr
    assert (out.tx.dest_ip, out.tx.dest_port) == (ip(addr), 68)


def test_rebinding_through_a_relay(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A, giaddr="10.68.0.2").yiaddr)
    assert addr.startswith("10.68.1.")
    out = h.send(request(h, ciaddr=addr, giaddr="10.68.0.2"))
    assert out.tx is not None and out.tx.state == "rebinding"
    assert h.reply(out).msg_type == 5
    assert (out.tx.dest_ip, out.tx.dest_port) == (ip("10.68.0.2"), 67)


def test_renewing_someone_elses_address_is_nakked(v4: Make) -> None:
    h = v4()
    taken = ip4_str(h.dora(MAC_B).yiaddr)
    out = h.send(request(h, ciaddr=taken), h.unicast(taken))
    nak = h.reply(out)
    assert nak.msg_type == 6
    assert out.tx is not None and (out.tx.dest_ip, out.tx.dest_port) == (BCAST, 68)
    assert h.lease(taken).state == LeaseState.BOUND  # type: ignore[union-attr]


def test_rebinding_on_the_wrong_network_is_nakked(v4: Make) -> None:
    h = v4()
    nak = h.reply(h.send(request(h, ciaddr="10.68.1.7"), h.direct()))
    assert nak.msg_type == 6


def test_renewing_from_a_network_we_do_not_serve_is_dropped(v4: Make) -> None:
    h = v4()
    out = h.send(request(h, ciaddr="192.0.2.7"), h.unicast("192.0.2.7"))
    assert out.data is None and out.drop_reason == "no-subnet"


# --- NAK ------------------------------------------------------------------------------------------------
def test_nak_contents_rfc2131_table_3(v4: Make) -> None:
    h = v4()
    cid = b"\x01\x02\x67\x00\x00\x00\x0a"
    req = request(h, requested="10.99.0.5", client_id=cid, prl=bytes([1, 3, 6, 51]))
    req.options[57] = (1500).to_bytes(2, "big")
    nak = h.reply(h.send(req))
    assert nak.msg_type == 6
    assert (nak.yiaddr, nak.ciaddr, nak.siaddr) == (0, 0, 0)
    assert nak.options[54] == bytes((10, 67, 0, 1))
    assert nak.options[61] == cid  # RFC 6842
    assert set(nak.options) == {53, 54, 56, 61}  # no lease time, no configured options
    assert nak.options[56].decode()


def test_nak_direct_is_broadcast(v4: Make) -> None:
    h = v4()
    out = h.send(request(h, requested="10.99.0.5"))
    nak = h.reply(out)
    assert not nak.flags & FLAG_BROADCAST
    assert out.tx is not None and (out.tx.dest_ip, out.tx.dest_port, out.tx.dest_l2) == (BCAST, 68, False)
    assert h.stats.sent["DHCPNAK"] == 1


def test_nak_through_a_relay_sets_the_broadcast_bit(v4: Make) -> None:
    """RFC 2131 §4.3.2: the relay must broadcast the NAK to the client."""
    h = v4()
    req = request(h, requested="10.99.0.5", giaddr="10.68.0.2")
    req.options[82] = b"\x01\x04port"
    out = h.send(req)
    nak = h.reply(out)
    assert nak.msg_type == 6 and nak.flags & FLAG_BROADCAST
    assert ip4_str(nak.giaddr) == "10.68.0.2"
    assert out.tx is not None and (out.tx.dest_ip, out.tx.dest_port) == (ip("10.68.0.2"), 67)
    assert list(nak.options)[-1] == 82 and nak.options[82] == b"\x01\x04port"


# --- lease time ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("asked", "granted"), [(None, 3600), (100, 600), (5000, 5000), (10**6, 7200), (600, 600), (7200, 7200)]
)
def test_lease_time_negotiation(v4: Make, asked: int | None, granted: int) -> None:
    h = v4()
    opts = {51: asked.to_bytes(4, "big")} if asked is not None else {}
    offer = h.discover(MAC_A, options=opts)
    assert int.from_bytes(offer.options[51], "big") == granted
    req = request(h, requested=ip4_str(offer.yiaddr), server_id="10.67.0.1", options=opts)
    ack = h.reply(h.send(req))
    assert int.from_bytes(ack.options[51], "big") == granted
    assert int.from_bytes(ack.options[58], "big") == granted // 2  # RFC 2131 §4.4.5: 0.5
    assert int.from_bytes(ack.options[59], "big") == granted * 7 // 8  # and 0.875
    assert h.lease(ip4_str(ack.yiaddr)).expires == NOW + granted  # type: ignore[union-attr]


def test_configured_timers(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0].update({"renew-timer": 1000, "rebind-timer": 2000})
    h = v4(base_config)
    ack = h.dora(MAC_A)
    assert [int.from_bytes(ack.options[c], "big") for c in (51, 58, 59)] == [3600, 1000, 2000]


def test_timers_for_a_short_negotiated_lease_stay_below_it(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0].update({"renew-timer": 1800, "rebind-timer": 3000})
    h = v4(base_config)
    offer = h.discover(MAC_A, options={51: (600).to_bytes(4, "big")})
    lease, t1, t2 = (int.from_bytes(offer.options[c], "big") for c in (51, 58, 59))
    assert lease == 600
    assert 0 < t1 < t2 < lease


def test_reservation_lease_time(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "lease-time": 1200, "hostname": "long"}]
    h = v4(base_config)
    ack = h.dora(MAC_A)
    assert int.from_bytes(ack.options[51], "big") == 1200
    assert h.lease(ip4_str(ack.yiaddr)).expires == NOW + 1200  # type: ignore[union-attr]


# --- malformed requests ------------------------------------------------------------------------------------
def _bad(h: V4) -> list[tuple[str, Message4 | bytes]]:
    no_id = h.msg(1, MAC_A)
    no_id.hlen = 0
    reply_op = h.msg(1, MAC_A)
    reply_op.op = 2
    bootp = h.msg(1, MAC_A)
    del bootp.options[53]
    return [
        ("bad-client-id", h.msg(1, MAC_A, client_id=b"\x01")),
        ("bad-option", h.msg(1, MAC_A, options={50: b"\x0a\x43\x00"})),
        ("bad-option", h.msg(3, MAC_A, options={50: b"\x0a\x43\x00\x01", 54: b"\x0a\x43\x00"})),
        ("malformed-request", h.msg(3, MAC_A)),
        ("no-client-identity", no_id),
        ("bad-relay-agent-info", h.msg(1, MAC_A, giaddr="10.68.0.2", options={82: b"\x01\x09abc"})),
        ("not-a-request", reply_op),
        ("bootp", bootp),
        ("unsupported-type", h.msg(2, MAC_A)),
        ("unsupported-type", h.msg(10, MAC_A)),
        ("malformed:short", b"\x01\x01\x06\x00"),
        ("malformed:no-cookie", encode(h.msg(1, MAC_A))[:236] + b"\x00\x00\x00\x00\xff"),
        ("malformed:option-overrun", encode(h.msg(1, MAC_A))[:240] + b"\x35\x09\x01"),
    ]


def test_malformed_requests_are_dropped_with_a_counted_reason(v4: Make) -> None:
    h = v4()
    expected: dict[str, int] = {}
    for reason, msg in _bad(h):
        out = h.send(msg, h.direct())
        assert out.data is None and out.drop_reason == reason, (reason, out.drop_reason, out.drop_detail)
        expected[reason] = expected.get(reason, 0) + 1
    assert dict(h.stats.drops) == expected
    assert h.stats.sent == {}
    assert run_leases(h) == []


def run_leases(h: V4) -> list[Any]:
    from dhcpbridge.engine.inline import run_inline

    return list(run_inline(h.store.leases()))


def test_received_counted_by_type(v4: Make) -> None:
    h = v4()
    h.dora(MAC_A)
    h.send(h.msg(8, MAC_B, ciaddr="10.67.0.50"), h.unicast("10.67.0.50"))
    assert h.stats.received == {"DHCPDISCOVER": 1, "DHCPREQUEST": 1, "DHCPINFORM": 1}
    assert h.stats.sent == {"DHCPOFFER": 1, "DHCPACK": 2}
