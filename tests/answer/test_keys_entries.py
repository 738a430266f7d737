"""Key spellings, which keys a question matches, and how entries stack (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dhcpbridge.answer.entries import Entry, EntryError, check_entry, lay, row_to_entry
from dhcpbridge.answer.keys import InvalidKey, client_keys, layer_keys, normalise_key
from dhcpbridge.contract import answer_errors, parse_question

from .conftest import q4, q6


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("02-67-00-00-00-02", "02:67:00:00:00:02"),
        ("02:67:00:00:00:02", "02:67:00:00:00:02"),
        ("02:AB:00:00:00:02", "02:ab:00:00:00:02"),
        ("026700000002", "02:67:00:00:00:02"),
        ("0267.0000.0002", "02:67:00:00:00:02"),
        ("mac-02-67-00-00-00-02", "02:67:00:00:00:02"),
        ("duid-00:01:00:01:2E:6B", "duid-000100012e6b"),
        ("DUID-0001-0001", "duid-00010001"),
        ("client-id-01-02-67-00-00-00-02", "client-id-01026700000002"),
        ("circuit-id-657468302f312f33", "circuit-id-657468302f312f33"),
        ("remote-id-02680000000a", "remote-id-02680000000a"),
        ("interface-id-72656c6179", "interface-id-72656c6179"),
        ("subscriber-id-637573742d3432", "subscriber-id-637573742d3432"),
        ("subnet-10.67.0.0_24", "subnet-10.67.0.0/24"),
        ("subnet-10.67.0.0/24", "subnet-10.67.0.0/24"),
        ("subnet-fd67:0::_64", "subnet-fd67::/64"),
        ("relay-10.68.0.2", "relay-10.68.0.2"),
        ("relay-FD68::0002", "relay-fd68::2"),
        ("interface-srv0", "interface-srv0"),
        ("Default", "default"),
    ],
)
def test_key_spellings(spelling: str, key: str) -> None:
    assert normalise_key(spelling) == key


@pytest.mark.parametrize(
    "spelling",
    [
        "printer",
        "02-67-00-00-00",
        "duid-xyz",
        "duid-0",
        "subnet-10.67.0.1_24",
        "subnet-10.67.0.0",
        "relay-10.68",
    ],
)
def test_bad_keys_say_why(spelling: str) -> None:
    with pytest.raises(InvalidKey, match=repr(spelling)):
        normalise_key(spelling)


def test_client_keys_most_specific_first() -> None:
    question = parse_question(
        q4(
            client_id="ff00000001000100012e6b1c3a026700000002",
            duid="000100012e6b1c3a026700000002",
            circuit_id={"hex": "6574"},
            remote_id={"hex": "0268"},
            subscriber_id={"hex": "63"},
        )
    )
    assert client_keys(question) == [
        "client-id-ff00000001000100012e6b1c3a026700000002",
        "duid-000100012e6b1c3a026700000002",
        "02:67:00:00:00:02",
        "circuit-id-6574",
        "remote-id-0268",
        "subscriber-id-63",
    ]
    v6 = parse_question(q6(client_mac="02:67:00:00:00:02", interface_id={"hex": "72"}))
    assert client_keys(v6) == ["duid-000100012e6b1c3a026700000002", "02:67:00:00:00:02", "interface-id-72"]


def test_layer_keys_most_general_first() -> None:
    question = parse_question(q4(interface="srv1", relay_ip="10.68.0.2", subnet="10.68.0.0/16"))
    assert layer_keys(question) == ["default", "interface-srv1", "relay-10.68.0.2", "subnet-10.68.0.0/16"]
    assert layer_keys(parse_question(q6(relay_ip="::", subnet="FD68:0::/64"))) == [
        "default",
        "subnet-fd68::/64",
    ]


def test_check_entry() -> None:
    entry, warnings = check_entry("02:67:00:00:00:02", {"client_ip": "10.67.0.50", "colour": "red"}, "x.json")
    assert entry.action == "assign" and warnings == ["unknown field 'colour' is ignored (a typo?)"]
    with pytest.raises(EntryError, match="is a layer"):
        check_entry("default", {"action": "deny"}, "default.json")
    with pytest.raises(EntryError, match="lease_time"):
        check_entry("02:67:00:00:00:02", {"lease_time": "1h"}, "x.json")


def entry(key: str, **answer: Any) -> Entry:
    return check_entry(key, answer, key)[0]


def test_lay_merges_fields_and_options() -> None:
    layers = [
        entry("default", lease_time=100, router=["10.0.0.1"], options=[{"code": 1, "hex": "00"}]),
        entry(
            "subnet-10.0.0.0/8",
            router=["10.0.0.2"],
            options=[{"name": "x", "value": 1}, {"code": 1, "hex": "01"}],
        ),
    ]
    top = {"client_ip": "10.0.0.9", "options": [{"name": "x", "value": 2}]}
    assert lay(layers, top) == {
        "action": "assign",
        "lease_time": 100,
        "router": ["10.0.0.2"],
        "client_ip": "10.0.0.9",
        "options": [{"code": 1, "hex": "01"}, {"name": "x", "value": 2}],
    }
    assert lay(layers, {"action": "deny", "message": "m"}) == {"action": "deny", "message": "m"}
    assert lay([], {"action": "none"}) == {"action": "none"}


VALUES = st.sampled_from(
    [
        ("lease_time", 60),
        ("lease_time", 4294967295),
        ("router", ["10.0.0.1"]),
        ("dns_servers", ["fd00::1", "10.0.0.2"]),
        ("domain_search", ["a.example"]),
        ("client_ip", "10.0.0.7"),
        ("addresses", [{"address": "fd00::7", "iaid": 1}]),
        ("options", [{"code": 224, "hex": "00"}]),
        ("options", [{"name": "tftp-server-name", "value": "b"}]),
        ("options", [{"code": 224, "type": "u8", "value": 1}, {"code": 225, "type": "string", "value": "s"}]),
        ("message", "m"),
        ("cache_ttl", 0),
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.just("k"), VALUES), min_size=1, max_size=5))
def test_laying_valid_entries_gives_a_valid_answer(parts: list[dict[str, tuple[str, Any]]]) -> None:
    entries = [entry("default", **dict(part.values())) for part in parts]
    assert answer_errors(lay(entries[:-1], entries[-1].answer)) == []


def test_rows() -> None:
    row = {
        "key": "02-67-00-00-00-02",
        "client_ip": "10.67.0.50",
        "lease_time": "3600",
        "router": "10.67.0.1, 10.67.0.2",
        "domain_search": '["a.example", "b.example"]',
        "addresses": "",
        "prefixes": "fd67:1000::/56 fd67:1100::/56",
        "options": '[{"code": 224, "hex": "00"}]',
        "json": '{"boot_file": "pxelinux.0"}',
        "hostname": None,
    }
    made, _ = row_to_entry(row, "t:1")
    assert made.key == "02:67:00:00:00:02"
    assert made.answer == {
        "client_ip": "10.67.0.50",
        "lease_time": 3600,
        "router": ["10.67.0.1", "10.67.0.2"],
        "domain_search": ["a.example", "b.example"],
        "prefixes": [{"prefix": "fd67:1000::", "length": 56}, {"prefix": "fd67:1100::", "length": 56}],
        "options": [{"code": 224, "hex": "00"}],
        "boot_file": "pxelinux.0",
    }
    for bad, message in [
        ({"key": ""}, "the key is empty"),
        ({"key": "x"}, "is not a key"),
        ({"key": "default", "lease_time": "1h"}, "not a whole number"),
        ({"key": "default", "options": "[{"}, "options: not JSON"),
        ({"key": "default", "options": "{}"}, "options: expected a JSON array"),
        ({"key": "default", "routes": "10.0.0.0/8 via 10.0.0.1"}, "routes: expected a JSON array"),
        ({"key": "default", "prefixes": "fd67::"}, "needs a length"),
        ({"key": "default", "json": "[1]"}, "expected a JSON object"),
        ({"key": "default", "client_ip": "10.0.0.1", "json": '{"client_ip": "10.0.0.2"}'}, "also set"),
        ({"key": "default", "colour": "red"}, "unknown column"),
    ]:
        with pytest.raises(EntryError, match=message):
            row_to_entry(bad, "t:2")
