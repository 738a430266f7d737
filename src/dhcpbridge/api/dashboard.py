"""The dashboard at ``/`` and the API docs at ``/docs``, both served from files in the package
(no CDN): ``static/`` holds the dashboard's HTML, JS and CSS; Swagger UI comes from the
``swagger-ui-bundle`` package. ``/v1/whoami`` tells the page the caller's role, so it shows the
admin buttons only to an admin token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from dhcpbridge.api.auth import Caller

STATIC = Path(__file__).with_name("static")


class WhoAmI(BaseModel):
    name: str
    role: str


def swagger_assets() -> Path | None:
    """Swagger UI's files from the ``swagger-ui-bundle`` package (None when it is missing)."""
    try:
        import swagger_ui_bundle  # type: ignore[import-untyped]
    except ImportError:
        return None
    return Path(swagger_ui_bundle.swagger_ui_path)


def install(app: FastAPI, reader: Callable[..., Awaitable[Caller]], errors: Any) -> None:
    """Add ``/``, ``/ui/*``, ``/docs`` and ``/v1/whoami`` to ``app`` (created with ``docs_url=None``)."""
    app.mount("/ui", StaticFiles(directory=STATIC), name="ui")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/v1/whoami", response_model=WhoAmI, tags=["server"], responses=errors)
    async def whoami(caller: Caller = Depends(reader)) -> WhoAmI:  # noqa: B008
        """The caller's token name and role (the dashboard shows admin actions to ``admin``)."""
        return WhoAmI(name=caller.name, role=caller.role)

    assets = swagger_assets()
    if assets is not None:
        app.mount("/docs-assets", StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        if assets is None:  # the bundle is not installed: the CDN, as FastAPI does by default
            return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )
