"""``/v1/reservations``: list (config and files), create and delete in ``[api] reservations-file``
with persistence (the file) and effect (the server reloads), 409/404/422 problems, roles."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from dhcpbridge.api.app import create_app
from dhcpbridge.api.auth import Tokens
from dhcpbridge.config import load
from dhcpbridge.server import Server

from .conftest import ADMIN_TOKEN, READ_TOKEN, started, write_config, write_tokens

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}
EXTRA = """
[api]
listen = "127.0.0.1:8267"
reservations-file = "api-reservations.json"

[[reservation]]
mac = "02:67:00:00:00:01"
ip = "10.67.0.10"

[[source]]
type = "reservations"
files = ["api-reservations.json"]

[[source]]
type = "pools"
"""


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Server, Path]]:
    (tmp_path / "api-reservations.json").write_text("[]")
    server = await started(write_config(tmp_path, EXTRA), leases=0)
    app = create_app(server, Tokens.load(write_tokens(tmp_path)))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
            yield c, server, tmp_path / "api-reservations.json"
    finally:
        await server.stop()


def reserved_ips(server: Server) -> set[int]:
    return {int(ip) for s in server.sources for ip in getattr(s, "reserved", lambda: frozenset())()}


async def test_create_list_delete_persist_and_take_effect(
    api: tuple[httpx.AsyncClient, Server, Path],
) -> None:
    client, server, path = api
    body = {"mac": "02:67:00:00:00:05", "ip": "10.67.0.20", "hostname": "printer"}
    assert (await client.post("/v1/reservations", json=body, headers=READ)).status_code == 403
    created = await client.post("/v1/reservations", json=body, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["key"] == "mac=02:67:00:00:00:05"
    assert json.loads(path.read_text()) == [body]  # persisted
    assert 0x0A430014 in reserved_ips(server)  # served: the reservations source was rebuilt
    listed = (await client.get("/v1/reservations", headers=READ)).json()
    assert [(r["key"], r["origin"]) for r in listed] == [
        ("mac=02:67:00:00:00:01", "config"),
        ("mac=02:67:00:00:00:05", "api-reservations.json"),
    ]
    again = await client.post("/v1/reservations", json=body, headers=ADMIN)
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    gone = await client.delete("/v1/reservations/mac=02:67:00:00:00:05", headers=ADMIN)
    assert gone.status_code == 204
    assert json.loads(path.read_text()) == []
    assert 0x0A430014 not in reserved_ips(server)
    missing = await client.delete("/v1/reservations/mac=02:67:00:00:00:05", headers=ADMIN)
    assert missing.status_code == 404


async def test_config_reservations_are_not_deletable_here(
    api: tuple[httpx.AsyncClient, Server, Path],
) -> None:
    client, _, _ = api
    response = await client.delete("/v1/reservations/mac=02:67:00:00:00:01", headers=ADMIN)
    assert response.status_code == 404


async def test_invalid_reservation_is_422_and_file_unchanged(
    api: tuple[httpx.AsyncClient, Server, Path],
) -> None:
    client, _, path = api
    response = await client.post("/v1/reservations", json={"mac": "zz", "ip": "10.67.0.20"}, headers=ADMIN)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert json.loads(path.read_text()) == []


async def test_rejected_reload_puts_the_file_back(api: tuple[httpx.AsyncClient, Server, Path]) -> None:
    client, server, path = api
    config = path.parent / "dhcpbridge.toml"
    config.write_text(config.read_text() + "\n[nonsense]\n")  # the next reload fails
    body = {"mac": "02:67:00:00:00:07", "ip": "10.67.0.21"}
    response = await client.post("/v1/reservations", json=body, headers=ADMIN)
    assert response.status_code == 422 and "reload rejected" in response.json()["detail"]
    assert json.loads(path.read_text()) == []  # neither persisted...
    assert 0x0A430015 not in reserved_ips(server)  # ...nor served


async def test_read_only_without_reservations_file(server: Server, tmp_path: Path) -> None:
    app = create_app(server, None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        assert (await c.get("/v1/reservations")).json() == []
        response = await c.post("/v1/reservations", json={"mac": "02:67:00:00:00:05", "deny": True})
    assert response.status_code == 409 and "read-only" in response.json()["detail"]


def test_reservations_file_must_be_json(tmp_path: Path) -> None:
    from dhcpbridge.config import ConfigError

    with pytest.raises(ConfigError):
        load(write_config(tmp_path, '[api]\nlisten = "127.0.0.1:1"\nreservations-file = "r.csv"\n'))
