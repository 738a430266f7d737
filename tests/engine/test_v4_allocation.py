"""DHCPv4 engine: which address a client is offered (RFC 2131 §4.3.1), holds, DECLINE, RELEASE,
pool exhaustion, reserved addresses, and the lease records these leave in the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseState
from dhcpbridge.wire.v4.message import ip4_int as ip
from dhcpbridge.wire.v4.message import ip4_str

NOW = 1_700_000_000.0  # the harness's clock (tests/engine/conftest.py)
V4 = Any  # the harness class lives in conftest.py

MAC_A = "02:67:00:00:00:0a"
MAC_B = "02:67:00:00:00:0b"
MAC_C = "02:67:00:00:00:0c"
Make = Callable[..., V4]


def small_pool(base: dict[str, Any], pool: str, **subnet: Any) -> dict[str, Any]:
    base["subnet4"][0]["pools"] = [pool]
    base["subnet4"][0].update(subnet)
    return base


def test_discover_offers_a_pool_address_and_holds_it(v4: Make) -> None:
    h = v4()
    assert h.now == NOW
    offer = h.discover(MAC_A)
    assert offer.op == 2 and offer.msg_type == 2
    addr = ip4_str(offer.yiaddr)
    assert ip("10.67.0.100") <= offer.yiaddr <= ip("10.67.0.199")
    lease = h.lease(addr)
    assert lease is not None and lease.state == LeaseState.OFFERED
    assert lease.client == b"\x01" + bytes.fromhex(MAC_A.replace(":", ""))  # htype + chaddr
    assert lease.expires == NOW + h.config.server.offer_hold
    assert lease.subnet == "10.67.0.0/24" and lease.source == "pools"
    assert h.stats.received["DHCPDISCOVER"] == 1 and h.stats.sent["DHCPOFFER"] == 1


def test_offer_is_not_an_effect_and_ack_is(v4: Make) -> None:
    """Holds are never durable: only the ACK carries a commit effect for the runtime."""
    h = v4()
    out = h.send(h.msg(1, MAC_A))
    assert out.effects == []
    offer = h.reply(out)
    req = h.msg(3, MAC_A, xid=offer.xid, requested=ip4_str(offer.yiaddr), server_id="10.67.0.1")
    out = h.send(req)
    assert [e.event for e in out.effects] == ["commit"]
    assert out.effects[0].lease.state == LeaseState.BOUND and out.effects[0].lease.address == offer.yiaddr


def test_same_client_same_offer_while_held(v4: Make) -> None:
    h = v4()
    first = h.discover(MAC_A)
    again = h.discover(MAC_A)
    assert again.yiaddr == first.yiaddr
    other = h.discover(MAC_B)
    assert other.yiaddr != first.yiaddr


def test_stable_hash_same_address_in_independent_servers(v4: Make) -> None:
    """The search starts at a per-client hash: two servers with empty stores agree, whatever the
    order in which other clients arrived."""
    one, two = v4(), v4()
    for mac in (MAC_B, MAC_C):
        one.discover(mac)
    assert one.discover(MAC_A).yiaddr == two.discover(MAC_A).yiaddr
    addrs = {v4().discover(f"02:00:00:00:00:{i:02x}").yiaddr for i in range(20)}
    assert len(addrs) > 10  # clients spread over the pool instead of piling up at its start


def test_client_id_is_the_identity_when_present(v4: Make) -> None:
    h = v4()
    cid = b"\xff\x00\x00\x00\x02\x00\x01\x02\x03"
    ack = h.dora(MAC_A, client_id=cid)
    lease = h.lease(ip4_str(ack.yiaddr))
    assert lease is not None and lease.client == cid and lease.hwaddr == bytes.fromhex("02670000000a")
    # same client-id from another NIC: same lease (RFC 2131 §4.2: the client identifier wins)
    assert h.discover(MAC_B, client_id=cid).yiaddr == ack.yiaddr
    # same MAC, no client id: a different client
    assert h.discover(MAC_A).yiaddr != ack.yiaddr


def test_requested_address_honoured_when_free(v4: Make) -> None:
    h = v4()
    assert ip4_str(h.discover(MAC_A, requested="10.67.0.150").yiaddr) == "10.67.0.150"


def test_requested_address_taken_outside_pool_or_other_subnet_is_not_offered(v4: Make) -> None:
    h = v4()
    h.dora(MAC_B, requested="10.67.0.150")
    assert ip4_str(h.discover(MAC_A, requested="10.67.0.150").yiaddr) != "10.67.0.150"
    for wish in ("10.67.0.50", "10.67.0.255", "10.68.1.5"):
        offer = h.discover(MAC_C, requested=wish)
        assert ip4_str(offer.yiaddr) != wish and 100 <= offer.yiaddr & 255 <= 199


def test_current_binding_wins_over_requested_address(v4: Make) -> None:
    """RFC 2131 §4.3.1: the client's current address first, only then the one it asks for."""
    h = v4()
    ack = h.dora(MAC_A)
    wish = "10.67.0.177" if ip4_str(ack.yiaddr) != "10.67.0.177" else "10.67.0.178"
    assert h.discover(MAC_A, requested=wish).yiaddr == ack.yiaddr


