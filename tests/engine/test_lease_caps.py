"""``LeaseCaps``: clients holding dynamic leases per relay circuit and per MAC prefix (issue 9
point 6) — the cap, what frees room (expiry, release), and the bound on what is remembered."""

from __future__ import annotations

import time

from dhcpbridge.engine.limits import LeaseCaps

RELAY = bytes([10, 0, 0, 1])


def test_a_full_circuit_refuses_new_clients_but_not_its_own() -> None:
    caps = LeaseCaps(per_circuit=2)
    groups = caps.of(RELAY, b"port-1", b"\x02" * 6)
    assert groups == (("circuit", RELAY, b"port-1"),)
    for client in (b"a", b"b"):
        assert caps.refuse(groups, client, 0.0) == ""
        caps.hold(groups, client, 100.0)
    assert caps.refuse(groups, b"c", 10.0) == "lease-cap-circuit"
    assert caps.refuse(groups, b"a", 10.0) == ""  # counted already
    assert caps.refuse(caps.of(RELAY, b"port-2", b""), b"c", 10.0) == ""


def test_expiry_and_release_free_room() -> None:
    caps = LeaseCaps(per_circuit=1)
    groups = caps.of(RELAY, b"p", b"")
    caps.hold(groups, b"a", 50.0)
    assert caps.refuse(groups, b"b", 49.0) == "lease-cap-circuit"
    assert caps.refuse(groups, b"b", 50.0) == ""  # a's lease ran out
    caps.hold(groups, b"b", 200.0)
    caps.forget(groups, b"b")
    assert caps.refuse(groups, b"c", 60.0) == "" and not caps.groups


def test_mac_prefix_groups_and_no_group_without_circuit_or_short_mac() -> None:
    caps = LeaseCaps(per_prefix=1, prefix_len=3)
    assert caps.of(RELAY, b"port", b"\x0a\x1b\x2c\x00\x00\x01") == (("mac-prefix", b"\x0a\x1b\x2c", b""),)
    assert caps.of(RELAY, b"port", b"\x0a") == ()  # per_circuit off, MAC too short
    assert not LeaseCaps().on and LeaseCaps().of(RELAY, b"port", b"\x02" * 6) == ()


def test_memory_is_bounded_by_groups_and_caps() -> None:
    caps = LeaseCaps(per_circuit=3, max_groups=10)
    for port in range(100):
        groups = caps.of(RELAY, b"port-%d" % port, b"")
        for client in range(10):
            caps.hold(groups, b"%d-%d" % (port, client), 1e9)
    assert len(caps.groups) == 10
    assert all(len(members) == 3 for members in caps.groups.values())


def _seconds_for_new_groups(max_groups: int, fill: int, new: int) -> float:
    caps = LeaseCaps(per_circuit=4, max_groups=max_groups)
    for i in range(fill):
        caps.hold(caps.of(RELAY, b"f%d" % i, b""), b"c", 100.0)
    start = time.process_time()
    for i in range(new):
        caps.hold(caps.of(RELAY, b"n%d" % i, b""), b"c", 100.0)
    return time.process_time() - start


def test_a_full_group_table_forgets_its_oldest_group_in_constant_time() -> None:
    """Regression: ``del table[next(iter(table))]`` rescanned the slots deleted before, O(groups)
    per new group once full (see tests/server/test_ratelimit.py). A ratio within one test."""
    n = 40_000
    evicting = min(_seconds_for_new_groups(n, n, n) for _ in range(2))
    roomy = min(_seconds_for_new_groups(10 * n, n, n) for _ in range(2))
    assert evicting < 4 * roomy + 0.02, (evicting, roomy)
    caps = LeaseCaps(per_circuit=1, max_groups=3)
    for name in (b"a", b"b", b"c", b"d"):
        caps.hold(caps.of(RELAY, name, b""), b"x", 100.0)
    assert [g[2] for g in caps.groups] == [b"b", b"c", b"d"]  # the oldest went first
