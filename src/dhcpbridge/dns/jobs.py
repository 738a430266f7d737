"""What the updater keeps: the records it published per address (``Record``) and the updates it
still has to send (``Job``), both as JSON-friendly values for the persisted queue."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

Key = tuple[int, str]  # (4 or 6, address text)
#: one encoder for every call: ``json.dumps`` with ``separators`` builds a new one each time
_encode = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Record:
    """The name one address has (or is getting) in DNS and who owns it (the DHCID identity)."""

    family: int
    address: str
    fqdn: str
    forward: bool
    reverse: bool
    id_type: int
    identifier: str  # hex
    conflict: bool = False  # another client holds the name: nothing of ours is in DNS
    asked: str = ""  # the name first asked for, when a clash made us publish another one

    @property
    def key(self) -> Key:
        return (self.family, self.address)

    def same_request(self, other: Record) -> bool:
        """True when ``other`` asks for exactly what this record already asked for."""
        return (self.asked or self.fqdn, self.forward, self.reverse, self.id_type, self.identifier) == (
            other.asked or other.fqdn,
            other.forward,
            other.reverse,
            other.id_type,
            other.identifier,
        )

    def as_dict(self) -> dict[str, Any]:
        """The fields by name (what ``dataclasses.asdict`` gives, without its deep copy: every
        field is a plain str, int or bool; asdict took about 10 µs a record)."""
        return {
            "family": self.family,
            "address": self.address,
            "fqdn": self.fqdn,
            "forward": self.forward,
            "reverse": self.reverse,
            "id_type": self.id_type,
            "identifier": self.identifier,
            "conflict": self.conflict,
            "asked": self.asked,
        }

    def to_json(self) -> str:
        return _encode(self.as_dict())

    @classmethod
    def from_json(cls, text: str) -> Record:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)

    def renamed(self, fqdn: str) -> Record:
        return replace(self, fqdn=fqdn, asked=self.asked or self.fqdn)


@dataclass(slots=True)
class Job:
    """One pending update: ``op`` is ``add`` (publish ``record``) or ``remove`` (withdraw it)."""

    id: int
    op: str
    record: Record
    created: float
    attempts: int = 0
    due: float = 0.0

    def to_json(self, record_json: str | None = None) -> str:
        """The job as JSON; ``record_json`` is its record's ``to_json()`` when the caller has it
        already (a new name's job and its published record are written together)."""
        record = self.record.to_json() if record_json is None else record_json
        return f'{{"op":{_encode(self.op)},"record":{record},"created":{_encode(self.created)}}}'

    @classmethod
    def from_json(cls, job_id: int, text: str, attempts: int, due: float) -> Job:
        data: dict[str, Any] = json.loads(text)
        return cls(job_id, data["op"], Record(**data["record"]), float(data["created"]), attempts, due)
