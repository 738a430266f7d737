"""DHCPv6 messages no real client sends (issue 9, points 1 and 2): IA caps per message
(``max-ia-na`` / ``max-ia-pd``), leases per DUID (``max-leases-per-duid``), DECLINE only of what
is bound to the client, and DECLINE rate limits. What is refused is counted."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.wire.v6.message import encode6
from dhcpbridge.wire.v6.options import IATA, IAAddr, MessageType6, Option6, StatusCode6

from .test_v6_messages import (
    SERVER_DUID,
    Lab,
    addresses,
    duid,
    exchange,
    ia_status,
    na,
    pd,
    prefixes,
)

MT = MessageType6
SC = StatusCode6


def leases(lab: Lab, kind: LeaseKind | None = None) -> list[Any]:
    from dhcpbridge.engine.inline import run_inline

    return [
        lease
        for lease in run_inline(lab.store.leases(kind))
        if lease.state in (LeaseState.OFFERED, LeaseState.BOUND, LeaseState.DECLINED)
    ]


def config(**server6: Any) -> dict[str, Any]:
    from .test_v6_messages import BASE

    cfg = copy.deepcopy(BASE)
    cfg["server6"].update(server6)
    return cfg


# --- IAs per message ------------------------------------------------------------------------


def test_solicit_with_a_thousand_ia_na_holds_nothing_and_reflects_nothing() -> None:
    lab = Lab()
    msg = lab.message(MT.SOLICIT, duid(1), *[na(i) for i in range(1000)])
    out = lab.run(msg)
    assert out.data is None or len(out.data) <= len(encode6(msg))
    assert out.data is None and out.drop_reason == "too-many-ias"
    assert leases(lab) == []
    assert lab.stats.drops["too-many-ias"] == 1


def test_request_with_many_ias_binds_nothing() -> None:
    lab = Lab()
    out = lab.run(lab.message(MT.REQUEST, duid(1), *[pd(i) for i in range(9)], server=SERVER_DUID))
    assert out.data is None and out.drop_reason == "too-many-ias"
    assert leases(lab) == [] and out.effects == []


def test_renew_rebind_and_ia_ta_are_capped_too() -> None:
    lab = Lab()
    many = [na(i) for i in range(9)]
    assert lab.run(lab.message(MT.RENEW, duid(1), *many, server=SERVER_DUID)).drop_reason == "too-many-ias"
    assert lab.run(lab.message(MT.REBIND, duid(1), *many)).drop_reason == "too-many-ias"
    tas: list[Option6] = [IATA(i, []) for i in range(5)]
    mixed = lab.message(MT.SOLICIT, duid(1), *[na(i) for i in range(4)], *tas)
    assert lab.run(mixed).drop_reason == "too-many-ias"  # IA_TA counts with IA_NA
    assert lab.stats.drops["too-many-ias"] == 3


def test_solicit_plus_decline_of_a_thousand_ias_quarantines_nothing() -> None:
    """The issue's SOLICIT + DECLINE: with the server DUID from any ADVERTISE, 1,000 IAs."""
    lab = Lab()
    ias = [na(i) for i in range(1000)]
    lab.run(lab.message(MT.SOLICIT, duid(1), *ias))
    addrs = [str(ipaddress.IPv6Address(int(ipaddress.IPv6Address("fd67::100:0")) + i)) for i in range(256)]
    declines = [na(i, addrs[i % 256]) for i in range(1000)]
    out = lab.run(lab.message(MT.DECLINE, duid(1), *declines, server=SERVER_DUID))
    assert out.data is None and out.drop_reason == "too-many-ias"
    assert leases(lab) == []


def test_an_ia_naming_more_addresses_than_a_duid_may_hold_is_dropped() -> None:
    lab = Lab()
    base = int(ipaddress.IPv6Address("fd67::100:0"))
    big = na(1)
    big.options = [IAAddr(ipaddress.IPv6Address(base + i), 0, 0) for i in range(17)]
    out = lab.run(lab.message(MT.RENEW, duid(1), big, server=SERVER_DUID))
    assert out.data is None and out.drop_reason == "too-many-ia-addresses"


def test_caps_that_real_clients_never_notice() -> None:
    lab = Lab()
    reply = exchange(lab, duid(1), *[na(i) for i in range(8)], *[pd(100 + i) for i in range(8)])
    assert len(addresses(reply)) == 8 and len(prefixes(reply)) == 8


def test_caps_are_configurable() -> None:
    lab = Lab(config(**{"max-ia-na": 2, "max-ia-pd": 1}))
    assert lab.run(lab.message(MT.SOLICIT, duid(1), na(1), na(2), pd(3))).data is not None
    assert lab.run(lab.message(MT.SOLICIT, duid(1), na(1), na(2), na(3))).drop_reason == "too-many-ias"
    assert lab.run(lab.message(MT.SOLICIT, duid(1), pd(1), pd(2))).drop_reason == "too-many-ias"


