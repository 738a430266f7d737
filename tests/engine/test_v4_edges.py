"""DHCPv4 engine edges: timers and NAK text from a source's answer, option 67 mirrored into the file
field for PXE firmware, the server identifier when the receiving address is unknown, replies a user
handler made unencodable, and log fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.model import Action, Answer
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.ports import Query
from dhcpbridge.engine.records import Meta4
from dhcpbridge.engine.v4.transaction import BROADCAST, Transaction4
from dhcpbridge.wire.v4.message import ip4_int as ip

V4 = Any  # the harness class lives in conftest.py
Make = Callable[..., V4]
MAC_A = "02:67:00:00:00:0a"


class Fixed:
    in_process = True

    def __init__(self, answer: Answer) -> None:
        self.name = answer.source
        self.answer = answer

    def reserved(self) -> frozenset[int]:
        return frozenset()

    async def ask(self, query: Query) -> Answer:
        return self.answer


def using(h: V4, answer: Answer) -> V4:
    h.engine.env.sources = SourceChain([Fixed(answer)])
    return h


def n(value: bytes) -> int:
    return int.from_bytes(value, "big")


def test_source_sets_t1_and_t2(v4: Make) -> None:
    h = using(
        v4(), Answer(Action.ASSIGN, source="bridge", dynamic=True, renewal_time=100, rebinding_time=200)
    )
    ack = h.dora(MAC_A)
    assert [n(ack.options[c]) for c in (51, 58, 59)] == [3600, 100, 200]


def test_source_t1_only_and_timers_never_exceed_the_lease(v4: Make) -> None:
    h = using(v4(), Answer(Action.ASSIGN, source="b", dynamic=True, renewal_time=1000, lease_time=900))
    offer = h.discover(MAC_A)
    lease, t1, t2 = (n(offer.options[c]) for c in (51, 58, 59))
    assert lease == 900 and t1 <= lease and t1 <= t2 <= lease


def test_deny_message_becomes_the_nak_text(v4: Make) -> None:
    h = using(v4(), Answer(Action.DENY, source="bridge", message="account suspended"))
    nak = h.reply(h.send(h.msg(3, MAC_A, requested="10.67.0.120", server_id="10.67.0.1")))
    assert nak.msg_type == 6 and nak.options[56] == b"account suspended"


def test_boot_file_option_also_fills_the_file_field(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0]["options"]["boot-file-name"] = "undionly.kpxe"
    h = v4(base_config)
    offer = h.discover(MAC_A, prl=bytes([1, 3, 67]))
    assert offer.options[67] == b"undionly.kpxe"
    assert offer.file.rstrip(b"\0") == b"undionly.kpxe"  # PXE ROMs read the BOOTP field
    base_config["subnet4"][0]["boot-file-name"] = "explicit.efi"
    h = v4(base_config)
    assert h.discover(MAC_A).file.rstrip(b"\0") == b"explicit.efi"  # the explicit field wins


def test_dynamic_answer_on_a_subnet_without_pools(base_config: dict[str, Any], v4: Make) -> None:
    base_config["subnet4"][0]["pools"] = []
    h = using(v4(base_config), Answer(Action.ASSIGN, source="bridge", dynamic=True))
    out = h.send(h.msg(1, MAC_A))
    assert out.data is None and out.drop_reason == "no-pool"


def test_server_id_falls_back_to_the_interface_address(v4: Make) -> None:
    """IP_PKTINFO may report no local address (or the broadcast address) for a broadcast."""
    h = v4()
    for local in (0, BROADCAST):
        offer = h.reply(h.send(h.msg(1, MAC_A), Meta4(0, 68, BROADCAST, local, 2, "eth0")))
        assert offer.options[54] == bytes((10, 67, 0, 1))


def test_no_address_to_be_the_server_id_is_a_drop(v4: Make) -> None:
    h = v4(addresses={"eth0": ()})
    out = h.send(h.msg(1, MAC_A), Meta4(0, 68, BROADCAST, 0, 2, "eth0"))
    assert out.data is None and out.drop_reason == "no-server-address"


def test_unencodable_reply_is_an_error_not_a_crash(v4: Make) -> None:
    class Break(Handler[Transaction4]):
        def post(self, tx: Transaction4) -> None:
            if tx.reply is not None:
                tx.reply.options[300] = b"x"  # not a DHCPv4 option code

    h = v4(extra=[Break()])
    out = h.send(h.msg(1, MAC_A))
    assert out.data is None and out.drop_reason == "encode-error"
    assert h.stats.errors["encode"] == 1 and h.stats.sent == {}


def test_outcome_log_fields(v4: Make) -> None:
    h = v4()
    out = h.send(h.msg(1, MAC_A, giaddr="10.68.0.2"))
    fields = out.log_fields()
    assert fields["client"] == MAC_A and fields["type"] == "DHCPDISCOVER" and fields["reply"] == "DHCPOFFER"
    assert fields["dest"] == "10.68.0.2:67" and fields["yiaddr"].startswith("10.68.1.")
    req = h.msg(3, MAC_A, requested="10.67.0.150")
    assert h.send(req).log_fields()["state"] == "init-reboot"
    garbage = h.send(b"\x00" * 10)
    assert garbage.tx is None and garbage.log_fields() == {} and garbage.effects == []


def test_query_fields_seen_by_sources(v4: Make) -> None:
    seen: list[dict[str, Any]] = []

    class Spy:
        name = "spy"
        in_process = True

        def reserved(self) -> frozenset[int]:
            return frozenset()

        async def ask(self, q: Any) -> Answer:
            seen.append(
                {
                    "protocol": q.protocol,
                    "type": q.msg_type,
                    "mac": q.client_mac,
                    "cid": q.client_id,
                    "host": q.hostname,
                    "relay": q.relay_ip,
                    "circuit": q.circuit_id,
                    "remote": q.remote_id,
                    "requested": q.requested_ip,
                    "ifname": q.interface,
                    "subnet": q.subnet.name,
                    "prl": q.requested_options,
                }
            )
            return Answer(Action.ASSIGN, source="spy", dynamic=True)

    h = v4()
    h.engine.env.sources = SourceChain([Spy()])
    rai = b"\x01\x02c1\x02\x02r1"
    h.discover(
        MAC_A,
        giaddr="10.68.0.2",
        client_id=b"\x01\x02\x03",
        requested="10.68.1.9",
        prl=bytes([3, 1]),
        options={12: b"box", 82: rai},
    )
    assert seen == [
        {
            "protocol": 4,
            "type": "DHCPDISCOVER",
            "mac": bytes.fromhex("02670000000a"),
            "cid": b"\x01\x02\x03",
            "host": "box",
            "relay": "10.68.0.2",
            "circuit": b"c1",
            "remote": b"r1",
            "requested": ip("10.68.1.9"),
            "ifname": "eth1",
            "subnet": "10.68.0.0/16",
            "prl": [3, 1],
        }
    ]
