"""The looking glass through the API, the control socket and the CLI, against a real started
``Server`` on loopback: ``dhcpbridge probe`` (a separate process acting as a relay agent) walks a
client through DORA, then ``GET /v1/looking-glass/{client}`` shows both exchanges decoded with
the decision path; the client is found by MAC and by circuit-id; unknown clients are 404
problems; ``dhcpbridge looking-glass`` prints it from the control socket and from the API; the
OpenAPI document has the routes; ``enabled = false`` takes the glass off the endpoints."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_spec_validator import validate

from dhcpbridge.api.app import create_app
from dhcpbridge.api.auth import Tokens
from dhcpbridge.api.serve import addons
from dhcpbridge.config import load
from dhcpbridge.server import Server

from .conftest import READ_TOKEN, free_port, started, write_config, write_tokens

READ = {"Authorization": f"Bearer {READ_TOKEN}"}
MAC = "02:67:0d:00:00:01"
DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))


async def run(*args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        DHCPBRIDGE,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode(), err.decode()


async def dora(server: Server, mac: str = MAC) -> dict[str, Any]:
    port = server.endpoints["v4"].sock.port
    code, out, err = await run(
        "probe", "--server", f"127.0.0.1:{port}", "--mac", mac, "--circuit-id", "sw1/port7",
        "--full", "--json", "--timeout", "10",
    )  # fmt: skip
    assert code == 0, out + err
    return {"out": out}


@pytest.fixture
async def client(server: Server, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(server, Tokens.load(write_tokens(tmp_path)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        yield c


async def test_a_probed_dora_shows_up_decoded_with_its_decision(
    server: Server, client: httpx.AsyncClient
) -> None:
    await dora(server)
    r = await client.get(f"/v1/looking-glass/{MAC}", headers=READ)
    assert r.status_code == 200, r.text
    (found,) = r.json()["clients"]
    assert found["client"] == MAC and found["family"] == "v4"
    assert found["identifiers"]["circuit-id-text"] == "sw1/port7"
    ack, offer = found["exchanges"]
    assert offer["request"]["type"] == "DHCPDISCOVER" and offer["reply"]["type"] == "DHCPOFFER"
    assert ack["request"]["type"] == "DHCPREQUEST" and ack["reply"]["type"] == "DHCPACK"
    assert ack["reply"]["yiaddr"].startswith("10.67.0.")
    names = [o["name"] for o in ack["reply"]["options"]]
    assert "dhcp-message-type" in names and "dhcp-server-identifier" in names
    assert ack["decision"]["status"] == "sent" and ack["decision"]["source"] == "pools"
    assert ack["decision"]["subnet"] == "10.67.0.0/24" and "Bindings" in ack["decision"]["steps"]
    assert ack["received"]["src"].startswith("127.0.0.1:")
    by_circuit = await client.get("/v1/looking-glass/sw1%2Fport7", headers=READ)
    assert by_circuit.status_code == 200 and by_circuit.json()["clients"][0]["client"] == MAC
    one = await client.get(f"/v1/looking-glass/{MAC}", params={"limit": 1}, headers=READ)
    assert [e["request"]["type"] for e in one.json()["clients"][0]["exchanges"]] == ["DHCPREQUEST"]
    recent = (await client.get("/v1/looking-glass", headers=READ)).json()
    assert recent["enabled"] and recent["clients"][0]["client"] == MAC
    assert recent["clients"][0]["reply"] == "DHCPACK" and recent["stats"]["filed"] >= 2


async def test_unknown_clients_and_missing_tokens(server: Server, client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/looking-glass/02:00:00:00:00:99", headers=READ)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/v1/looking-glass/{MAC}")).status_code == 401


async def test_the_openapi_document_has_the_looking_glass(server: Server) -> None:
    app = create_app(server, None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        spec = (await c.get("/openapi.json")).json()
    validate(spec)
    assert "/v1/looking-glass/{client}" in spec["paths"] and "/v1/looking-glass" in spec["paths"]
    assert "Decision" in spec["components"]["schemas"]


async def test_the_cli_prints_it_from_the_control_socket_and_the_api(tmp_path: Path) -> None:
    write_tokens(tmp_path)
    api_port = free_port(socket.SOCK_STREAM)
    path = write_config(
        tmp_path,
        f'[api]\nlisten = "127.0.0.1:{api_port}"\ntokens-file = "tokens"\n',
    )
    text = path.read_text().replace("[leases]", f'control-socket = "{tmp_path}/ctl.sock"\n\n[leases]')
    path.write_text(text)
    config = load(path)
    from dhcpbridge import control

    server = Server(
        config, path, [*control.addons(config.resolve_path(f"{tmp_path}/ctl.sock")), *addons(config)]
    )
    await server.start()
    try:
        await dora(server)
        code, out, err = await run("looking-glass", "--config", str(path), "--json", MAC)
        assert code == 0, err
        found = json.loads(out)
        assert found[0]["client"] == MAC and len(found[0]["exchanges"]) == 2
        code, out, err = await run("looking-glass", "--config", str(path), MAC)
        assert code == 0, err
        assert "DHCPACK" in out and "DHCPOFFER" in out and "pools" in out
        env_token = {**os.environ, "DHCPBRIDGE_API_TOKEN": READ_TOKEN}
        proc = await asyncio.create_subprocess_exec(
            DHCPBRIDGE, "looking-glass", "--api", f"http://127.0.0.1:{api_port}", "--json", "sw1/port7",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env_token,
        )  # fmt: skip
        out_b, err_b = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err_b.decode()
        assert json.loads(out_b)[0]["client"] == MAC
        code, out, err = await run("looking-glass", "--config", str(path), "02:00:00:00:00:99")
        assert code == 1 and "no exchange" in err
    finally:
        await server.stop()


async def test_off_means_no_glass_on_the_endpoints(tmp_path: Path) -> None:
    server = await started(write_config(tmp_path, "[looking-glass]\nenabled = false\n"), leases=0)
    try:
        assert server.glass is None and all(e.glass is None for e in server.endpoints.values())
        app = create_app(server, None)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
            assert (await c.get("/v1/looking-glass")).json()["enabled"] is False
            assert (await c.get(f"/v1/looking-glass/{MAC}")).status_code == 404
    finally:
        await server.stop()
