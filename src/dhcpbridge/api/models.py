"""The pydantic models of the API's bodies (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from dhcpbridge.engine.model import Lease
from dhcpbridge.usage import PoolUse as PoolUse
from dhcpbridge.usage import SubnetUse as SubnetUse


class LeaseOut(BaseModel):
    """One lease record (addresses as text, byte strings as colon-separated hex)."""

    kind: str
    address: str
    client: str
    hwaddr: str
    state: str
    starts: float
    expires: float
    hostname: str
    subnet: str
    source: str
    relay: str
    circuit_id: str
    remote_id: str
    info: dict[str, Any]

    @classmethod
    def of(cls, lease: Lease) -> LeaseOut:
        return cls(**lease.as_dict())


class LeasePage(BaseModel):
    """One page of a lease listing; pass ``next_cursor`` as ``cursor`` for the next (null: last)."""

    items: list[LeaseOut]
    next_cursor: str | None


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    checks: dict[str, str]


class ReloadResult(BaseModel):
    """The reload's validation result: ``ok`` and, when rejected, the config errors (the old
    config keeps serving)."""

    ok: bool
    errors: list[str]
