"""The answer service's HTTP face (aiohttp): the contract's endpoints plus health and documents.

``POST /v1/question`` -> an Answer (400 with ``{"error", "details"}`` for a body that is not a
version-1 question); ``POST /v1/commit`` -> 204; ``GET /healthz``; ``GET /openapi.yaml``,
``GET /openapi.json`` and ``GET /schemas/{question,answer,notification}.schema.json``.

One log line per question (``answer``: the question's identifying fields, the action, the
address, which entry and layers made it, and the time taken); with ``debug`` also the whole
question and answer.

With bearer tokens (``dhcpbridge answer --token-file``), ``/v1/question`` and ``/v1/commit``
answer 401 unless the request carries ``Authorization: Bearer <one of them>`` (compared in
constant time; a refusal is logged without the token); health and documents stay open.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from dhcpbridge.answer.hook import HookRunner, question_environment
from dhcpbridge.answer.service import AnswerService
from dhcpbridge.contract.models import CONTRACT_VERSION, parse_notification_json, parse_question_json
from dhcpbridge.contract.schema import (
    ROOTS,
    notification_errors,
    openapi_json,
    openapi_text,
    question_errors,
    schema_file_name,
    standalone_schema_text,
)

SERVICE: web.AppKey[AnswerService] = web.AppKey("service", AnswerService)
MAX_BODY = 256 << 10
PROTECTED = ("/v1/question", "/v1/commit")


def read_tokens(text: str) -> list[str]:
    """The tokens of a token file: one a line; blank lines and ``#`` comments are skipped."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def bearer_guard(tokens: Sequence[str], log: Any) -> Any:
    """aiohttp middleware: the contract endpoints need one of ``tokens`` as a bearer token."""
    wanted = [t.encode() for t in tokens]

    @web.middleware
    async def guard(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in PROTECTED:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            ok = False
            for token in wanted:  # every token compared: the time says nothing about which matched
                ok |= scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)
            if not ok:
                log.warning("unauthorized request refused", path=request.path, peer=request.remote)
                return web.json_response(
                    {"error": "unauthorized", "details": ["a valid bearer token is required"]},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
        return await handler(request)

    return guard


_SCHEMA_FILES = {schema_file_name(name): name for name in ROOTS}


def _rejected(log: Any, body: bytes, check: Any, what: str, peer: str | None) -> web.Response:
    """The 400 answer (and its log line) for a body the contract models rejected."""
    try:
        obj = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        error, details = "the body is not JSON", [str(exc)]
    else:
        error, details = "does not follow contract version 1", check(obj) or ["rejected by the models"]
    log.warning(what, error=error, details=details, peer=peer)
    return web.json_response({"error": error, "details": details}, status=400)


def _summary(question: Any) -> dict[str, Any]:
    fields = ("msg_type", "xid", "client_mac", "client_id", "duid", "relay_ip", "subnet", "interface")
    out: dict[str, Any] = {"protocol": question.protocol}
    for name in fields:
        value = getattr(question, name, None)
        if value is not None:
            out[name] = value
    return out


def _granted(answer: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "client_ip" in answer:
        out["client_ip"] = answer["client_ip"]
    if "addresses" in answer:
        out["addresses"] = [item["address"] for item in answer["addresses"]]
    if "prefixes" in answer:
        out["prefixes"] = [f"{item['prefix']}/{item['length']}" for item in answer["prefixes"]]
    return out


def make_app(
    service: AnswerService,
    log: Any,
    *,
    poll_interval: float = 2.0,
    notify_hook: HookRunner | None = None,
    debug: bool = False,
    handle_sighup: bool = False,
    tokens: Sequence[str] = (),
) -> web.Application:
    """The aiohttp application serving ``service``; it polls the stores while it runs. With
    ``tokens``, the contract endpoints need one of them (see the module docstring)."""
    middlewares = [bearer_guard(tokens, log)] if tokens else []
    app = web.Application(client_max_size=MAX_BODY, middlewares=middlewares)
    app[SERVICE] = service
    pending: set[asyncio.Task[None]] = set()

    def spawn(coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def question(request: web.Request) -> web.Response:
        started = time.perf_counter()
        body = await request.read()
        try:
            parsed = parse_question_json(body)
        except ValidationError:
            return _rejected(log, body, question_errors, "bad question", request.remote)
        resolution = await service.resolve(parsed, body)
        log.info(
            "answer",
            **_summary(parsed),
            action=resolution.answer["action"],
            **_granted(resolution.answer),
            source=resolution.source,
            origin=resolution.origin,
            layers=list(resolution.layers),
            cached=resolution.cached,
            ms=round((time.perf_counter() - started) * 1000, 3),
        )
        if debug:
            log.debug("answer detail", question=parsed.to_json(), answer=resolution.answer)
        return web.Response(body=resolution.body, content_type="application/json")

    async def commit(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            notification = parse_notification_json(body)
        except ValidationError:
            return _rejected(log, body, notification_errors, "bad notification", request.remote)
        lease = notification.lease.to_json()
        log.info("lease event", lease_event=notification.event, protocol=notification.protocol, **lease)
        if notify_hook is not None:
            env = question_environment(notification.question) if notification.question is not None else {}
            env.update(
                {"DHCP_EVENT": notification.event, "DHCPBRIDGE_CONTRACT_VERSION": str(CONTRACT_VERSION)}
            )
            spawn(notify_hook.notify(body, env))
        return web.Response(status=204)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "contract_version": CONTRACT_VERSION,
                "questions": service.questions,
                "backends": service.stats(),
            }
        )

    async def openapi_yaml(request: web.Request) -> web.Response:
        return web.Response(text=openapi_text(), content_type="application/yaml")

    async def openapi_json_doc(request: web.Request) -> web.Response:
        return web.Response(text=openapi_json(), content_type="application/json")

    async def schema(request: web.Request) -> web.Response:
        name = _SCHEMA_FILES.get(request.match_info["file"])
        if name is None:
            raise web.HTTPNotFound()
        return web.Response(text=standalone_schema_text(name), content_type="application/schema+json")

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        poller = asyncio.create_task(service.poll(poll_interval)) if poll_interval > 0 else None
        loop = asyncio.get_running_loop()
        if handle_sighup:
            loop.add_signal_handler(signal.SIGHUP, lambda: spawn(_reload()))
        yield
        if handle_sighup:
            loop.remove_signal_handler(signal.SIGHUP)
        for task in [poller, *pending]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        service.close()

    async def _reload() -> None:
        log.info("SIGHUP: reloading")
        await service.refresh()

    app.router.add_post(f"/v{CONTRACT_VERSION}/question", question)
    app.router.add_post(f"/v{CONTRACT_VERSION}/commit", commit)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/openapi.yaml", openapi_yaml)
    app.router.add_get("/openapi.json", openapi_json_doc)
    app.router.add_get("/schemas/{file}", schema)
    app.cleanup_ctx.append(lifetime)
    return app