# --- leases per DUID --------------------------------------------------------------------------


def test_one_duid_holds_at_most_max_leases_per_duid_over_many_messages() -> None:
    lab = Lab()
    granted = 0
    for m in range(6):  # 6 x 8 IAs of new IAIDs = 48 wished, 16 held
        reply = exchange(lab, duid(1), *[na(m * 8 + i) for i in range(8)])
        granted += len(addresses(reply))
    assert granted == 16
    assert len(leases(lab, LeaseKind.NA)) == 16
    assert lab.stats.refused["duid-lease-cap"] == 6 * 8 - 16
    # the IAs it holds still renew, and another DUID is not affected
    held = exchange(lab, duid(1), *[na(i) for i in range(8)])
    assert len(addresses(held)) == 8
    other = exchange(lab, duid(2), *[na(i) for i in range(8)])
    assert len(addresses(other)) == 8


def test_advertised_offers_count_toward_the_duid_cap() -> None:
    lab = Lab(config(**{"max-leases-per-duid": 3}))
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), na(2), pd(3), pd(4)))
    assert adv is not None
    assert len(addresses(adv)) + len(prefixes(adv)) == 3
    assert SC.NO_PREFIX_AVAIL in ia_status(adv).values()
    assert len(leases(lab)) == 3
    again = lab.send(lab.message(MT.SOLICIT, duid(1), na(1), na(2), pd(3), pd(4)))
    assert again is not None and len(addresses(again)) + len(prefixes(again)) == 3


def test_duid_cap_frees_up_when_offers_lapse() -> None:
    lab = Lab(config(**{"max-leases-per-duid": 2}))
    lab.send(lab.message(MT.SOLICIT, duid(1), na(1), na(2)))
    blocked = lab.send(lab.message(MT.SOLICIT, duid(1), na(3)))
    assert blocked is not None and addresses(blocked) == []
    lab.now += 31  # the offers' hold time has passed
    later = lab.send(lab.message(MT.SOLICIT, duid(1), na(3)))
    assert later is not None and len(addresses(later)) == 1


# --- DECLINE ----------------------------------------------------------------------------------


def test_decline_of_an_advertised_address_quarantines_nothing() -> None:
    lab = Lab()
    adv = lab.send(lab.message(MT.SOLICIT, duid(1), na(1)))
    assert adv is not None
    [(_, addr, *_)] = addresses(adv)
    done = lab.send(lab.message(MT.DECLINE, duid(1), na(1, addr), server=SERVER_DUID))
    assert done is not None and ia_status(done) == {(3, 1): SC.NO_BINDING}
    assert lab.lease(LeaseKind.NA, addr).state == LeaseState.OFFERED
    lab.now += 31
    other = exchange(lab, duid(2), na(1, addr))
    assert addresses(other)[0][1] == addr  # nobody quarantined it


def test_decline_of_another_duids_lease_is_refused() -> None:
    lab = Lab()
    [(_, addr, *_)] = addresses(exchange(lab, duid(1), na(1)))
    done = lab.send(lab.message(MT.DECLINE, duid(2), na(1, addr), server=SERVER_DUID))
    assert done is not None and ia_status(done) == {(3, 1): SC.NO_BINDING}
    assert lab.lease(LeaseKind.NA, addr).state == LeaseState.BOUND


def test_declines_are_rate_limited_per_client_and_counted() -> None:
    lab = Lab()
    bound = [addresses(exchange(lab, duid(1), na(i)))[0][1] for i in range(6)]
    declined = 0
    for i, addr in enumerate(bound):
        done = lab.send(lab.message(MT.DECLINE, duid(1), na(i, addr), server=SERVER_DUID))
        assert done is not None
        declined += lab.lease(LeaseKind.NA, addr).state == LeaseState.DECLINED
    assert declined == 4  # decline-client-burst
    assert lab.stats.refused["decline-rate-limited:client"] == 2


def test_refusals_and_drops_are_on_metrics() -> None:
    from prometheus_client import generate_latest

    from dhcpbridge.metrics import registry_for

    lab = Lab(config(**{"max-leases-per-duid": 1}))
    lab.run(lab.message(MT.SOLICIT, duid(1), *[na(i) for i in range(9)]))
    lab.run(lab.message(MT.SOLICIT, duid(1), na(1), na(2)))
    text = generate_latest(registry_for({"v6": lab.stats}, dict)).decode()
    assert 'dhcpbridge_dropped_total{family="v6",reason="too-many-ias"} 1.0' in text
    assert 'dhcpbridge_refused_total{family="v6",reason="duid-lease-cap"} 1.0' in text
