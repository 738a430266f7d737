"""Every example of the OpenAPI document, with the schema it illustrates (shared by the contract tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dhcpbridge.contract import openapi_document


@dataclass(frozen=True)
class Example:
    """One example value and the schema (a ``$ref`` into the document) it illustrates."""

    where: str
    schema: dict[str, Any]
    value: Any

    @property
    def component(self) -> str | None:
        ref = self.schema.get("$ref", "")
        return ref.removeprefix("#/components/schemas/") if ref else None


def collect_examples(document: dict[str, Any]) -> list[Example]:
    """Every ``example`` / ``examples`` value in media types, parameters and schemas."""
    found: list[Example] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            schema = node.get("schema")
            if isinstance(schema, dict):
                if "example" in node:
                    found.append(Example(where, schema, node["example"]))
                for name, example in (node.get("examples") or {}).items():
                    found.append(Example(f"{where}/examples/{name}", schema, example["value"]))
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(document.get("paths", {}), "#/paths")
    for name, schema in document["components"]["schemas"].items():
        for index, value in enumerate(schema.get("examples", [])):
            found.append(
                Example(
                    f"#/components/schemas/{name}/examples/{index}",
                    {"$ref": f"#/components/schemas/{name}"},
                    value,
                )
            )
    return found


EXAMPLES = collect_examples(openapi_document())
