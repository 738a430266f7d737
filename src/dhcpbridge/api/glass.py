"""``/v1/looking-glass``: the last requests and replies of a client, decoded, with the decision
path (``dhcpbridge.glass``); and the list of recently seen clients (the dashboard's start)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from dhcpbridge.glass import decode


class Decision(BaseModel):
    """How the server decided: the pipeline's steps (handlers, in order), the subnet, the source
    that answered and its action, the lease state change, and for a drop its reason and the hook
    that dropped it. ``status``: sent, dropped, no-reply, store-unavailable or send-failed."""

    status: str
    steps: list[str]
    subnet: str | None
    source: str | None
    action: str | None
    state: str | None
    handle_ended_early: bool
    drop_reason: str | None
    drop_detail: str | None
    dropped_by: str | None


class Exchange(BaseModel):
    """One request and its reply: every option with ``code``, ``name`` and ``value``; a relayed
    DHCPv6 message is the RELAY-FORW chain with the client's message inside (option 9)."""

    time: str
    timestamp: float
    family: str
    received: dict[str, Any]
    request: dict[str, Any]
    reply: dict[str, Any] | None
    reply_to: str | None
    decision: Decision


class GlassClient(BaseModel):
    """One client (MAC for v4, DUID for v6) with its exchanges, newest first."""

    client: str
    family: str
    identifiers: dict[str, str]
    last_seen: str
    exchanges: list[Exchange]


class GlassView(BaseModel):
    query: str
    clients: list[GlassClient]


class GlassSummary(BaseModel):
    client: str
    family: str
    last_seen: str
    exchanges: int
    request: str
    reply: str | None
    status: str
    drop_reason: str | None


class GlassRecent(BaseModel):
    """The most recently seen clients and the looking glass's counters (``enabled`` false: off)."""

    enabled: bool
    clients: list[GlassSummary]
    stats: dict[str, int]


def router(server: Any, dependencies_read: list[Any], errors: Any) -> APIRouter:
    """The routes over ``server.glass`` (None when ``[looking-glass] enabled = false``)."""
    api = APIRouter(prefix="/v1/looking-glass", tags=["looking glass"], responses=errors)

    @api.get("", response_model=GlassRecent, dependencies=dependencies_read)
    async def recent(limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> GlassRecent:
        """The clients seen most recently, one line each."""
        glass = server.glass
        if glass is None:
            return GlassRecent(enabled=False, clients=[], stats={})
        rows = [GlassSummary(**row) for row in decode.recent(glass, limit)]
        return GlassRecent(enabled=True, clients=rows, stats=glass.stats())

    @api.get("/{client:path}", response_model=GlassView, dependencies=dependencies_read)
    async def look(client: str, limit: Annotated[int | None, Query(ge=1, le=1000)] = None) -> GlassView:
        """The last exchanges of every client ``client`` names: a MAC, a v4 client-id, a DUID
        (hex, any separators), or a circuit-id / remote-id / interface-id (hex or text)."""
        glass = server.glass
        if glass is None:
            raise HTTPException(404, "the looking glass is off ([looking-glass] enabled = false)")
        found = decode.view(glass, client, limit)
        if not found:
            raise HTTPException(404, f"no exchange of {client!r} in the looking glass")
        return GlassView(query=client, clients=[GlassClient(**row) for row in found])

    return api
