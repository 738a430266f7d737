"""Bearer tokens in the answer service: without one of the configured tokens, ``/v1/question``
and ``/v1/commit`` answer 401 (logged, without the token); health and documents stay open."""

from __future__ import annotations

from typing import Any

import aiohttp

from dhcpbridge.answer.app import read_tokens
from dhcpbridge.answer.service import AnswerService

from .conftest import RecordingLog, Serve, q4

TOKEN = "s3cret-token-for-the-bridge"


async def post(bridge: Any, path: str, body: Any, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(bridge.base + path, json=body, headers=headers) as r,
    ):
        return r.status


async def test_contract_endpoints_need_a_bearer_token(log: RecordingLog, serve: Serve) -> None:
    service = AnswerService([], log, default={"action": "ignore"})
    bridge = await serve(service, tokens=["other-token", TOKEN])
    assert await post(bridge, "/v1/question", q4(), None) == 401
    assert await post(bridge, "/v1/question", q4(), "wrong") == 401
    assert await post(bridge, "/v1/commit", {"version": 1}, None) == 401
    assert await post(bridge, "/v1/question", q4(), TOKEN) == 200
    status, _, _ = await bridge.get("/healthz")
    assert status == 200
    refused = [fields for level, event, fields in log.records if event == "unauthorized request refused"]
    assert len(refused) == 3 and all(TOKEN not in str(fields) for fields in refused)


async def test_without_tokens_the_service_stays_open(log: RecordingLog, serve: Serve) -> None:
    bridge = await serve(AnswerService([], log, default={"action": "ignore"}))
    assert await post(bridge, "/v1/question", q4(), None) == 200


def test_token_file_lines() -> None:
    assert read_tokens("# the bridge\n\n  abc  \nxyz\n") == ["abc", "xyz"]
