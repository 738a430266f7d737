"""Static reservations: fixed answers keyed by client-id, MAC, circuit-id or remote-id.

Reservations come from the config (``[[reservation]]``) and from CSV or JSON files named by the
``reservations`` source (reloaded with the config on SIGHUP). A reservation applies only when its
address lies in the subnet the client is on (a moved client falls through to the next source); a
reservation with options but no address gives those options on top of a dynamic address.

CSV: a header row naming any of ``mac, client-id, circuit-id, remote-id, ip, hostname,
lease-time, next-server, boot-file-name, deny`` plus ``option:NAME`` columns; empty cells are
ignored. JSON: a list of objects with the keys of ``[[reservation]]``. Circuit-id and remote-id
values are text, or hex when written ``0x...``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dhcpbridge.config.loader import format_loc
from dhcpbridge.config.model import ReservationConfig
from dhcpbridge.engine.model import DENY, NO_ANSWER, Action, Answer
from dhcpbridge.engine.ports import Query
from dhcpbridge.sources.errors import SourceError
from dhcpbridge.sources.options import encode_options4
from dhcpbridge.wire.values import parse_hex


class ReservationError(SourceError):
    """A reservation file that cannot be used; ``errors`` has one ``file:line: message`` per problem."""


def relay_id(text: str) -> bytes:
    """A circuit-id/remote-id as configured: ``0x...`` is hex, anything else is the text itself."""
    return parse_hex(text[2:]) if text.lower().startswith("0x") else text.encode("utf-8")


def _answer(r: ReservationConfig, name: str) -> Answer:
    if r.deny:
        return Answer(Action.DENY, source=name)
    return Answer(
        Action.ASSIGN,
        source=name,
        address=int(r.ip) if r.ip is not None else None,
        dynamic=r.ip is None,
        options=encode_options4(r.options),
        lease_time=r.lease_time,
        hostname=r.hostname,
        next_server=int(r.next_server) if r.next_server is not None else None,
        boot_file=r.boot_file_name.encode() if r.boot_file_name else None,
    )


def _csv_rows(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            entry: dict[str, Any] = {}
            options: dict[str, Any] = {}
            for key, value in row.items():
                if key is None or value is None or not value.strip():
                    continue
                key, value = key.strip(), value.strip()
                if key.startswith("option:"):
                    options[key[7:]] = [v.strip() for v in value.split(",")] if "," in value else value
                elif key == "deny":
                    entry[key] = value.lower() in ("1", "true", "yes")
                else:
                    entry[key] = value
            if options:
                entry["options"] = options
            yield reader.line_num, entry


def _json_rows(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError("a reservations JSON file must hold a list of objects")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise ValueError(f"item {i} is not an object")
        yield i, entry


def load_file(path: Path) -> list[ReservationConfig]:
    """Read one CSV or JSON reservations file; ``ReservationError`` lists every bad row."""
    errors: list[str] = []
    out: list[ReservationConfig] = []
    reader = _json_rows if path.suffix.lower() == ".json" else _csv_rows
    where = "item" if path.suffix.lower() == ".json" else "line"
    try:
        for pos, entry in reader(path):
            try:
                out.append(ReservationConfig.model_validate(entry))
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    loc = format_loc(tuple(err["loc"]))
                    msg = err["msg"].removeprefix("Value error, ")
                    errors.append(f"{path}:{where} {pos}: {'' if loc == '(top level)' else loc + ': '}{msg}")
    except (OSError, ValueError, csv.Error) as exc:
        errors.append(f"{path}: {exc}")
    if errors:
        raise ReservationError(errors)
    return out


class StaticSource:
    """The ``reservations`` source; see the module docstring."""

    in_process = True  # answers without IO: the runtime may drive it inline
    families = frozenset({4})  # the v6 engine leaves it out of its chain

    def __init__(self, reservations: Iterable[ReservationConfig], name: str = "reservations") -> None:
        self.name = name
        self._by_client_id: dict[bytes, tuple[int | None, Answer]] = {}
        self._by_mac: dict[bytes, tuple[int | None, Answer]] = {}
        self._by_circuit: dict[bytes, tuple[int | None, Answer]] = {}
        self._by_remote: dict[bytes, tuple[int | None, Answer]] = {}
        addresses: set[int] = set()
        for r in reservations:
            entry = (int(r.ip) if r.ip is not None else None, _answer(r, name))
            if r.mac is not None:
                self._by_mac[parse_hex(r.mac)] = entry
            elif r.client_id is not None:
                self._by_client_id[parse_hex(r.client_id)] = entry
            elif r.circuit_id is not None:
                self._by_circuit[relay_id(r.circuit_id)] = entry
            elif r.remote_id is not None:
                self._by_remote[relay_id(r.remote_id)] = entry
            if r.ip is not None:
                addresses.add(int(r.ip))
        self._reserved = frozenset(addresses)

    def __len__(self) -> int:
        return len(self._by_client_id) + len(self._by_mac) + len(self._by_circuit) + len(self._by_remote)

    def reserved(self) -> frozenset[int]:
        return self._reserved

    async def ask(self, query: Query) -> Answer:
        return self.answer(query)

    def answer(self, query: Query) -> Answer:
        """``ask`` without a coroutine (dict lookups only)."""
        if query.protocol != 4:
            return NO_ANSWER
        entry = None
        if query.client_id:
            entry = self._by_client_id.get(query.client_id)
        if entry is None:
            entry = self._by_mac.get(query.client_mac)
        if entry is None and query.circuit_id:
            entry = self._by_circuit.get(query.circuit_id)
        if entry is None and query.remote_id:
            entry = self._by_remote.get(query.remote_id)
        if entry is None:
            return NO_ANSWER
        address, answer = entry
        if answer is DENY or answer.action is Action.DENY:
            return answer
        subnet = query.subnet
        if address is not None and (subnet is None or not subnet.contains(address)):
            return NO_ANSWER  # reserved on another network: the client moved
        return answer
