"""Fixtures for the answer service tests: a recording logger, question builders, a live server.

Every server runs on 127.0.0.1 on an ephemeral port and is talked to over real HTTP; every
answer a test receives is checked against the shipped schema before the test sees it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dhcpbridge.answer.app import make_app
from dhcpbridge.answer.service import AnswerService
from dhcpbridge.contract import validate_answer


class RecordingLog:
    """A structlog-shaped logger that keeps (level, event, fields) for assertions."""

    def __init__(self) -> None:
        self.records: list[tuple[str, str, dict[str, Any]]] = []

    def _add(self, level: str, event: str, **fields: Any) -> None:
        self.records.append((level, event, fields))

    def debug(self, event: str, **fields: Any) -> None:
        self._add("debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self._add("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self._add("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self._add("error", event, **fields)

    def find(self, level: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        return [f for lv, ev, f in self.records if (level in (None, lv)) and (event in (None, ev))]


def q4(**fields: Any) -> dict[str, Any]:
    """A DHCPv4 DISCOVER question with ``fields`` on top."""
    return {
        "version": 1,
        "protocol": 4,
        "msg_type": "DHCPDISCOVER",
        "client_mac": "02:67:00:00:00:02",
        **fields,
    }


def q6(**fields: Any) -> dict[str, Any]:
    """A DHCPv6 SOLICIT question with ``fields`` on top."""
    return {
        "version": 1,
        "protocol": 6,
        "msg_type": "SOLICIT",
        "duid": "000100012e6b1c3a026700000002",
        "ia_na": [{"iaid": 1}],
        **fields,
    }


class Bridge:
    """Talks to a running answer service like the DHCP server would."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.base = base

    async def ask(self, question: dict[str, Any]) -> dict[str, Any]:
        async with self.session.post(self.base + "/v1/question", json=question) as response:
            assert response.status == 200, await response.text()
            assert response.content_type == "application/json"
            answer: dict[str, Any] = await response.json()
        validate_answer(answer)
        return answer

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else None
        kwargs: dict[str, Any] = {"data": data} if data is not None else {"json": body}
        async with self.session.post(self.base + path, **kwargs) as response:
            text = await response.text()
            return response.status, (await response.json()) if text and response.content_type.endswith(
                "json"
            ) else text

    async def get(self, path: str) -> tuple[int, str, str]:
        async with self.session.get(self.base + path) as response:
            return response.status, response.content_type, await response.text()


Serve = Callable[..., Awaitable[Bridge]]


@pytest.fixture
def log() -> RecordingLog:
    return RecordingLog()


@pytest.fixture
async def serve(log: RecordingLog) -> AsyncIterator[Serve]:
    """``await serve(service, **make_app_options)`` -> a Bridge to it, torn down after the test."""
    servers: list[TestServer] = []
    session = aiohttp.ClientSession()

    async def start(service: AnswerService, **options: Any) -> Bridge:
        options.setdefault("poll_interval", 0)
        app = make_app(service, log, **options)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        servers.append(server)
        return Bridge(session, str(server.make_url("")).rstrip("/"))

    yield start
    await session.close()
    for server in servers:
        await server.close()
