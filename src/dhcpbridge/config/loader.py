"""Reads a TOML config file (or a ``.json`` one with the same keys, or a dhcp-hive-mind
``config.json``) into a ``Config`` or a ``ConfigError`` listing every problem with its path."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dhcpbridge.config import rules
from dhcpbridge.config.model import Config


class ConfigError(Exception):
    """A config that cannot be used; ``errors`` holds one ``path: message`` line per problem."""

    def __init__(self, source: str, errors: list[str]) -> None:
        super().__init__(f"{source}: {len(errors)} error(s)\n" + "\n".join(f"  {e}" for e in errors))
        self.source = source
        self.errors = errors


def format_loc(loc: tuple[int | str, ...]) -> str:
    """('subnet4', 1, 'pools', 0) -> 'subnet4[1].pools[0]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-after", "function-before", "function-wrap")):
            continue
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


def _messages(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; keys use hyphens, e.g. lease-time)"
        out.append(f"{format_loc(tuple(err['loc']))}: {msg}")
    return out


def from_dict(data: dict[str, Any], source: str = "<config>") -> Config:
    """Validate an already-parsed document; raise ``ConfigError`` with every problem."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _messages(exc)) from None
    errors = rules.check(config)
    if errors:
        raise ConfigError(source, errors)
    return config


def load(path: str | Path) -> Config:
    """Read and validate ``path``; raise ``ConfigError`` (never anything else) when it is unusable."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"not UTF-8 text: {exc}"]) from None
    if path.suffix.lower() == ".json":
        data = _json_document(text, str(path))
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), [f"TOML syntax: {exc}"]) from None
    return from_dict(data, str(path)).with_base_dir(path.parent.resolve())


def _json_document(text: str, source: str) -> dict[str, Any]:
    """A ``.json`` config: the TOML keys as JSON, or a hive-mind config.json (converted)."""
    from dhcpbridge.config import hivemind

    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, [f"JSON syntax: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, ["(top level): must be a JSON object"])
    if hivemind.is_hivemind(data):
        converted, _, errors = hivemind.convert(data)
        if errors:
            raise ConfigError(source, errors)
        return converted
    return dict(data)


def json_mapping(path: str | Path) -> list[str]:
    """How a hive-mind config.json maps to dhcpbridge keys (empty for any other file)."""
    from dhcpbridge.config import hivemind

    path = Path(path)
    if path.suffix.lower() != ".json":
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or not hivemind.is_hivemind(data):
        return []
    return ["hive-mind config.json: " + line for line in hivemind.convert(data)[1]]
