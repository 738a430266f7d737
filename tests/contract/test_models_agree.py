"""The pydantic models and the shipped JSON Schema give the same verdict on the same documents."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dhcpbridge.contract import (
    AnswerAssign,
    Question4,
    RelayId,
    answer_errors,
    notification_errors,
    parse_answer,
    parse_notification,
    parse_question,
    question_errors,
)

from ._examples import EXAMPLES, Example

CHECKS = {
    "Question": (question_errors, parse_question),
    "Answer": (answer_errors, parse_answer),
    "Notification": (notification_errors, parse_notification),
}


def verdicts(kind: str, doc: Any) -> tuple[bool, bool]:
    """(schema accepts, models accept)."""
    schema_errors, parse = CHECKS[kind]
    try:
        parse(doc)
        model_ok = True
    except ValidationError:
        model_ok = False
    return not schema_errors(doc), model_ok


MODEL_EXAMPLES = [e for e in EXAMPLES if e.component in CHECKS]


@pytest.mark.parametrize("example", MODEL_EXAMPLES, ids=[e.where for e in MODEL_EXAMPLES])
def test_models_accept_every_example_and_round_trip(example: Example) -> None:
    assert example.component is not None
    _, parse = CHECKS[example.component]
    model = parse(example.value)
    assert model.to_json() == example.value


Q4 = {"version": 1, "protocol": 4, "msg_type": "DHCPDISCOVER", "client_mac": "02:67:00:00:00:02"}
Q6 = {"version": 1, "protocol": 6, "msg_type": "SOLICIT", "duid": "00030001026700000002"}
A = {"action": "assign"}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    out.update(changes)
    return out


def _without(base: dict[str, Any], key: str) -> dict[str, Any]:
    out = copy.deepcopy(base)
    del out[key]
    return out


VALID: list[tuple[str, Any]] = [
    ("Question", Q4),
    ("Question", Q6),
    ("Question", _with(Q4, future_field={"anything": [1, 2]})),  # unknown fields are ignored
    ("Question", _with(Q4, protocol=4.0)),  # JSON has one number type
    ("Question", _with(Q4, circuit_id={"hex": ""})),
    ("Question", _with(Q6, ia_pd=[{"iaid": 0, "prefixes": [{"prefix": "::", "length": 56}]}])),
    ("Question", _with(Q6, subnet="fd67:1000::/40", relay_ip="::")),
    ("Answer", A),
    ("Answer", {"action": "none"}),
    ("Answer", {"action": "ignore", "cache_ttl": 0, "client_ip": "not even an address"}),
    ("Answer", {"action": "deny", "message": "no", "version": 1}),
    ("Answer", _with(A, client_ip="10.67.0.50", lease_time=4294967295)),
    ("Answer", _with(A, dns_servers=["10.0.0.1", "fd00::1"], ntp_servers=["::1"])),
    ("Answer", _with(A, options=[{"code": 43, "hex": ""}, {"code": 43, "hex": "01:02:AB"}])),
    ("Answer", _with(A, options=[{"code": 1000, "type": "ip6-list", "value": ["fd00::1"]}])),
    ("Answer", _with(A, options=[{"code": 2, "type": "i32", "value": -3600}])),
    ("Answer", _with(A, options=[{"code": 20, "type": "bool", "value": False}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "u16", "value": 80.0}])),
    (
        "Answer",
        _with(
            A,
            options=[
                {"code": 121, "type": "routes", "value": [{"prefix": "0.0.0.0/0", "router": "10.0.0.1"}]}
            ],
        ),
    ),
    ("Answer", _with(A, options=[{"name": "tftp-server-name", "value": {"free": "form"}}])),
    ("Answer", _with(A, prefixes=[{"prefix": "fd67:1000::", "length": 56, "valid_lifetime": 7200}])),
    ("Notification", {"version": 1, "event": "expire", "protocol": 6, "lease": {}}),
    ("Notification", {"version": 1, "event": "decline", "protocol": 4, "lease": {"subnet": "10.0.0.0/8"}}),
]

INVALID: list[tuple[str, Any]] = [
    ("Question", []),
    ("Question", "DHCPDISCOVER"),
    ("Question", _without(Q4, "version")),
    ("Question", _with(Q4, version=2)),
    ("Question", _with(Q4, version="1")),
    ("Question", _with(Q4, version=True)),
    ("Question", _without(Q4, "protocol")),
    ("Question", _with(Q4, protocol=5)),
    ("Question", _with(Q4, protocol="4")),
    ("Question", _with(Q4, protocol=True)),
    ("Question", _without(Q4, "msg_type")),
    ("Question", _with(Q4, msg_type="SOLICIT")),
    ("Question", _with(Q6, msg_type="DHCPDISCOVER")),
    ("Question", _with(Q4, msg_type="dhcpdiscover")),
    ("Question", _with(Q4, client_mac="02-67-00-00-00-02")),
    ("Question", _with(Q4, client_mac="02:67:00:00:00:0G")),
    ("Question", _with(Q4, client_mac="02:AB:00:00:00:02")),
    ("Question", _with(Q4, client_mac=None)),
    ("Question", _with(Q4, client_id="01:02")),
    ("Question", _with(Q4, client_id="")),
    ("Question", _with(Q4, client_id="ABCD")),
    ("Question", _with(Q4, relay_ip="fd68::2")),
    ("Question", _with(Q6, relay_ip="10.68.0.2")),
    ("Question", _with(Q4, relay_ip="10.68.0.256")),
    ("Question", _with(Q4, relay_ip="010.68.0.2")),
    ("Question", _with(Q6, client_ip="fe80::1%eth0")),
    ("Question", _with(Q4, subnet="10.67.0.1/24")),
    ("Question", _with(Q4, subnet="10.67.0.0")),
    ("Question", _with(Q4, subnet="10.67.0.0/33")),
    ("Question", _with(Q6, subnet="fd67::1/64")),
    ("Question", _with(Q6, subnet="fd67::/129")),
    ("Question", _with(Q4, requested_options=[0])),
    ("Question", _with(Q4, requested_options=[255])),
    ("Question", _with(Q4, requested_options=["3"])),
    ("Question", _with(Q4, requested_options=[True])),
    ("Question", _with(Q4, requested_options=[3.5])),
    ("Question", _with(Q6, requested_options=[65536])),
    ("Question", _with(Q4, request_state="bound")),
    ("Question", _with(Q4, circuit_id="eth0/1/3")),
    ("Question", _with(Q4, circuit_id={"text": "eth0/1/3"})),
    ("Question", _with(Q4, circuit_id={"hex": "0"})),
    ("Question", _with(Q6, remote_id={"hex": "00", "enterprise": -1})),
    ("Question", _with(Q6, ia_na=[{"addresses": []}])),
    ("Question", _with(Q6, ia_na=[{"iaid": 4294967296}])),
    ("Question", _with(Q6, ia_na=[{"iaid": 1, "addresses": ["10.0.0.1"]}])),
    ("Question", _with(Q6, ia_pd=[{"iaid": 1, "prefixes": [{"prefix": "::"}]}])),
    ("Question", _with(Q6, ia_pd=[{"iaid": 1, "prefixes": [{"prefix": "::", "length": 129}]}])),
    ("Question", _with(Q4, user_class="iPXE")),
    ("Question", _with(Q4, client_arch=[65536])),
    ("Question", _with(Q4, hostname=7)),
    ("Question", _with(Q4, xid="5A1F")),
    ("Answer", {}),
    ("Answer", {"client_ip": "10.0.0.1"}),
    ("Answer", {"action": "offer"}),
    ("Answer", {"action": "ASSIGN"}),
    ("Answer", {"action": None}),
    ("Answer", _with(A, version=2)),
    ("Answer", _with(A, client_ip="10.0.0")),
    ("Answer", _with(A, client_ip=None)),
    ("Answer", _with(A, client_ip="fd00::1")),
    ("Answer", _with(A, lease_time=-1)),
    ("Answer", _with(A, lease_time=4294967296)),
    ("Answer", _with(A, lease_time="3600")),
    ("Answer", _with(A, lease_time=3600.5)),
    ("Answer", _with(A, router="10.0.0.1")),
    ("Answer", _with(A, router=["fd00::1"])),
    ("Answer", _with(A, dns_servers=["dns.example"])),
    ("Answer", _with(A, domain_name="")),
    ("Answer", _with(A, domain_search=["x" * 256])),
    ("Answer", _with(A, routes=[{"prefix": "10.0.0.1/8", "router": "10.0.0.1"}])),
    ("Answer", _with(A, routes=[{"prefix": "10.0.0.0/8"}])),
    ("Answer", _with(A, addresses=[{"iaid": 1}])),
    ("Answer", _with(A, addresses=["fd00::1"])),
    ("Answer", _with(A, prefixes=[{"prefix": "fd00::/56"}])),
    ("Answer", _with(A, prefixes=[{"prefix": "fd00::", "length": 56, "preferred_lifetime": -5}])),
    ("Answer", _with(A, cache_ttl=-1)),
    ("Answer", {"action": "none", "cache_ttl": "60"}),
    ("Answer", {"action": "deny", "message": 404}),
    ("Answer", _with(A, options={"code": 1})),
    ("Answer", _with(A, options=[{}])),
    ("Answer", _with(A, options=[{"code": 224}])),
    ("Answer", _with(A, options=[{"code": 0, "hex": "00"}])),
    ("Answer", _with(A, options=[{"code": 65536, "hex": "00"}])),
    ("Answer", _with(A, options=[{"code": 224, "hex": "0"}])),
    ("Answer", _with(A, options=[{"code": 224, "hex": "zz"}])),
    ("Answer", _with(A, options=[{"code": 224, "hex": "00", "value": "x"}])),
    ("Answer", _with(A, options=[{"name": "tftp-server-name"}])),
    ("Answer", _with(A, options=[{"name": "tftp-server-name", "value": None}])),
    ("Answer", _with(A, options=[{"name": "TFTP server", "value": "x"}])),
    ("Answer", _with(A, options=[{"name": "x", "code": 66, "value": "x"}])),
    ("Answer", _with(A, options=[{"name": "x", "type": "string", "value": "x"}])),
    ("Answer", _with(A, options=[{"code": 224, "value": "x"}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "text", "value": "x"}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "string", "value": 5}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "u8", "value": 256}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "u8", "value": True}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "u8", "value": "1"}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "i32", "value": 2147483648}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "u32", "value": -1}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "bool", "value": 1}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "ip4", "value": ["10.0.0.1"]}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "ip4-list", "value": []}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "ip4-list", "value": "10.0.0.1"}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "ip6", "value": "10.0.0.1"}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "u16-list", "value": [1, 70000]}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "hex", "value": "0g"}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "domain-list", "value": [""]}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "routes", "value": ["10.0.0.0/8 via 10.0.0.1"]}])),
    ("Answer", _with(A, options=[{"code": 224, "type": "string", "value": None}])),
    ("Notification", {"version": 1, "event": "commit", "protocol": 4}),
    ("Notification", {"version": 1, "event": "renew", "protocol": 4, "lease": {}}),
    ("Notification", {"version": 1, "event": "commit", "protocol": 5, "lease": {}}),
    ("Notification", {"event": "commit", "protocol": 4, "lease": {}}),
    ("Notification", {"version": 1, "event": "commit", "protocol": 4, "lease": {}, "time": "yesterday"}),
    ("Notification", {"version": 1, "event": "commit", "protocol": 4, "lease": {"subnet": "10.0.0.1/8"}}),
    (
        "Notification",
        {"version": 1, "event": "commit", "protocol": 4, "lease": {"expires_at": "2026-11-25 10:00"}},
    ),
    (
        "Notification",
        {"version": 1, "event": "commit", "protocol": 4, "lease": {}, "question": Q4 | {"version": 3}},
    ),
]


@pytest.mark.parametrize(("kind", "doc"), VALID, ids=[f"{k}-{i}" for i, (k, _) in enumerate(VALID)])
def test_both_accept(kind: str, doc: Any) -> None:
    assert verdicts(kind, doc) == (True, True)


@pytest.mark.parametrize(("kind", "doc"), INVALID, ids=[f"{k}-{i}" for i, (k, _) in enumerate(INVALID)])
def test_both_reject(kind: str, doc: Any) -> None:
    assert verdicts(kind, doc) == (False, False)


# A pool of JSON values of every shape the contract uses, right and wrong, for random mutations.
JSON_VALUES = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        4,
        6,
        4.0,
        2.5,
        -1,
        255,
        256,
        65536,
        4294967296,
        "",
        "x",
        "assign",
        "none",
        "DHCPREQUEST",
        "RENEW",
        "0102",
        "01:02",
        "0G",
        "02:67:00:00:00:02",
        "10.67.0.1",
        "10.67.0.0/24",
        "10.67.0.1/24",
        "fd67::1",
        "fd67::/64",
        "fe80::1%eth0",
        "2026-11-25T16:49:03Z",
        [],
        [1],
        ["10.67.0.1"],
        ["fd67::1"],
        {},
        {"hex": "00"},
        {"iaid": 1},
        {"prefix": "fd67::", "length": 64},
        {"code": 1, "hex": "00"},
    ]
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, Any]:
    example = draw(st.sampled_from(MODEL_EXAMPLES))
    doc = copy.deepcopy(example.value)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        value = copy.deepcopy(draw(JSON_VALUES))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    assert example.component is not None
    return example.component, doc


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_random_mutations_get_the_same_verdict(case: tuple[str, Any]) -> None:
    kind, doc = case
    schema_ok, model_ok = verdicts(kind, doc)
    assert schema_ok == model_ok, (kind, doc, CHECKS[kind][0](doc))


def test_relay_id_from_bytes_sets_text_only_when_printable() -> None:
    assert RelayId.from_bytes(b"eth0/1/3").to_json() == {"hex": "657468302f312f33", "text": "eth0/1/3"}
    assert RelayId.from_bytes(b"\x02\x68\x00").to_json() == {"hex": "026800"}
    assert RelayId.from_bytes(b"onu", enterprise=3561).to_json() == {
        "hex": "6f6e75",
        "text": "onu",
        "enterprise": 3561,
    }


def test_models_built_in_code_serialise_to_valid_documents() -> None:
    question = Question4(version=1, protocol=4, msg_type="DHCPINFORM", client_ip="10.67.0.33")
    assert question_errors(question.to_json()) == []
    answer = AnswerAssign(client_ip="10.67.0.50", router=["10.67.0.1"], options=[{"code": 66, "hex": "00"}])
    assert answer.to_json()["action"] == "assign"
    assert answer_errors(answer.to_json()) == []


def test_unknown_fields_are_dropped_not_kept() -> None:
    model = parse_question(_with(Q4, future_field=1))
    assert "future_field" not in model.to_json()
