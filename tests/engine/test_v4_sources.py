"""DHCPv4 engine and the source chain: order, reservations keyed four ways, deny/ignore answers,
option-only reservations, and answers the engine must refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.model import DENY, IGNORE, NO_ANSWER, Action, Answer
from dhcpbridge.engine.ports import Query
from dhcpbridge.wire.v4.message import ip4_int as ip
from dhcpbridge.wire.v4.message import ip4_str
from dhcpbridge.wire.v4.options import encode_suboptions

V4 = Any  # the harness class lives in conftest.py
Make = Callable[..., V4]
MAC_A = "02:67:00:00:00:0a"
MAC_B = "02:67:00:00:00:0b"


class Fixed:
    """A test source with one canned answer; records what it was asked."""

    in_process = True

    def __init__(self, answer: Answer, name: str = "fixed") -> None:
        self.name = name
        self.answer = answer
        self.asked: list[tuple[str, bytes, str, int, str | None]] = []

    def reserved(self) -> frozenset[int]:
        return frozenset()

    async def ask(self, query: Query) -> Answer:
        subnet = query.subnet
        self.asked.append(
            (
                query.msg_type,
                query.client_mac,
                query.relay_ip,
                query.requested_ip,
                subnet.name if subnet else None,
            )
        )
        return self.answer


def with_sources(h: V4, *sources: Any) -> None:
    h.engine.env.sources = SourceChain(sources)


def test_default_chain_reservations_before_pools(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "ip": "10.67.0.10"}]
    h = v4(base_config)
    assert h.engine.env.sources.sources[0].name == "reservations"
    assert ip4_str(h.dora(MAC_A).yiaddr) == "10.67.0.10"
    assert 100 <= h.dora(MAC_B).yiaddr & 255 <= 199


def test_configured_order_is_asked_in_order(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "ip": "10.67.0.10"}]
    base_config["source"] = [{"type": "pools"}, {"type": "reservations"}]
    h = v4(base_config)
    offer = h.discover(MAC_A)
    assert ip4_str(offer.yiaddr) != "10.67.0.10"  # the pools answered first
    assert h.lease(ip4_str(offer.yiaddr)).source == "pools"  # type: ignore[union-attr]


def test_reservations_only_chain_ignores_strangers(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "ip": "10.67.0.10"}]
    base_config["source"] = [{"type": "reservations"}]
    h = v4(base_config)
    assert ip4_str(h.dora(MAC_A).yiaddr) == "10.67.0.10"
    out = h.send(h.msg(1, MAC_B))
    assert out.data is None and out.drop_reason == "no-answer"
    out = h.send(h.msg(3, MAC_B, requested="10.67.0.120"))  # INIT-REBOOT, not authoritative
    assert out.data is None and out.drop_reason == "unknown-client"
    out = h.send(h.msg(3, MAC_B, requested="10.67.0.120", server_id="10.67.0.1"))  # SELECTING
    assert h.reply(out).msg_type == 6


@pytest.mark.parametrize(
    ("key", "value", "how"),
    [
        ("mac", MAC_A, {}),
        ("client-id", "01:02:67:00:00:00:0a", {"client_id": bytes.fromhex("0102670000000a")}),
        ("circuit-id", "port-7", {"giaddr": "10.68.0.2", "options": {82: encode_suboptions({1: b"port-7"})}}),
        (
            "circuit-id",
            "0x0a0b",
            {"giaddr": "10.68.0.2", "options": {82: encode_suboptions({1: b"\x0a\x0b"})}},
        ),
        ("remote-id", "cpe-1", {"giaddr": "10.68.0.2", "options": {82: encode_suboptions({2: b"cpe-1"})}}),
    ],
)
def test_reservation_keys(
    base_config: dict[str, Any], v4: Make, key: str, value: str, how: dict[str, Any]
) -> None:
    addr = "10.68.0.77" if "giaddr" in how else "10.67.0.77"
    base_config["reservation"] = [{key: value, "ip": addr}]
    h = v4(base_config)
    mac = MAC_B if key != "mac" else MAC_A
    assert ip4_str(h.dora(mac, **how).yiaddr) == addr


def test_client_id_reservation_does_not_match_by_mac(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"client-id": "01:02:67:00:00:00:0a", "ip": "10.67.0.77"}]
    h = v4(base_config)
    assert ip4_str(h.discover(MAC_A).yiaddr) != "10.67.0.77"  # no option 61 sent


def test_deny(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"mac": MAC_A, "deny": True}]
    h = v4(base_config)
    out = h.send(h.msg(1, MAC_A))
    assert out.data is None and out.drop_reason == "denied-by-source"
    nak = h.reply(h.send(h.msg(3, MAC_A, requested="10.67.0.120", server_id="10.67.0.1")))
    assert nak.msg_type == 6 and b"reservations" in nak.options[56]
    assert h.stats.drops["denied-by-source"] == 1
    assert h.discover(MAC_B).msg_type == 2


def test_ignore_answer_drops_everything(v4: Make) -> None:
    h = v4()
    with_sources(h, Fixed(IGNORE))
    for kind in (1, 3, 8):
        out = h.send(
            h.msg(kind, MAC_A, requested="10.67.0.120", ciaddr="10.67.0.5" if kind == 8 else "0.0.0.0")
        )
        assert out.data is None and out.drop_reason == "ignored-by-source"


def test_chain_skips_no_answer_and_stops_at_the_first_answer(v4: Make) -> None:
    h = v4()
    first = Fixed(NO_ANSWER, "first")
    second = Fixed(Answer(Action.ASSIGN, source="second", address=ip("10.67.0.33")), "second")
    third = Fixed(DENY, "third")
    with_sources(h, first, second, third)
    offer = h.discover(MAC_A, requested="10.67.0.150")
    assert ip4_str(offer.yiaddr) == "10.67.0.33"
    assert len(first.asked) == 1 and len(second.asked) == 1 and third.asked == []
    msg_type, mac, relay, requested, subnet = first.asked[0]
    assert (msg_type, mac, relay, requested, subnet) == (
        "DHCPDISCOVER",
        bytes.fromhex("02670000000a"),
        "",
        ip("10.67.0.150"),
        "10.67.0.0/24",
    )
    assert h.lease("10.67.0.33").source == "second"  # type: ignore[union-attr]


def test_sources_are_not_asked_for_release_decline_or_other_server(v4: Make) -> None:
    h = v4()
    addr = ip4_str(h.dora(MAC_A).yiaddr)
    spy = Fixed(NO_ANSWER)
    with_sources(h, spy)
    h.send(h.msg(4, MAC_A, requested=addr, server_id="10.67.0.1"))
    h.send(h.msg(7, MAC_A, ciaddr=addr, server_id="10.67.0.1"), h.unicast(addr))
    h.send(h.msg(3, MAC_B, requested="10.67.0.150", server_id="10.1.1.1"))
    assert spy.asked == []


def test_answer_off_the_clients_subnet_is_refused(v4: Make) -> None:
    h = v4()
    with_sources(h, Fixed(Answer(Action.ASSIGN, source="x", address=ip("10.68.0.9"))))
    out = h.send(h.msg(1, MAC_A))
    assert out.data is None and out.drop_reason == "answer-off-subnet"
    nak = h.reply(h.send(h.msg(3, MAC_A, requested="10.67.0.9", server_id="10.67.0.1")))
    assert nak.msg_type == 6  # the source assigns another address


def test_answer_without_address_or_pool(v4: Make) -> None:
    h = v4()
    with_sources(h, Fixed(Answer(Action.ASSIGN, source="x")))
    assert h.send(h.msg(1, MAC_A)).drop_reason == "no-address"
    assert h.reply(h.send(h.msg(3, MAC_A, requested="10.67.0.120", server_id="10.67.0.1"))).msg_type == 6


def test_option_only_reservation_keyed_by_circuit(base_config: dict[str, Any], v4: Make) -> None:
    base_config["reservation"] = [{"circuit-id": "port-9", "options": {"domain-name": "port9.example"}}]
    h = v4(base_config)
    rai = {82: encode_suboptions({1: b"port-9"})}
    ack = h.dora(MAC_A, giaddr="10.68.0.2", options=rai, prl=bytes([1, 3, 15]))
    assert ip4_str(ack.yiaddr).startswith("10.68.1.") and ack.options[15] == b"port9.example"


def test_source_answer_options_lease_time_and_boot(v4: Make) -> None:
    h = v4()
    answer = Answer(
        Action.ASSIGN,
        source="bridge",
        dynamic=True,
        options={42: bytes((192, 0, 2, 1)), 15: b"bridge.example"},
        lease_time=900,
        hostname="from-bridge",
        next_server=ip("10.67.0.8"),
        boot_file=b"bridge.efi",
        server_name=b"bridge-tftp",
    )
    with_sources(h, Fixed(answer))
    ack = h.dora(MAC_A, prl=bytes([1, 3, 12, 15, 42]))
    assert int.from_bytes(ack.options[51], "big") == 900
    assert ack.options[42] == bytes((192, 0, 2, 1)) and ack.options[15] == b"bridge.example"
    assert ack.options[12] == b"from-bridge"
    assert ip4_str(ack.siaddr) == "10.67.0.8"
    assert ack.file.rstrip(b"\0") == b"bridge.efi" and ack.sname.rstrip(b"\0") == b"bridge-tftp"
    lease = h.lease(ip4_str(ack.yiaddr))
    assert lease is not None and lease.hostname == "from-bridge" and lease.source == "bridge"
