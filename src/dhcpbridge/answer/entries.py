"""Stored answers: check one entry, turn a table row into one, and lay entries over each other.

An *entry* is a partial answer stored under a key (see ``keys``): the fields of an ``assign``
answer, with ``action`` optional (absent means ``assign``). A client entry may instead be a plain
``none`` / ``ignore`` / ``deny``. Layer entries (``default``, ``interface-*``, ``relay-*``,
``subnet-*``) hold parameters only. :func:`lay` builds the answer: layers from the most general to
the most specific, then the client entry on top; ``options`` are merged by name or code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from dhcpbridge.answer.keys import InvalidKey, is_layer_key, normalise_key
from dhcpbridge.contract.models import AnswerAssign, parse_answer
from dhcpbridge.contract.schema import answer_errors

#: every field an entry may hold (the fields of an assign answer, action and version included)
KNOWN_FIELDS = frozenset(AnswerAssign.model_fields)

#: table columns (CSV header / SQLite table): ``key``, ``json`` and any answer field
INT_COLUMNS = frozenset({"lease_time", "renewal_time", "rebinding_time", "cache_ttl", "version"})
LIST_COLUMNS = frozenset({"router", "dns_servers", "ntp_servers", "domain_search"})
JSON_COLUMNS = frozenset({"routes", "options"})
TABLE_COLUMNS = frozenset({"key", "json"}) | KNOWN_FIELDS

_LIST_SPLIT = re.compile(r"[\s,]+")


def answer_problems(answer: Any) -> list[str]:
    """Why ``answer`` breaks the contract (empty: it does not).

    The pydantic models (the schema's tested twin, ~10 µs) decide; jsonschema (~300 µs) is only
    asked for its clearer messages when they reject.
    """
    try:
        parse_answer(answer)
    except ValidationError:
        return answer_errors(answer) or ["rejected by the contract models"]
    return []


@dataclass(frozen=True, slots=True)
class Entry:
    """A checked partial answer, the key it is stored under and where it came from."""

    key: str
    answer: Mapping[str, Any]
    origin: str

    @property
    def action(self) -> str:
        """The entry's action (``assign`` when it does not say)."""
        action = self.answer.get("action", "assign")
        return str(action)


class EntryError(ValueError):
    """An entry that cannot be used; ``problems`` says why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def check_entry(key: str, data: Any, origin: str) -> tuple[Entry, list[str]]:
    """Check ``data`` as the entry for ``key``: the entry and warnings, or :class:`EntryError`."""
    if not isinstance(data, dict):
        raise EntryError([f"an entry is a JSON object or a TOML table, not {type(data).__name__}"])
    action = data.get("action", "assign")
    if is_layer_key(key) and action != "assign":
        raise EntryError(
            [
                f"{key} is a layer: it holds parameters for the clients it covers, so its action can only be assign"
            ]
        )
    problems = answer_problems(data if "action" in data else {"action": "assign", **data})
    if problems:
        raise EntryError(problems)
    warnings = [f"unknown field {name!r} is ignored (a typo?)" for name in sorted(set(data) - KNOWN_FIELDS)]
    return Entry(key, data, origin), warnings


def _option_identity(option: Mapping[str, Any]) -> tuple[str, Any]:
    return ("name", option["name"]) if "name" in option else ("code", option.get("code"))


def lay(layers: Iterable[Entry], top: Mapping[str, Any]) -> dict[str, Any]:
    """The answer for a client: ``top`` (its entry, or the unknown-client default) over the layers.

    A ``none`` / ``ignore`` / ``deny`` on top is the answer as it stands; layers only add to an
    ``assign``.
    """
    if top.get("action", "assign") != "assign":
        return dict(top)
    result: dict[str, Any] = {"action": "assign"}
    options: dict[tuple[str, Any], Any] = {}
    for part in (*(layer.answer for layer in layers), top):
        for name, value in part.items():
            if name == "options":
                for option in value:
                    options[_option_identity(option)] = option
            elif name != "action":
                result[name] = value
    if options:
        result["options"] = list(options.values())
    return result


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    text = str(value).strip()
    return text or None


def _json_cell(column: str, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EntryError([f"{column}: not JSON ({exc.msg} at column {exc.colno})"]) from None


def _prefix(text: str) -> dict[str, Any]:
    if "/" not in text:
        raise EntryError([f"prefixes: {text!r} needs a length (fd67:1000::/56)"])
    prefix, _, length = text.rpartition("/")
    if not length.isdigit():
        raise EntryError([f"prefixes: {text!r} has no numeric length"])
    return {"prefix": prefix, "length": int(length)}


def row_to_entry(row: Mapping[str, Any], origin: str) -> tuple[Entry, list[str]]:
    """A CSV or SQLite row -> a checked entry.

    Columns: ``key`` (required), any answer field, and ``json`` (an object with more fields).
    Empty cells / NULL mean "not set". ``lease_time``-like columns are integers; ``router``,
    ``dns_servers``, ``ntp_servers``, ``domain_search`` are lists separated by spaces or commas;
    ``addresses`` are IPv6 addresses and ``prefixes`` are ``prefix/length`` items, separated the
    same way; ``routes`` and ``options`` are JSON arrays. Any list cell may also be a JSON array.
    """
    unknown = sorted(set(row) - TABLE_COLUMNS)
    if unknown:
        raise EntryError([f"unknown column(s) {', '.join(unknown)}"])
    key_text = _cell_text(row.get("key"))
    if key_text is None:
        raise EntryError(["the key is empty"])
    try:
        key = normalise_key(key_text)
    except InvalidKey as exc:
        raise EntryError([str(exc)]) from None
    data: dict[str, Any] = {}
    problems: list[str] = []
    for column, value in row.items():
        if column in ("key", "json"):
            continue
        text = _cell_text(value)
        if text is None:
            continue
        try:
            if column in INT_COLUMNS:
                if isinstance(value, int) and not isinstance(value, bool):
                    data[column] = value
                elif text.lstrip("-").isdigit():
                    data[column] = int(text)
                else:
                    raise EntryError([f"{column}: {text!r} is not a whole number"])
            elif (text.startswith("[") and (column in JSON_COLUMNS or column in LIST_COLUMNS)) or (
                column in ("addresses", "prefixes") and text.startswith("[")
            ):
                data[column] = _json_cell(column, text)
            elif column in JSON_COLUMNS:
                raise EntryError([f"{column}: expected a JSON array"])
            elif column in LIST_COLUMNS:
                data[column] = [item for item in _LIST_SPLIT.split(text) if item]
            elif column == "addresses":
                data[column] = [{"address": item} for item in _LIST_SPLIT.split(text) if item]
            elif column == "prefixes":
                data[column] = [_prefix(item) for item in _LIST_SPLIT.split(text) if item]
            else:
                data[column] = text
        except EntryError as exc:
            problems += exc.problems
    extra_text = _cell_text(row.get("json"))
    if extra_text is not None:
        try:
            extra = _json_cell("json", extra_text)
            if not isinstance(extra, dict):
                raise EntryError(["json: expected a JSON object"])
            both = sorted(set(extra) & set(data))
            if both:
                raise EntryError([f"json: {', '.join(both)} also set in its own column"])
            data.update(extra)
        except EntryError as exc:
            problems += exc.problems
    if problems:
        raise EntryError(problems)
    return check_entry(key, data, origin)
