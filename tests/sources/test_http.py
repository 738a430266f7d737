"""The HTTP bridge source against real HTTP services on 127.0.0.1: answers, cache, stale-if-error,
fallbacks, circuit breaker, every failure reason, and on-commit notifications."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from dhcpbridge.config.model import HttpSourceConfig
from dhcpbridge.engine.model import Action, Lease, LeaseEvent, LeaseState
from dhcpbridge.sources.http import BridgeFailure, HttpSource
from dhcpbridge.sources.question import question_v4
from dhcpbridge.wire.v4.message import Message4, ip4_int

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Subnet:
    name = "10.67.0.0/24"
    pools: tuple[Any, ...] = ()

    def contains(self, addr: int) -> bool:
        return (addr & 0xFFFFFF00) == ip4_int("10.67.0.0")


class FakeQuery:
    """The attributes of a v4 transaction the bridge reads."""

    protocol = 4
    msg_type = "DHCPDISCOVER"
    hostname = "host1"
    interface = "srv0"
    relay_ip = ""
    requested_ip = 0
    circuit_id = b"port-7"
    remote_id = b""
    vendor_class = b"MSFT 5.0"
    server_id = ip4_int("10.67.0.1")
    prl = bytes([1, 3, 6])

    def __init__(self, mac: str = "02:67:00:00:00:05") -> None:
        self.client_mac = bytes.fromhex(mac.replace(":", ""))
        self.client_id = b""
        self.request = Message4(xid=0x1234, chaddr=self.client_mac)
        self.subnet = Subnet()


class Service:
    """A controllable bridge service: the test swaps its behaviour between requests."""

    def __init__(self) -> None:
        self.questions: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.behaviour: Handler = self.assign

    async def assign(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"action": "assign", "client_ip": "10.67.0.55", "lease_time": 600})

    async def question(self, request: web.Request) -> web.StreamResponse:
        self.questions.append(await request.json())
        return await self.behaviour(request)

    async def commit(self, request: web.Request) -> web.StreamResponse:
        self.notifications.append(await request.json())
        return web.json_response({})


@pytest.fixture
async def service() -> AsyncIterator[tuple[Service, str]]:
    svc = Service()
    app = web.Application()
    app.router.add_post("/v1/question", svc.question)
    app.router.add_post("/v1/commit", svc.commit)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield svc, f"http://127.0.0.1:{port}"
    await runner.cleanup()


def make_source(base: str, **overrides: Any) -> HttpSource:
    cfg = HttpSourceConfig.model_validate(
        {"type": "http", "url": f"{base}/v1/question", "on-commit": f"{base}/v1/commit", **overrides}
    )
    return HttpSource(cfg, [ipaddress.IPv4Network("10.67.0.0/24")], base_dir=__import__("pathlib").Path("."))


async def test_question_follows_the_contract_and_answer_becomes_an_assignment(
    service: tuple[Service, str],
) -> None:
    from dhcpbridge.contract.schema import validate_question

    svc, base = service
    source = make_source(base)
    try:
        answer = await source.ask(FakeQuery())
    finally:
        await source.close()
    assert answer.action is Action.ASSIGN
    assert answer.address == ip4_int("10.67.0.55")
    assert answer.lease_time == 600
    question = svc.questions[0]
    validate_question(question)
    assert question["client_mac"] == "02:67:00:00:00:05"
    assert question["circuit_id"] == {"hex": b"port-7".hex(), "text": "port-7"}
    assert question["requested_options"] == [1, 3, 6]
    assert question["subnet"] == "10.67.0.0/24"


async def test_cache_serves_repeat_questions_without_asking(service: tuple[Service, str]) -> None:
    svc, base = service
    source = make_source(base, **{"cache-ttl": 60})
    try:
        for _ in range(5):
            answer = await source.ask(FakeQuery())
            assert answer.address == ip4_int("10.67.0.55")
    finally:
        await source.close()
    assert len(svc.questions) == 1
    assert source.counts["cache-hit"] == 4


async def test_cache_off_asks_every_time(service: tuple[Service, str]) -> None:
    svc, base = service
    source = make_source(base, **{"cache-ttl": 0})
    try:
        for _ in range(3):
            await source.ask(FakeQuery())
    finally:
        await source.close()
    assert len(svc.questions) == 3


async def test_answer_cache_ttl_overrides_config(service: tuple[Service, str]) -> None:
    svc, base = service

    async def short(request: web.Request) -> web.StreamResponse:
        return web.json_response({"action": "assign", "client_ip": "10.67.0.56", "cache_ttl": 0})

    svc.behaviour = short
    source = make_source(base, **{"cache-ttl": 60})
    try:
        await source.ask(FakeQuery())
        await source.ask(FakeQuery())
    finally:
        await source.close()
    assert len(svc.questions) == 2


async def _slow(request: web.Request) -> web.StreamResponse:
    await asyncio.sleep(2)
    return web.json_response({"action": "assign", "client_ip": "10.67.0.57"})


async def _garbage(request: web.Request) -> web.StreamResponse:
    return web.Response(body=b"<html>not json", content_type="application/json")


async def _error500(request: web.Request) -> web.StreamResponse:
    return web.Response(status=500, text="boom")


async def _invalid(request: web.Request) -> web.StreamResponse:
    return web.json_response({"action": "assign", "client_ip": "not-an-ip"})


async def _off_subnet(request: web.Request) -> web.StreamResponse:
    return web.json_response({"action": "assign", "client_ip": "192.0.2.9"})


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (_slow, "timeout"),
        (_garbage, "bad-json"),
        (_error500, "status-5xx"),
        (_invalid, "invalid-answer"),
        (_off_subnet, "off-subnet"),
    ],
)
async def test_each_failure_is_counted_and_falls_back(
    service: tuple[Service, str], behaviour: Handler, reason: str
) -> None:
    svc, base = service
    svc.behaviour = behaviour
    source = make_source(base, timeout=0.2)
    try:
        start = time.monotonic()
        answer = await source.ask(FakeQuery())
        elapsed = time.monotonic() - start
    finally:
        await source.close()
    assert answer.action is Action.NONE  # on-error = "next": the next source decides
    assert source.failures[reason] == 1
    assert elapsed < 1.0  # the deadline holds even when the service hangs


async def test_on_error_drop_ignores_new_clients(service: tuple[Service, str]) -> None:
    svc, base = service
    svc.behaviour = _error500
    source = make_source(base, **{"on-error": "drop"})
    try:
        answer = await source.ask(FakeQuery())
    finally:
        await source.close()
    assert answer.action is Action.IGNORE


async def test_stale_if_error_keeps_known_clients(service: tuple[Service, str]) -> None:
    svc, base = service
    source = make_source(base, **{"cache-ttl": 0.05, "stale-grace": 30})
    try:
        first = await source.ask(FakeQuery())
        svc.behaviour = _error500
        await asyncio.sleep(0.1)  # the cached answer is stale now
        again = await source.ask(FakeQuery())
        newcomer = await source.ask(FakeQuery("02:67:00:00:00:99"))
    finally:
        await source.close()
    assert again == first and again.address == ip4_int("10.67.0.55")
    assert source.counts["stale"] == 1
    assert newcomer.action is Action.NONE


async def test_stale_answer_expires_after_grace(service: tuple[Service, str]) -> None:
    svc, base = service
    source = make_source(base, **{"cache-ttl": 0.05, "stale-grace": 0.05})
    try:
        await source.ask(FakeQuery())
        svc.behaviour = _error500
        await asyncio.sleep(0.2)
        late = await source.ask(FakeQuery())
    finally:
        await source.close()
    assert late.action is Action.NONE


async def test_service_down_is_a_connection_failure() -> None:
    source = make_source("http://127.0.0.1:9", timeout=0.5)  # discard port: nothing listens
    try:
        answer = await source.ask(FakeQuery())
    finally:
        await source.close()
    assert answer.action is Action.NONE
    assert source.failures["connection"] == 1


async def test_circuit_breaker_stops_asking_then_probes(service: tuple[Service, str]) -> None:
    svc, base = service
    svc.behaviour = _error500
    source = make_source(base, **{"breaker-failures": 3, "breaker-reset": 0.2, "cache-ttl": 0})
    try:
        for i in range(6):
            await source.ask(FakeQuery(f"02:67:00:00:01:{i:02x}"))
        assert len(svc.questions) == 3  # the breaker opened after three failures in a row
        assert source.failures["breaker-open"] == 3
        svc.behaviour = svc.assign
        await asyncio.sleep(0.25)
        answer = await source.ask(FakeQuery())  # the probe succeeds and closes the breaker
        assert answer.action is Action.ASSIGN
        await source.ask(FakeQuery("02:67:00:00:02:01"))
        assert len(svc.questions) == 5
    finally:
        await source.close()


async def test_concurrent_questions_for_one_client_share_one_request(service: tuple[Service, str]) -> None:
    svc, base = service

    async def slowish(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.05)
        return web.json_response({"action": "assign", "client_ip": "10.67.0.58"})

    svc.behaviour = slowish
    source = make_source(base)
    try:
        answers = await asyncio.gather(*(source.ask(FakeQuery()) for _ in range(5)))
    finally:
        await source.close()
    assert {a.address for a in answers} == {ip4_int("10.67.0.58")}
    assert len(svc.questions) == 1


async def test_one_slow_answer_does_not_delay_others(service: tuple[Service, str]) -> None:
    svc, base = service

    async def by_client(request: web.Request) -> web.StreamResponse:
        q = json.loads(await request.read())
        if q["client_mac"].endswith("99"):
            await asyncio.sleep(0.4)
        return web.json_response({"action": "assign", "client_ip": "10.67.0.59"})

    async def question(request: web.Request) -> web.StreamResponse:
        return await by_client(request)

    svc.behaviour = question
    source = make_source(base, timeout=1.0)
    try:
        slow = asyncio.ensure_future(source.ask(FakeQuery("02:67:00:00:00:99")))
        await asyncio.sleep(0.01)
        start = time.monotonic()
        await source.ask(FakeQuery("02:67:00:00:00:01"))
        fast_elapsed = time.monotonic() - start
        await slow
    finally:
        await source.close()
    assert fast_elapsed < 0.2


async def test_deny_ignore_none_actions(service: tuple[Service, str]) -> None:
    svc, base = service
    results = []
    for action in ("deny", "ignore", "none"):

        async def reply(request: web.Request, action: str = action) -> web.StreamResponse:
            return web.json_response({"action": action})

        svc.behaviour = reply
        source = make_source(base, **{"cache-ttl": 0})
        try:
            results.append((await source.ask(FakeQuery())).action)
        finally:
            await source.close()
    assert results == [Action.DENY, Action.IGNORE, Action.NONE]


async def test_options_by_name_code_and_hex_are_encoded(service: tuple[Service, str]) -> None:
    svc, base = service

    async def rich(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {
                "action": "assign",
                "client_ip": "10.67.0.60",
                "router": ["10.67.0.1"],
                "dns_servers": ["10.67.0.53", "2001:db8::53"],
                "domain_name": "bridge.example",
                "routes": [{"prefix": "10.0.0.0/8", "router": "10.67.0.1"}],
                "options": [
                    {"name": "ntp-servers", "value": ["10.67.0.123"]},
                    {"code": 224, "type": "string", "value": "hi"},
                    {"code": 225, "hex": "0102"},
                ],
            }
        )

    svc.behaviour = rich
    source = make_source(base)
    try:
        answer = await source.ask(FakeQuery())
    finally:
        await source.close()
    assert answer.options[3] == bytes([10, 67, 0, 1])
    assert answer.options[6] == bytes([10, 67, 0, 53])  # the IPv6 server is for v6 replies only
    assert answer.options[15] == b"bridge.example"
    assert answer.options[121] == bytes([8, 10, 10, 67, 0, 1])
    assert answer.options[42] == bytes([10, 67, 0, 123])
    assert answer.options[224] == b"hi"
    assert answer.options[225] == b"\x01\x02"


async def test_on_commit_notifies_with_the_lease(service: tuple[Service, str]) -> None:
    from dhcpbridge.contract.schema import validate_notification

    svc, base = service
    source = make_source(base)
    now = time.time()
    lease = Lease(
        ip4_int("10.67.0.55"),
        b"\x01\x02\x67\x00\x00\x00\x05",
        LeaseState.BOUND,
        now,
        now + 600,
        hwaddr=bytes.fromhex("026700000005"),
        subnet="10.67.0.0/24",
        source="http",
    )
    try:
        source.notify(LeaseEvent("commit", lease))
        source.notify(LeaseEvent("commit", Lease(1, b"x", LeaseState.BOUND, now, now, source="pools")))
        for _ in range(50):
            if svc.notifications:
                break
            await asyncio.sleep(0.02)
    finally:
        await source.close()
    assert len(svc.notifications) == 1  # only leases this source answered
    note = svc.notifications[0]
    validate_notification(note)
    assert note["event"] == "commit"
    assert note["lease"]["client_ip"] == "10.67.0.55"
    assert note["lease"]["lease_time"] == 600


def test_question_v4_of_a_relayed_request_names_the_relay() -> None:
    q = FakeQuery()
    q.request.giaddr = ip4_int("10.68.0.2")
    q.request.ciaddr = ip4_int("10.67.0.55")
    doc = question_v4(q)
    assert doc["relay_ip"] == "10.68.0.2"
    assert doc["client_ip"] == "10.67.0.55"
    assert doc["vendor_class"] == "MSFT 5.0"


# --- issue 9 point 4: only the service's failures count towards the breaker ------------------

VALID = "02:67:00:00:00:05"


async def _bad_request(request: web.Request) -> web.StreamResponse:
    return web.json_response({"error": "bad question", "details": ["client_mac: too short"]}, status=400)


async def _unauthorized(request: web.Request) -> web.StreamResponse:
    return web.json_response({"error": "no token"}, status=401)


@pytest.fixture
async def source(service: tuple[Service, str]) -> AsyncIterator[tuple[Service, HttpSource]]:
    svc, base = service
    src = make_source(base, **{"breaker-failures": 5, "breaker-reset": 60, "cache-ttl": 0})
    yield svc, src
    await src.close()


async def test_hlen_one_discovers_are_never_sent_and_do_not_open_the_breaker(
    source: tuple[Service, HttpSource],
) -> None:
    svc, src = source
    for _ in range(5):  # a DISCOVER with hlen = 1 gives client_mac "07": the contract rejects it
        answer = await src.ask(FakeQuery("07"))
        assert answer.action is Action.NONE  # no answer from the bridge: the chain goes on
    assert svc.questions == []  # never sent to the service
    assert src.failures["invalid-question"] == 5
    answer = await src.ask(FakeQuery(VALID))
    assert answer.action is Action.ASSIGN
    assert src.stats()["breaker_open"] is False
    assert [q["client_mac"] for q in svc.questions] == [VALID]


def test_an_invalid_question_is_a_question_failure_with_the_reason() -> None:
    src = make_source("http://127.0.0.1:9")  # nothing is sent: the question is checked first
    assert src.checked_question(FakeQuery(VALID))["client_mac"] == VALID
    with pytest.raises(BridgeFailure) as caught:
        src.checked_question(FakeQuery("07"))
    assert caught.value.reason == "invalid-question"
    assert caught.value.question_fault
    assert "client_mac" in caught.value.detail


async def test_a_400_from_the_service_does_not_open_the_breaker(source: tuple[Service, HttpSource]) -> None:
    svc, src = source
    svc.behaviour = _bad_request
    for i in range(8):
        answer = await src.ask(FakeQuery(f"02:67:00:00:01:{i:02x}"))
        assert answer.action is Action.NONE
    assert src.failures["status-4xx"] == 8
    assert src.failures["breaker-open"] == 0
    svc.behaviour = svc.assign
    answer = await src.ask(FakeQuery(VALID))
    assert answer.action is Action.ASSIGN
    assert len(svc.questions) == 9  # every question reached the service


async def test_a_400_falls_through_even_with_on_error_drop(service: tuple[Service, str]) -> None:
    svc, base = service
    svc.behaviour = _bad_request
    src = make_source(base, **{"on-error": "drop", "cache-ttl": 0})
    try:
        answer = await src.ask(FakeQuery(VALID))
    finally:
        await src.close()
    assert answer.action is Action.NONE  # the question's failure: no answer, not "the service is down"


async def test_service_level_4xx_and_5xx_still_open_the_breaker(source: tuple[Service, HttpSource]) -> None:
    svc, src = source
    svc.behaviour = _unauthorized
    for i in range(7):
        await src.ask(FakeQuery(f"02:67:00:00:01:{i:02x}"))
    assert len(svc.questions) == 5  # a wrong token is the service's failure: open after five
    assert src.failures["breaker-open"] == 2
    assert src.stats()["breaker_open"] is True


async def test_a_400_answering_the_half_open_probe_lets_the_next_question_probe(
    service: tuple[Service, str],
) -> None:
    svc, base = service
    src = make_source(base, **{"breaker-failures": 2, "breaker-reset": 0.1, "cache-ttl": 0})
    try:
        svc.behaviour = _server_error
        for i in range(2):
            await src.ask(FakeQuery(f"02:67:00:00:01:{i:02x}"))
        await asyncio.sleep(0.15)
        svc.behaviour = _bad_request
        assert (await src.ask(FakeQuery("02:67:00:00:02:01"))).action is Action.NONE  # the probe: 400
        svc.behaviour = svc.assign
        assert (await src.ask(FakeQuery(VALID))).action is Action.ASSIGN  # not stuck half-open
    finally:
        await src.close()


async def _server_error(request: web.Request) -> web.StreamResponse:
    return web.Response(status=500, text="boom")


async def test_bridge_failures_are_logged_within_the_shared_limit(service: tuple[Service, str]) -> None:
    from structlog.testing import capture_logs

    from dhcpbridge import logs

    logs.LIMITER.counts = {}
    logs.LIMITER.window_start = time.monotonic()
    svc, base = service
    svc.behaviour = _error500
    source = make_source(base, **{"breaker-failures": 1000, "cache-ttl": 0})
    try:
        with capture_logs() as lines:
            for i in range(30):
                await source.ask(FakeQuery(f"02:67:00:00:03:{i:02x}"))
    finally:
        await source.close()
    assert source.failures["status-5xx"] == 30  # every failure is counted ...
    assert len([line for line in lines if line["event"].startswith("bridge failed")]) == logs.LIMITER.burst
