"""The management API in-process (httpx over ASGI) against a real started ``Server``: leases with
filters and cursor pages, release, stats, health/ready, subnets, config, reload, auth roles and
RFC 9457 problem bodies."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dhcpbridge.api.app import create_app
from dhcpbridge.api.auth import Tokens
from dhcpbridge.api.models import LeasePage
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.server import Server
from dhcpbridge.sources.http import HttpSource
from dhcpbridge.wire.v4.message import Message4, ip4_int

from .conftest import ADMIN_TOKEN, READ_TOKEN, free_port, write_tokens

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}


@pytest.fixture
async def client(server: Server, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(server, Tokens.load(write_tokens(tmp_path)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    return body


async def test_no_token_is_401_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/leases"), 401)
    assert "token" in body["detail"]
    assert_problem(await client.get("/v1/leases", headers={"Authorization": "Bearer nope"}), 401)


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/health")).json() == {"status": "ok"}


async def test_ready_checks_the_store(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/ready")).json()
    assert body == {"ready": True, "checks": {"store": "ok"}}


async def test_reconfigure_is_for_admins_and_for_clients_that_accepted_it(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post("/v1/leases/10.67.0.101/reconfigure", headers=READ), 403)
    body = assert_problem(await client.post("/v1/leases/10.67.0.101/reconfigure", headers=ADMIN), 422)
    assert "did not say it accepts FORCERENEW" in body["detail"]
    assert_problem(await client.post("/v1/leases/10.67.0.250/reconfigure", headers=ADMIN), 404)


async def test_reconfigure_a_client_by_mac(client: httpx.AsyncClient) -> None:
    """/v1/clients/{client}/reconfigure: a MAC names the client of its bound leases."""
    assert_problem(await client.post("/v1/clients/00:5e:00:00:00:65/reconfigure", headers=READ), 403)
    body = assert_problem(await client.post("/v1/clients/00-5e-00-00-00-65/reconfigure", headers=ADMIN), 422)
    assert "10.67.0.101: the client did not say it accepts FORCERENEW" in body["detail"]
    body = assert_problem(await client.post("/v1/clients/00:5e:00:00:00:fa/reconfigure", headers=ADMIN), 404)
    assert "no lease is bound to client 00:5e:00:00:00:fa" in body["detail"]
    assert_problem(await client.post("/v1/clients/not-a-mac/reconfigure", headers=ADMIN), 422)


async def test_read_token_cannot_release_admin_can(client: httpx.AsyncClient, server: Server) -> None:
    assert_problem(await client.post("/v1/leases/10.67.0.101/release", headers=READ), 403)
    assert server.store is not None
    assert (await server.store.get(LeaseKind.V4, 0x0A430065)).state == LeaseState.BOUND  # type: ignore[union-attr]
    response = await client.post("/v1/leases/10.67.0.101/release", headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["state"] == "released"
    assert (await server.store.get(LeaseKind.V4, 0x0A430065)).state == LeaseState.RELEASED  # type: ignore[union-attr]
    # releasing it again: not leased any more, a 422 problem
    assert_problem(await client.post("/v1/leases/10.67.0.101/release", headers=ADMIN), 422)


async def test_show_one_and_404(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/leases/10.67.0.102", headers=READ)).json()
    assert body["address"] == "10.67.0.102" and body["hostname"] == "host2"
    assert_problem(await client.get("/v1/leases/10.67.0.250", headers=READ), 404)
    assert_problem(await client.get("/v1/leases/not-an-ip", headers=READ), 422)
    assert_problem(await client.get("/v1/nothing-here", headers=READ), 404)


async def test_cursor_pages_cover_every_lease_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):  # bounded: 5 leases in pages of 2 are 3 pages
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/leases", params=params, headers=READ)).json()
        assert LeasePage.model_validate(page).model_dump() == page  # what the OpenAPI document says
        assert len(page["items"]) <= 2
        seen += [row["address"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"10.67.0.{100 + i}" for i in range(5)]


async def test_filters(client: httpx.AsyncClient) -> None:
    async def addresses(**params: Any) -> list[str]:
        response = await client.get("/v1/leases", params=params, headers=READ)
        assert response.status_code == 200, response.text
        return [row["address"] for row in response.json()["items"]]

    assert await addresses(state="declined") == ["10.67.0.100"]
    assert await addresses(hostname="HOST3") == ["10.67.0.103"]
    assert await addresses(client="00:5e:00:00:00:68") == ["10.67.0.104"]
    assert await addresses(**{"from": "10.67.0.101", "to": "10.67.0.102"}) == ["10.67.0.101", "10.67.0.102"]
    assert await addresses(subnet="10.67.0.0/24", kind="v4", limit=1) == ["10.67.0.100"]
    assert await addresses(subnet="10.99.0.0/24") == []


async def test_bad_query_is_422_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/leases", params={"limit": 0}, headers=READ), 422)
    assert "limit" in body["detail"]
    assert_problem(await client.get("/v1/leases", params={"state": "happy"}, headers=READ), 422)
    assert_problem(await client.get("/v1/leases", params={"cursor": "garbage"}, headers=READ), 422)
    assert_problem(await client.get("/v1/leases", params={"from": "x"}, headers=READ), 422)


async def test_stats_as_the_control_socket(client: httpx.AsyncClient, server: Server) -> None:
    body = (await client.get("/v1/stats", headers=READ)).json()
    assert set(body) == set(server.snapshot())
    assert body["leases"] == {"v4_bound": 4, "v4_declined": 1}


async def test_subnet_and_pool_utilisation(client: httpx.AsyncClient) -> None:
    (subnet,) = (await client.get("/v1/subnets", headers=READ)).json()
    assert subnet["subnet"] == "10.67.0.0/24" and subnet["family"] == 4
    (pool,) = subnet["pools"]
    assert pool == {
        "pool": "10.67.0.100-10.67.0.199",
        "total": 100,
        "bound": 4,
        "offered": 0,
        "declined": 1,
        "free": 95,
    }


async def test_config_is_redacted(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_ENV", "s3cr3t")
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(
        path.read_text()
        + '\n[[source]]\ntype = "http"\nurl = "http://127.0.0.1:1/"\ntoken-env = "SECRET_ENV"\n'
    )
    assert await server.reload() == []
    app = create_app(server, None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        body = (await c.get("/v1/config")).json()
    assert body["subnet4"][0]["subnet"] == "10.67.0.0/24"
    http = next(s for s in body["source"] if s["type"] == "http")
    assert http["token-env"] == "<redacted>" and "SECRET_ENV" not in str(body)


async def test_reload_returns_the_validation_result(
    client: httpx.AsyncClient, server: Server, tmp_path: Path
) -> None:
    assert_problem(await client.post("/v1/config/reload", headers=READ), 403)
    assert (await client.post("/v1/config/reload", headers=ADMIN)).json() == {"ok": True, "errors": []}
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(path.read_text().replace("lease-time", "x").replace("[leases]", "[leases]\nbogus = 1"))
    body = (await client.post("/v1/config/reload", headers=ADMIN)).json()
    assert body["ok"] is False and any("bogus" in e for e in body["errors"])


async def test_show_a_delegated_prefix_by_its_slash_address(
    client: httpx.AsyncClient, server: Server
) -> None:
    now = time.time()
    prefix = Lease(
        kind=LeaseKind.PD,
        address=0x20010DB8000100000000000000000000,
        client=b"\x00\x03duid",
        state=LeaseState.BOUND,
        starts=now,
        expires=now + 3600,
        prefix_len=48,
    )
    assert server.store is not None and await server.store.commit(prefix, now)
    body = (await client.get("/v1/leases/2001:db8:1::/48", headers=READ)).json()
    assert body["kind"] == "pd" and body["address"] == "2001:db8:1::/48"
    page = (await client.get("/v1/leases", params={"kind": "pd"}, headers=READ)).json()
    assert [row["address"] for row in page["items"]] == ["2001:db8:1::/48"]


class _Subnet:
    name = "10.67.0.0/24"
    pools: tuple[Any, ...] = ()

    def contains(self, addr: int) -> bool:
        return (addr & 0xFFFFFF00) == ip4_int("10.67.0.0")


class _Query:
    """The attributes of a v4 transaction the HTTP bridge source reads."""

    protocol = 4
    msg_type = "DHCPDISCOVER"
    hostname = ""
    interface = ""
    relay_ip = ""
    requested_ip = 0
    circuit_id = b""
    remote_id = b""
    vendor_class = b""
    server_id = ip4_int("10.67.0.1")
    prl = b""
    client_mac = bytes.fromhex("026700000005")
    client_id = b""
    request = Message4(xid=0x1234, chaddr=client_mac)
    subnet = _Subnet()


async def test_not_ready_while_a_source_breaker_is_open(
    client: httpx.AsyncClient, server: Server, tmp_path: Path
) -> None:
    closed = free_port(socket.SOCK_STREAM)  # nothing listens there
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(
        path.read_text()
        + f'\n[[source]]\ntype = "http"\nurl = "http://127.0.0.1:{closed}/"\nbreaker-failures = 1\n'
        + 'breaker-reset = 30\non-error = "next"\n\n[[source]]\ntype = "pools"\n'
    )
    assert await server.reload() == []
    (bridge,) = [s for s in server.sources if isinstance(s, HttpSource)]
    await bridge.ask(_Query())  # the connection is refused: the breaker opens
    response = await client.get("/v1/ready")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "checks": {"store": "ok", "source:http": "breaker open"}}