def test_returning_client_after_expiry_and_after_release(v4: Make) -> None:
    h = v4()
    ack = h.dora(MAC_A)
    addr = ip4_str(ack.yiaddr)
    h.now = NOW + 3600 + 50  # lease expired (not reaped yet)
    assert h.discover(MAC_A).yiaddr == ack.yiaddr
    run_reap(h, h.now + 100)
    h.now += 200
    lease = h.lease(addr)
    assert lease is not None and lease.state == LeaseState.EXPIRED
    again = h.dora(MAC_A)
    assert again.yiaddr == ack.yiaddr
    rel = h.msg(7, MAC_A, ciaddr=addr, server_id="10.67.0.1")
    assert h.send(rel, h.unicast(addr)).data is None
    assert h.lease(addr).state == LeaseState.RELEASED  # type: ignore[union-attr]
    assert h.discover(MAC_A).yiaddr == ack.yiaddr


def run_reap(h: V4, now: float) -> None:
    run_inline(h.store.reap(now))


def test_address_bound_to_one_client_is_never_offered_to_another(
    base_config: dict[str, Any], v4: Make
) -> None:
    h = v4(small_pool(base_config, "10.67.0.100-10.67.0.101"))
    a = h.dora(MAC_A)
    b = h.dora(MAC_B)
    assert a.yiaddr != b.yiaddr
    out = h.send(h.msg(1, MAC_C))
    assert out.data is None and out.drop_reason == "pool-exhausted"
    assert h.stats.drops["pool-exhausted"] == 1
    # asking for A's address changes nothing
    out = h.send(h.msg(1, MAC_C, requested=ip4_str(a.yiaddr)))
    assert out.drop_reason == "pool-exhausted"


def test_offer_hold_blocks_others_until_it_runs_out(base_config: dict[str, Any], v4: Make) -> None:
    h = v4(small_pool(base_config, "10.67.0.100-10.67.0.100"))
    held = h.discover(MAC_A)
    assert h.send(h.msg(1, MAC_B)).drop_reason == "pool-exhausted"
    later = NOW + h.config.server.offer_hold + 1
    run_reap(h, later)  # the runtime's reaper runs every leases.reap-interval
    assert h.reply(h.send(h.msg(1, MAC_B), now=later)).yiaddr == held.yiaddr


def test_release_frees_the_address(base_config: dict[str, Any], v4: Make) -> None:
    h = v4(small_pool(base_config, "10.67.0.100-10.67.0.100"))
    ack = h.dora(MAC_A)
    addr = ip4_str(ack.yiaddr)
    out = h.send(h.msg(7, MAC_A, ciaddr=addr, server_id="10.67.0.1"), h.unicast(addr))
    assert out.data is None and out.drop_reason is None  # RELEASE gets no reply (RFC 2131 §4.4.6)
    assert [e.event for e in out.effects] == ["release"]
    assert h.lease(addr).state == LeaseState.RELEASED  # type: ignore[union-attr]
    assert h.dora(MAC_B).yiaddr == ack.yiaddr


