"""Load the shipped contract documents and validate JSON objects against them with jsonschema.

``openapi.yaml`` is the one source: the standalone JSON Schemas in ``schemas/`` are built from its
``components/schemas`` by :func:`build_standalone_schema` (``python -m dhcpbridge.contract export``
rewrites them, and a test fails when they drift). Validation uses the shipped standalone files, the
same bytes an implementer in any other language would use.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from dhcpbridge.contract.formats import make_format_checker

SchemaName = Literal["question", "answer", "notification"]

#: standalone schema name -> the OpenAPI component it is rooted at
ROOTS: dict[str, str] = {"question": "Question", "answer": "Answer", "notification": "Notification"}
#: union component -> (discriminating property, value -> branch component)
_BRANCHES: dict[str, tuple[str, dict[Any, str]]] = {
    "Question": ("protocol", {4: "Question4", 6: "Question6"}),
    "Answer": (
        "action",
        {"assign": "AnswerAssign", "none": "AnswerNone", "ignore": "AnswerIgnore", "deny": "AnswerDeny"},
    ),
}
#: OpenAPI keywords that are not JSON Schema, left out of the standalone files
_OPENAPI_ONLY = ("discriminator", "xml", "externalDocs", "example")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ContractError(ValueError):
    """A JSON object that does not follow the contract; ``errors`` lists each problem with its path."""

    def __init__(self, what: str, errors: list[str]) -> None:
        super().__init__(f"invalid {what}: " + "; ".join(errors))
        self.what = what
        self.errors = errors


def _package_file(name: str) -> str:
    return resources.files("dhcpbridge.contract").joinpath(name).read_text(encoding="utf-8")


@functools.cache
def openapi_text() -> str:
    """The OpenAPI 3.1 document, as shipped (YAML text)."""
    return _package_file("openapi.yaml")


@functools.cache
def _openapi() -> dict[str, Any]:
    document = yaml.safe_load(openapi_text())
    if not isinstance(document, dict):  # pragma: no cover - the shipped file is a mapping
        raise RuntimeError("openapi.yaml is not a mapping")
    return document


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document as a dict (a fresh copy: change it freely)."""
    return copy.deepcopy(_openapi())


@functools.cache
def openapi_json() -> str:
    """The OpenAPI document as JSON text (served at ``/openapi.json``)."""
    return json.dumps(_openapi(), indent=2) + "\n"


