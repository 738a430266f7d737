"""The dashboard and the docs are served from the package, not a CDN: ``/`` is the page and its
scripts and styles come from ``/ui/``; ``/docs`` loads Swagger UI from ``/docs-assets/`` (the
``swagger-ui-bundle`` package); ``/v1/whoami`` gives the token's role."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from dhcpbridge.api.app import create_app
from dhcpbridge.api.auth import Tokens
from dhcpbridge.server import Server

from .conftest import ADMIN_TOKEN, READ_TOKEN, write_tokens


async def test_the_page_and_its_files_come_from_the_package(server: Server, tmp_path: Path) -> None:
    app = create_app(server, Tokens.load(write_tokens(tmp_path)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as c:
        page = await c.get("/")  # no token needed for the page itself; its data needs one
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert "/ui/app.js" in assets and "/ui/style.css" in assets
        assert all(a.startswith("/") for a in assets), assets  # same origin only
        for asset in assets:
            assert (await c.get(asset)).status_code == 200, asset
        js = (await c.get("/ui/app.js")).text
        assert "/v1/subnets" in js and "/v1/looking-glass" in js and "http" not in js.replace("https://", "x")
        docs = await c.get("/docs")
        assert docs.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in docs.text
        assert "cdn" not in docs.text.lower()
        assert (await c.get("/docs-assets/swagger-ui-bundle.js")).status_code == 200
        assert (await c.get("/docs-assets/swagger-ui.css")).status_code == 200
        read = await c.get("/v1/whoami", headers={"Authorization": f"Bearer {READ_TOKEN}"})
        assert read.json() == {"name": "grafana", "role": "read"}
        admin = await c.get("/v1/whoami", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert admin.json()["role"] == "admin"
        assert (await c.get("/v1/whoami")).status_code == 401