def test_release_from_the_wrong_client_or_for_another_server_is_ignored(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    out = h.send(h.msg(7, MAC_B, ciaddr=addr, server_id="10.67.0.1"), h.unicast(addr))
    assert out.drop_reason == "release-unknown" and out.effects == []
    out = h.send(h.msg(7, MAC_A, ciaddr=addr, server_id="10.99.0.1"), h.unicast(addr))
    assert out.drop_reason == "other-server"
    out = h.send(h.msg(7, MAC_A, server_id="10.67.0.1"), h.unicast(addr))
    assert out.drop_reason == "malformed-release"
    assert h.lease(addr).state == LeaseState.BOUND  # type: ignore[union-attr]
    assert h.stats.drops["release-unknown"] == 1 and h.stats.drops["other-server"] == 1


def test_decline_quarantines_the_address_until_probation_ends(base_config: dict[str, Any], v4: Make) -> None:
    base_config["server"]["decline-probation"] = 600
    h = v4(small_pool(base_config, "10.67.0.100-10.67.0.100"))
    ack = h.dora(MAC_A)
    addr = ip4_str(ack.yiaddr)
    out = h.send(h.msg(4, MAC_A, requested=addr, server_id="10.67.0.1"))
    assert out.data is None and out.drop_reason is None
    assert [e.event for e in out.effects] == ["decline"]
    lease = h.lease(addr)
    assert lease is not None and lease.state == LeaseState.DECLINED and lease.expires == NOW + 600
    # neither another client nor the one that declined it gets it during probation
    for mac in (MAC_B, MAC_A):
        assert h.send(h.msg(1, mac)).drop_reason == "pool-exhausted"
        assert h.send(h.msg(1, mac, requested=addr)).drop_reason == "pool-exhausted"
    h.now = NOW + 599
    assert h.send(h.msg(1, MAC_B, requested=addr)).drop_reason == "pool-exhausted"
    h.now = NOW + 601
    run_reap(h, h.now)
    assert h.discover(MAC_B).yiaddr == ack.yiaddr


def test_decline_rules(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    assert h.send(h.msg(4, MAC_B, requested=addr, server_id="10.67.0.1")).drop_reason == "decline-unknown"
    assert h.send(h.msg(4, MAC_A, server_id="10.67.0.1")).drop_reason == "malformed-decline"
    assert h.send(h.msg(4, MAC_A, requested=addr, server_id="10.1.1.1")).drop_reason == "other-server"
    assert h.lease(addr).state == LeaseState.BOUND  # type: ignore[union-attr]


def test_reserved_address_outside_the_pool(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "ip": "10.67.0.10", "hostname": "printer"}]
    h = v4(base_config)
    ack = h.dora(MAC_A)
    assert ip4_str(ack.yiaddr) == "10.67.0.10"
    lease = h.lease("10.67.0.10")
    assert lease is not None and lease.source == "reservations" and lease.hostname == "printer"


def test_reserved_address_inside_a_pool_is_never_handed_to_others(
    base_config: dict[str, Any], v4: Make
) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "ip": "10.67.0.101"}]
    h = v4(small_pool(base_config, "10.67.0.100-10.67.0.101"))
    assert ip4_str(h.discover(MAC_B, requested="10.67.0.101").yiaddr) == "10.67.0.100"
    assert h.send(h.msg(1, MAC_C)).drop_reason == "pool-exhausted"
    req = h.msg(3, MAC_C, requested="10.67.0.101", server_id="10.67.0.1")
    nak = h.reply(h.send(req))
    assert nak.msg_type == 6  # not in a pool this client may use
    assert ip4_str(h.discover(MAC_A).yiaddr) == "10.67.0.101"


def test_reservation_on_another_network_falls_through_to_the_pool(
    base_config: dict[str, Any], v4: Make
) -> None:
    """A reservation applies only where its address is on the client's network (the client moved)."""
    base_config["reservation"] = [{"mac": MAC_A, "ip": "10.68.0.50"}]
    h = v4(base_config)
    offer = h.discover(MAC_A)  # on eth0 = 10.67.0.0/24
    assert 100 <= offer.yiaddr & 255 <= 199 and ip4_str(offer.yiaddr).startswith("10.67.0.")
    relayed = h.discover(MAC_A, giaddr="10.68.0.2")
    assert ip4_str(relayed.yiaddr) == "10.68.0.50"


def test_reserved_address_held_by_someone_else_is_a_drop(base_config: dict[str, Any], v4: Make) -> None:
    """A reservation added while another client holds the address: no double assignment."""
    h = v4()
    addr = ip4_str(h.dora(MAC_B, requested="10.67.0.120").yiaddr)
    assert addr == "10.67.0.120"
    base_config["reservation"] = [{"mac": MAC_A, "ip": addr}]
    h2 = v4(base_config)
    h2.store = h.store
    h2.engine.env.store = h.store
    out = h2.send(h2.msg(1, MAC_A))
    assert out.data is None and out.drop_reason == "address-in-use"


def test_no_pool_and_no_answer(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0]["pools"] = []
    h = v4(base_config)
    out = h.send(h.msg(1, MAC_A))
    assert out.data is None and out.drop_reason == "no-answer"


def test_many_clients_fill_a_pool_exactly_once(base_config: dict[str, Any], v4: Make) -> None:
    h = v4(small_pool(base_config, "10.67.0.100-10.67.0.131"))
    got = [h.dora(f"02:00:00:00:01:{i:02x}").yiaddr for i in range(32)]
    assert sorted(got) == list(range(ip("10.67.0.100"), ip("10.67.0.132")))
    assert h.send(h.msg(1, "02:00:00:00:02:00")).drop_reason == "pool-exhausted"
    for i, addr in enumerate(got):  # every lease is bound to the client that got it
        lease = h.lease(ip4_str(addr))
        assert lease is not None and lease.hwaddr == bytes.fromhex(f"0200000001{i:02x}")


def test_server_id_of_offer(v4: Make) -> None:
    h = v4()
    assert h.discover(MAC_A).options[54] == bytes((10, 67, 0, 1))
