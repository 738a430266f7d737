"""The OpenAPI 3.1 document the API serves is valid (checked by openapi-spec-validator) and
documents the problem+json errors; /docs is served."""

from __future__ import annotations

import httpx
from openapi_spec_validator import validate

from dhcpbridge.api.app import create_app
from dhcpbridge.server import Server


async def test_openapi_document_validates(server: Server) -> None:
    app = create_app(server, None)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        spec = (await c.get("/openapi.json")).json()
        docs = await c.get("/docs")
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    paths = spec["paths"]
    for path in (
        "/v1/leases",
        "/v1/leases/{address}",
        "/v1/clients/{client}/reconfigure",
        "/v1/stats",
        "/v1/subnets",
        "/v1/config/reload",
    ):
        assert any(p.startswith(path) for p in paths), path
    release = next(v for p, v in paths.items() if p.endswith("/release"))["post"]
    assert "application/problem+json" in release["responses"]["403"]["content"]
    assert docs.status_code == 200 and "openapi.json" in docs.text
