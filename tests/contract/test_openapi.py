"""The shipped OpenAPI document: valid OpenAPI 3.1, every example valid, standalone schemas in sync."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from dhcpbridge.contract import (
    openapi_document,
    openapi_json,
    openapi_text,
    shipped_schema,
    validate_answer,
    validate_notification,
    validate_question,
)
from dhcpbridge.contract.formats import make_format_checker
from dhcpbridge.contract.schema import (
    ROOTS,
    build_standalone_schema,
    schema_file_name,
    standalone_schema_text,
)

from ._examples import EXAMPLES, Example

DOC_URI = "urn:test:openapi"


def _document_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """Validate against a schema *inside* the OpenAPI document (refs resolved in the document)."""
    document = openapi_document()
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    ref = schema.get("$ref")
    target = {"$ref": DOC_URI + ref} if ref else schema
    return Draft202012Validator(target, registry=registry, format_checker=make_format_checker())


def test_document_is_valid_openapi_3_1() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    document = openapi_document()
    assert document["openapi"].startswith("3.1.")
    validator.validate(document)


def test_every_schema_is_valid_draft_2020_12() -> None:
    """The fallback check that needs nothing but jsonschema (runs whether or not the other can)."""
    document = openapi_document()
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    for name in ROOTS:
        Draft202012Validator.check_schema(shipped_schema(name))


def test_json_and_yaml_forms_are_the_same_document() -> None:
    assert json.loads(openapi_json()) == yaml.safe_load(openapi_text()) == openapi_document()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_example_validates_against_its_schema(example: Example) -> None:
    errors = [e.message for e in _document_validator(example.schema).iter_errors(example.value)]
    assert errors == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.where for e in EXAMPLES])
def test_example_passes_the_public_validator(example: Example) -> None:
    check = {"Question": validate_question, "Answer": validate_answer, "Notification": validate_notification}
    if example.component in check:
        check[example.component](example.value)


def test_examples_cover_the_required_cases() -> None:
    questions = [e.value for e in EXAMPLES if e.component == "Question"]
    answers = [e.value for e in EXAMPLES if e.component == "Answer"]
    assert any(q["protocol"] == 4 and q["msg_type"] == "DHCPDISCOVER" for q in questions)
    assert any(
        q["protocol"] == 4 and "relay_ip" in q and "circuit_id" in q and "remote_id" in q for q in questions
    )
    assert any(
        q["protocol"] == 6
        and q["msg_type"] == "SOLICIT"
        and q.get("ia_na")
        and q.get("ia_pd")
        and "interface_id" in q
        for q in questions
    )
    assert {a["action"] for a in answers} == {"assign", "none", "ignore", "deny"}
    assert any("client_ip" in a for a in answers) and any("prefixes" in a for a in answers)
    forms = {frozenset(o) & {"name", "type", "hex"} for a in answers for o in a.get("options", [])}
    assert {frozenset({"name"}), frozenset({"type"}), frozenset({"hex"})} <= forms
    events = {e.value["event"] for e in EXAMPLES if e.component == "Notification"}
    assert {"commit", "release", "expire"} <= events


def test_relay_id_text_is_the_printable_form_of_hex() -> None:
    seen = 0

    def walk(node: Any) -> None:
        nonlocal seen
        if isinstance(node, dict):
            if set(node) >= {"hex"} and set(node) <= {"hex", "text", "enterprise"}:
                raw = bytes.fromhex(node["hex"])
                printable = all(0x20 <= b <= 0x7E for b in raw)
                assert ("text" in node) == printable, node
                if printable:
                    assert node["text"] == raw.decode("ascii")
                seen += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk([e.value for e in EXAMPLES if e.component == "Question"])
    assert seen >= 5


@pytest.mark.parametrize("name", sorted(ROOTS))
def test_shipped_standalone_schemas_match_the_document(name: str) -> None:
    """``schemas/*.schema.json`` are generated; regenerate with ``python -m dhcpbridge.contract export``."""
    from importlib import resources

    shipped = resources.files("dhcpbridge.contract").joinpath("schemas", schema_file_name(name)).read_text()
    assert shipped == standalone_schema_text(name)
    standalone = build_standalone_schema(name)
    assert standalone["$id"] == f"urn:dhcpbridge:contract:v1:{name}"
    assert "discriminator" not in json.dumps(standalone)


def test_every_question_field_of_the_brief_is_in_the_schema() -> None:
    components = openapi_document()["components"]["schemas"]

    def props(name: str) -> set[str]:
        schema = components[name]
        found = set(schema.get("properties", {}))
        for part in schema.get("allOf", []):
            found |= set(part.get("properties", {})) | (
                props(part["$ref"].split("/")[-1]) if "$ref" in part else set()
            )
        return found

    common = {"version", "protocol", "msg_type", "client_mac", "hostname", "relay_ip", "requested_options"}
    common |= {"vendor_class", "user_class", "interface", "server_ip", "client_ip", "subnet", "remote_id"}
    common |= {"subscriber_id"}
    assert common | {"client_id", "circuit_id", "requested_ip"} <= props("Question4")
    assert common | {"duid", "ia_na", "ia_pd", "interface_id"} <= props("Question6")
    answer = {"client_ip", "addresses", "prefixes", "lease_time", "subnet_mask", "router", "dns_servers"}
    answer |= {
        "domain_name",
        "domain_search",
        "ntp_servers",
        "routes",
        "next_server",
        "boot_server",
        "boot_file",
    }
    answer |= {"hostname", "options", "cache_ttl", "action"}
    assert answer <= props("AnswerAssign")
