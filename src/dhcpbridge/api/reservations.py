"""``/v1/reservations``: list every reservation (config and files); create and delete ones in
the JSON file ``[api] reservations-file`` (it must be in a ``reservations`` source's ``files``).

A change is written atomically (temporary file, then rename) and the server reloads; when the
reload rejects the result, the file is put back and the errors come back as a 422 problem, so
a change is either served and persisted, or neither.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from dhcpbridge.config import Config
from dhcpbridge.config.model import ReservationConfig, SourceConfig
from dhcpbridge.sources.static import ReservationError, load_file
from dhcpbridge.wire import values

KEYS = ("mac", "client_id", "circuit_id", "remote_id")


class ReservationOut(BaseModel):
    """One reservation: its key (``mac=02:...``), where it comes from, and its settings."""

    key: str
    origin: str
    reservation: dict[str, Any]


def key_of(r: ReservationConfig) -> str:
    for name in KEYS:
        value = getattr(r, name)
        if value is not None:
            text = values.parse_hex(value).hex(":") if name in ("mac", "client_id") else str(value)
            return f"{name.replace('_', '-')}={text}"
    raise ValueError("a reservation without a key")  # the model rules this out


def _files(config: Config) -> list[str]:
    return [
        name
        for s in config.source
        if isinstance(s, SourceConfig) and s.type == "reservations"
        for name in s.files
    ]


def editable(config: Config) -> Path:
    """The file the API edits; a 409 problem when there is none or no source reads it."""
    name = config.api.reservations_file
    if name is None:
        raise HTTPException(409, "reservations are read-only: set [api] reservations-file")
    path = config.resolve_path(name)
    if path not in {config.resolve_path(f) for f in _files(config)}:
        raise HTTPException(409, f"[api] reservations-file {name} is not in a reservations source's files")
    return path


def _read(path: Path) -> list[ReservationConfig]:
    if not path.exists():
        return []
    try:
        return load_file(path)
    except ReservationError as exc:
        raise HTTPException(409, "; ".join(exc.errors)) from None


def _write(path: Path, rows: list[ReservationConfig]) -> None:
    data = [r.model_dump(mode="json", by_alias=True, exclude_defaults=True) for r in rows]
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def router(
    server: Any, dependencies_read: list[Any], dependencies_admin: list[Any], errors: Any
) -> APIRouter:
    """The routes over ``server`` (``dhcpbridge.api.app.Managed``); one lock serialises edits."""
    api = APIRouter(prefix="/v1/reservations", tags=["reservations"], responses=errors)
    lock = asyncio.Lock()

    async def change(path: Path, rows: list[ReservationConfig], before: bytes | None) -> None:
        _write(path, rows)
        problems = await server.reload()
        if problems:
            if before is None:
                path.unlink()
            else:
                path.write_bytes(before)
            await server.reload()
            raise HTTPException(422, "reload rejected: " + "; ".join(problems))

    @api.get("", response_model=list[ReservationOut], dependencies=dependencies_read)
    async def list_reservations() -> list[ReservationOut]:
        """Every reservation: ``[[reservation]]`` of the config, then each reservations file's."""
        config: Config = server.config
        out = [
            ReservationOut(key=key_of(r), origin="config", reservation=_dump(r)) for r in config.reservation
        ]
        for name in _files(config):
            for r in _read(config.resolve_path(name)):
                out.append(ReservationOut(key=key_of(r), origin=name, reservation=_dump(r)))
        return out

    @api.post("", response_model=ReservationOut, status_code=201, dependencies=dependencies_admin)
    async def create(body: ReservationConfig) -> ReservationOut:
        """Add a reservation to the API's file and reload (admin); 409 when its key exists."""
        async with lock:
            config: Config = server.config
            path = editable(config)
            rows = _read(path)
            key = key_of(body)
            known = [key_of(r) for r in config.reservation] + [
                key_of(r) for name in _files(config) for r in _read(config.resolve_path(name))
            ]
            if key in known:
                raise HTTPException(409, f"a reservation for {key} exists")
            before = path.read_bytes() if path.exists() else None
            await change(path, [*rows, body], before)
            return ReservationOut(key=key, origin=config.api.reservations_file or "", reservation=_dump(body))

    @api.delete("/{key}", status_code=204, dependencies=dependencies_admin)
    async def delete(key: str) -> None:
        """Remove the API file's reservation with this key (``mac=02:67:00:00:00:05``) and reload."""
        async with lock:
            path = editable(server.config)
            rows = _read(path)
            kept = [r for r in rows if key_of(r) != key]
            if len(kept) == len(rows):
                raise HTTPException(404, f"no reservation {key} in the API's reservations file")
            await change(path, kept, path.read_bytes())

    return api


def _dump(r: ReservationConfig) -> dict[str, Any]:
    return r.model_dump(mode="json", by_alias=True, exclude_defaults=True)