def _rewrite(node: Any) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _OPENAPI_ONLY:
                continue
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                out[key] = "#/$defs/" + value.removeprefix("#/components/schemas/")
            else:
                out[key] = _rewrite(value)
        return out
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    return node


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                yield value.removeprefix("#/components/schemas/")
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def build_standalone_schema(name: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
    """A self-contained JSON Schema 2020-12 for ``name`` built from the OpenAPI components."""
    document = document if document is not None else _openapi()
    components: dict[str, Any] = document["components"]["schemas"]
    root = ROOTS[name]
    needed: list[str] = []
    pending = [root]
    while pending:
        current = pending.pop()
        if current in needed:
            continue
        needed.append(current)
        pending.extend(_references(components[current]))
    info = document["info"]
    return {
        "$schema": DIALECT,
        "$id": f"urn:dhcpbridge:contract:v{document['x-contract-version']}:{name}",
        "title": f"dhcpbridge bridge contract v{document['x-contract-version']}: {root}",
        "description": f"Built from {info['title']} {info['version']} (openapi.yaml); do not edit.",
        "$ref": f"#/$defs/{root}",
        "$defs": {key: _rewrite(components[key]) for key in components if key in needed},
    }


def standalone_schema_text(name: str) -> str:
    """The exact text of a shipped standalone schema file, as the exporter writes it."""
    return json.dumps(build_standalone_schema(name), indent=2) + "\n"


def schema_file_name(name: str) -> str:
    """File name of a standalone schema in ``dhcpbridge/contract/schemas/``."""
    return f"{name}.schema.json"


@functools.cache
def shipped_schema(name: str) -> dict[str, Any]:
    """A standalone schema as shipped in the package (what the validators use)."""
    loaded = json.loads(_package_file("schemas/" + schema_file_name(name)))
    if not isinstance(loaded, dict):  # pragma: no cover
        raise RuntimeError(f"{name} schema is not an object")
    return loaded


@functools.cache
def _validator(name: str, component: str | None = None) -> Draft202012Validator:
    schema = shipped_schema(name)
    if component is not None:
        schema = {**schema, "$ref": f"#/$defs/{component}"}
    return Draft202012Validator(schema, format_checker=make_format_checker())


def _path(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(root)"


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """Replace an opaque oneOf/anyOf failure by the errors of the branch that came closest.

    Closest = fewest errors, then deepest errors (the branch whose shape matched and only a detail
    failed); e.g. ``{"code": 224, "type": "u8", "value": 300}`` reports the value, not that an
    option by name may not have a ``code``.
    """
    if error.validator in ("oneOf", "anyOf") and error.context:
        by_branch: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            by_branch.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        closest = min(
            by_branch.values(),
            key=lambda subs: (len(subs), -max(len(sub.absolute_path) for sub in subs)),
        )
        for sub in closest:
            yield from _leaves(sub)
    else:
        yield error


def _without_redundant_patterns(found: list[ValidationError]) -> list[ValidationError]:
    """A value that fails its ``format`` also fails the pattern beside it: keep the clearer one."""
    formats = {tuple(error.absolute_path) for error in found if error.validator == "format"}
    return [e for e in found if not (e.validator == "pattern" and tuple(e.absolute_path) in formats)]


_FORMATS = {
    "ipv4": "an IPv4 address",
    "ipv6": "an IPv6 address (without a zone index)",
    "ipv4-network": "an IPv4 network in CIDR form with no host bits set",
    "ipv6-network": "an IPv6 network in CIDR form with no host bits set",
    "date-time": "an RFC 3339 date-time",
}


def _message(error: ValidationError, obj: Any) -> str:
    if error.validator == "format":
        return f"{error.instance!r} is not {_FORMATS.get(str(error.validator_value), error.validator_value)}"
    if error.validator is None:
        # A ``false`` subschema (a key forbidden in this form); jsonschema does not say which key.
        container = obj
        for part in error.absolute_path:
            container = container[part]
        if isinstance(container, dict):
            keys = [key for key, value in container.items() if value is error.instance]
            if keys:
                return f"{keys[0]!r} is not allowed in this form of the object"
    return error.message


def errors(name: str, obj: Any) -> list[str]:
    """Every way ``obj`` breaks the ``name`` schema, as ``"path: message"`` lines (empty: valid)."""
    validator = _validator(name)
    if validator.is_valid(obj):
        return []
    component = ROOTS[name]
    branch: str | None = None
    if component in _BRANCHES and isinstance(obj, dict):
        key, table = _BRANCHES[component]
        value = obj.get(key)
        if not isinstance(value, bool):
            branch = table.get(value) if isinstance(value, (int, float, str)) else None
        if branch is None:
            shown = " or ".join(json.dumps(choice) for choice in table)
            got = "is missing" if key not in obj else f"is {json.dumps(value)}"
            return [f"{key}: {got}; it must be {shown}"]
        validator = _validator(name, branch)
    leaves = [leaf for error in validator.iter_errors(obj) for leaf in _leaves(error)]
    found: list[str] = []
    for leaf in sorted(_without_redundant_patterns(leaves), key=lambda e: list(map(str, e.absolute_path))):
        line = f"{_path(leaf)}: {_message(leaf, obj)}"
        if line not in found:
            found.append(line)
    return found or ["does not match the schema"]


def question_errors(obj: Any) -> list[str]:
    """Problems of a question (empty when it is valid)."""
    return errors("question", obj)


def answer_errors(obj: Any) -> list[str]:
    """Problems of an answer (empty when it is valid)."""
    return errors("answer", obj)


def notification_errors(obj: Any) -> list[str]:
    """Problems of a notification (empty when it is valid)."""
    return errors("notification", obj)


def validate_question(obj: Any) -> None:
    """Raise :class:`ContractError` unless ``obj`` is a valid version-1 question."""
    found = question_errors(obj)
    if found:
        raise ContractError("question", found)


def validate_answer(obj: Any) -> None:
    """Raise :class:`ContractError` unless ``obj`` is a valid version-1 answer."""
    found = answer_errors(obj)
    if found:
        raise ContractError("answer", found)


def validate_notification(obj: Any) -> None:
    """Raise :class:`ContractError` unless ``obj`` is a valid version-1 notification."""
    found = notification_errors(obj)
    if found:
        raise ContractError("notification", found)
