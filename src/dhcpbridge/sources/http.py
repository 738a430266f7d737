"""The HTTP/JSON bridge: ask another service what to answer (contract: ``dhcpbridge.contract``).

One JSON question per request is POSTed to the configured URL; the answer (assign / none /
ignore / deny) becomes the engine's ``Answer``. Around that:

- keep-alive connections (``http_client``), a per-request deadline (default 500 ms, well below a
  client's retransmit time) and bounded concurrency; requests for a client already in flight share it;
- a cache per client key with a TTL (the answer's ``cache_ttl`` or the configured one);
- stale-if-error: when the service fails, a client that had an answer keeps getting it for
  ``stale-grace`` seconds after it went stale; a client without one gets what the next source
  says (``on-error = "next"``) or nothing (``"drop"``) — never a guessed address;
- a circuit breaker: after ``breaker-failures`` failures of the service in a row (timeouts,
  connection and protocol errors, 5xx, invalid answers) it is not called for ``breaker-reset``
  seconds, then one probe request decides. A failure of one question is not the service's: a
  question that breaks the contract is never sent (``invalid-question``), and a 4xx status that
  refuses one question (any but the auth, routing and overload statuses in ``SERVICE_4XX``)
  counts only for that question; either way the request gets no answer from this source (the
  chain goes on as for ``{"action": "none"}``) and the breaker is untouched;
- every failure (timeout, refused, HTTP status, bad JSON, schema-invalid answer, an address in no
  configured subnet) is logged with the client and counted by reason;
- optional ``on-commit`` URL: lease events of leases this source answered are POSTed there
  (fire-and-forget with retries; never delays a reply).

Tokens and passwords come from a file or an environment variable and are never logged.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import os
import ssl
import time
from collections import Counter, OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from dhcpbridge import logs
from dhcpbridge.config.model import HttpSourceConfig
from dhcpbridge.contract.models import AnswerAssign, parse_answer_json, parse_question
from dhcpbridge.engine.chain import NeedsIO
from dhcpbridge.engine.model import IGNORE, NO_ANSWER, Action, Answer, LeaseEvent, LeaseKind
from dhcpbridge.engine.ports import Query
from dhcpbridge.sources.http_client import HttpClient, HttpConnectionError, HttpProtocolError
from dhcpbridge.sources.options import flat_options6
from dhcpbridge.sources.question import question
from dhcpbridge.wire import values
from dhcpbridge.wire.v4 import options as options4

log = logs.get("dhcpbridge.bridge")

#: 4xx statuses that say the service itself is unusable (credentials, URL, method, proxy,
#: overload): these count towards the circuit breaker like a 5xx. Any other 4xx refuses one
#: question (e.g. 400 for a question the service cannot read) and does not.
SERVICE_4XX = frozenset({401, 403, 404, 405, 407, 408, 429})


class BridgeFailure(Exception):
    """One failed question; ``reason`` is the counter label. ``question_fault``: the failure is
    this question's, not the service's (it neither opens the breaker nor triggers ``on-error``)."""

    def __init__(self, reason: str, detail: str, question_fault: bool = False) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.question_fault = question_fault


def _encode(code_or_name: str | int, value: Any) -> tuple[int, bytes]:
    return options4.encode_config_option(code_or_name, value)


def answer_from_contract(raw: Any, source: str, protocol: int = 4) -> Answer:
    """Turn a validated contract answer into the engine's ``Answer`` (options encoded once, in
    the question's family: ``protocol`` 6 encodes names and the named fields as DHCPv6 options)."""
    action = raw.action
    if action == "none":
        return NO_ANSWER
    if action == "ignore":
        return Answer(Action.IGNORE, source=source) if source else IGNORE
    if action == "deny":
        return Answer(Action.DENY, source=source, message=raw.message)
    assert isinstance(raw, AnswerAssign)
    if protocol == 6:
        return _answer6(raw, source)
    opts: dict[int, bytes] = {}
    named = (
        (1, raw.subnet_mask, "ip4"),
        (3, raw.router, "ip4-list"),
        (6, [d for d in raw.dns_servers or [] if ":" not in d] or None, "ip4-list"),
        (15, raw.domain_name, "string"),
        (119, raw.domain_search, "domain-list"),
        (42, [n for n in raw.ntp_servers or [] if ":" not in n] or None, "ip4-list"),
        (121, [r.model_dump() for r in raw.routes] if raw.routes else None, "routes"),
    )
    for code, value, kind in named:
        if value is not None:
            opts[code] = values.encode(kind, value)
    for opt in raw.options or []:
        data = opt.model_dump()
        if "name" in data:
            code, body = _encode(data["name"], data["value"])
        elif "hex" in data:
            code, body = int(data["code"]), values.encode("hex", data["hex"])
        else:
            code, body = int(data["code"]), values.encode(data["type"], data["value"])
        opts[code] = body
    address = int(ipaddress.IPv4Address(raw.client_ip)) if raw.client_ip else None
    addresses6 = tuple(int(ipaddress.IPv6Address(a.address)) for a in raw.addresses or [])
    prefixes = tuple((int(ipaddress.IPv6Address(p.prefix)), p.length) for p in raw.prefixes or [])
    return Answer(
        Action.ASSIGN,
        source=source,
        address=address,
        dynamic=address is None and not addresses6 and not prefixes,
        options=opts,
        lease_time=raw.lease_time,
        hostname=raw.hostname,
        next_server=int(ipaddress.IPv4Address(raw.next_server)) if raw.next_server else None,
        boot_file=raw.boot_file.encode() if raw.boot_file else None,
        server_name=raw.boot_server.encode() if raw.boot_server else None,
        addresses6=addresses6,
        prefixes=prefixes,
        renewal_time=raw.renewal_time,
        rebinding_time=raw.rebinding_time,
    )


def _answer6(raw: AnswerAssign, source: str) -> Answer:
    """An ``assign`` for a DHCPv6 question: addresses and prefixes with their lifetimes (those of
    the first that gives them), options 23 / 24 / 56 / 59 from the named fields, then ``options``."""
    named: dict[str, Any] = {}
    dns = [d for d in raw.dns_servers or [] if ":" in d]
    if dns:
        named["dns-servers"] = dns
    if raw.domain_search:
        named["domain-search"] = raw.domain_search
    ntp = [n for n in raw.ntp_servers or [] if ":" in n]
    if ntp:
        named["ntp-servers"] = ntp
    if raw.boot_file:
        named["bootfile-url"] = raw.boot_file
    opts = flat_options6(named)
    for opt in raw.options or []:
        data = opt.model_dump()
        if "name" in data:
            opts.update(flat_options6({data["name"]: data["value"]}))
        elif "hex" in data:
            opts[int(data["code"])] = values.encode("hex", data["hex"])
        else:
            opts[int(data["code"])] = values.encode(data["type"], data["value"])
    items: list[Any] = [*(raw.addresses or []), *(raw.prefixes or [])]
    preferred = next((i.preferred_lifetime for i in items if i.preferred_lifetime is not None), None)
    valid = next((i.valid_lifetime for i in items if i.valid_lifetime is not None), None)
    addresses6 = tuple(int(ipaddress.IPv6Address(a.address)) for a in raw.addresses or [])
    prefixes = tuple((int(ipaddress.IPv6Address(p.prefix)), p.length) for p in raw.prefixes or [])
    return Answer(
        Action.ASSIGN,
        source=source,
        dynamic=not addresses6 and not prefixes,
        options=opts,
        lease_time=valid if valid is not None else raw.lease_time,  # the default valid lifetime
        hostname=raw.hostname,
        addresses6=addresses6,
        prefixes=prefixes,
        renewal_time=raw.renewal_time,
        rebinding_time=raw.rebinding_time,
        preferred_lifetime=preferred,
        valid_lifetime=valid,
    )


class _Entry:
    __slots__ = ("answer", "fresh_until", "stale_until")

    def __init__(self, answer: Answer, fresh_until: float, stale_until: float) -> None:
        self.answer = answer
        self.fresh_until = fresh_until
        self.stale_until = stale_until


class HttpSource:
    """See the module docstring."""

    in_process = False

    def __init__(
        self,
        cfg: HttpSourceConfig,
        subnets: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
        base_dir: Path,
    ) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.subnets = subnets
        self._subnets4 = [net for net in subnets if net.version == 4]
        self.base_dir = base_dir
        self.failures: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._inflight: dict[bytes, asyncio.Future[Answer]] = {}
        self._client: HttpClient | None = None  # questions
        self._notifier: HttpClient | None = None  # on-commit notifications
        self._consecutive = 0
        self._open_until = 0.0
        self._probing = False
        self._headers = {"Content-Type": "application/json", **self._auth_headers()}
        self._ssl = self._ssl_context()
        self._notify_tasks: set[asyncio.Task[None]] = set()

    # --- set-up -----------------------------------------------------------------------------
    def _read_secret(self, name: str) -> str:
        path = (self.base_dir / name).resolve()
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc.strerror}") from None

    def _auth_headers(self) -> dict[str, str]:
        cfg = self.cfg
        if cfg.token_file:
            return {"Authorization": f"Bearer {self._read_secret(cfg.token_file)}"}
        if cfg.token_env:
            token = os.environ.get(cfg.token_env)
            if not token:
                raise ValueError(f"environment variable {cfg.token_env} is not set")
            return {"Authorization": f"Bearer {token}"}
        if cfg.basic_auth_file:
            pair = self._read_secret(cfg.basic_auth_file)
            if ":" not in pair:
                raise ValueError(f"{cfg.basic_auth_file} must hold user:password")
            return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
        return {}

    def _ssl_context(self) -> ssl.SSLContext | None:
        cfg = self.cfg
        if not cfg.url.startswith("https") and not (cfg.on_commit or "").startswith("https"):
            return None
        ctx = ssl.create_default_context(cafile=str(self.base_dir / cfg.tls_ca) if cfg.tls_ca else None)
        if cfg.tls_cert and cfg.tls_key:
            ctx.load_cert_chain(str(self.base_dir / cfg.tls_cert), str(self.base_dir / cfg.tls_key))
        return ctx

    async def start(self) -> None:
        cfg = self.cfg
        if self._client is None:
            self._client = HttpClient(
                cfg.url, limit=cfg.max_concurrency, headers=self._headers, ssl_context=self._ssl
            )
        if self._notifier is None and cfg.on_commit:
            self._notifier = HttpClient(
                cfg.on_commit, limit=8, headers=self._notify_headers(), ssl_context=self._ssl
            )

    def _notify_headers(self) -> dict[str, str]:
        """on-commit's headers: its own token (on-commit-token-file), else the bridge's
        credentials only when on-commit is on the bridge's origin (scheme, host, port)."""
        from urllib.parse import urlsplit

        cfg = self.cfg
        if cfg.on_commit_token_file:
            token = self._read_secret(cfg.on_commit_token_file)
            return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        a, b = urlsplit(cfg.url), urlsplit(cfg.on_commit or "")
        if (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port):
            return self._headers
        return {"Content-Type": "application/json"}

    async def close(self) -> None:
        if self._notify_tasks:
            await asyncio.wait(list(self._notify_tasks), timeout=2.0)
        for client in (self._client, self._notifier):
            if client is not None:
                await client.close()
        self._client = self._notifier = None

    def reserved(self) -> frozenset[int]:
        return frozenset()

    def stats(self) -> dict[str, Any]:
        return {
            "answers": dict(self.counts),
            "failures": dict(self.failures),
            "cache_entries": len(self._cache),
            "breaker_open": self._open_until > time.monotonic(),
        }

    # --- asking -----------------------------------------------------------------------------
    @staticmethod
    def cache_key(query: Query) -> bytes:
        subnet = query.subnet
        ident = query.client_id or query.client_mac
        return bytes((query.protocol,)) + (subnet.name.encode() if subnet else b"") + b"|" + ident

    def answer(self, query: Query) -> Answer:
        """A fresh cached answer without IO, else ``NeedsIO`` (the runtime then awaits ``ask``)."""
        entry = self._cache.get(self.cache_key(query))
        if entry is not None and time.monotonic() < entry.fresh_until:
            self.counts["cache-hit"] += 1
            return entry.answer
        raise NeedsIO

    async def ask(self, query: Query) -> Answer:
        key = self.cache_key(query)
        now = time.monotonic()
        entry = self._cache.get(key)
        if entry is not None and now < entry.fresh_until:
            self.counts["cache-hit"] += 1
            return entry.answer
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            answer = await self._resolve(query, key, entry, now)
            future.set_result(answer)
            return answer
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waits
            raise
        finally:
            del self._inflight[key]

    async def _resolve(self, query: Query, key: bytes, entry: _Entry | None, now: float) -> Answer:
        try:
            answer, ttl = await self._fetch(query)
        except BridgeFailure as fail:
            self.failures[fail.reason] += 1
            client = (query.client_mac or query.client_id).hex(":")
            stale = entry is not None and now < entry.stale_until
            fallback = {} if stale else {"fallback": "next" if fail.question_fault else self.cfg.on_error}
            if logs.limited("bridge-failure"):  # clients can cause these: within the shared limit
                what = "serving the cached answer" if stale else "falling back"
                log.warning(
                    f"bridge failed; {what}",
                    reason=fail.reason,
                    detail=fail.detail,
                    client=client,
                    **fallback,
                )
            if entry is not None and stale:
                self.counts["stale"] += 1
                return entry.answer
            return NO_ANSWER if fallback["fallback"] == "next" else Answer(Action.IGNORE, source=self.name)
        self.counts[answer.action.value] += 1
        if ttl > 0:
            done = time.monotonic()
            self._cache[key] = _Entry(answer, done + ttl, done + ttl + self.cfg.stale_grace)
            self._cache.move_to_end(key)
            while len(self._cache) > self.cfg.cache_size:
                self._cache.popitem(last=False)
        else:
            self._cache.pop(key, None)
        return answer

    def _breaker_allows(self) -> bool:
        if self._consecutive < self.cfg.breaker_failures:
            return True
        if time.monotonic() < self._open_until or self._probing:
            return False
        self._probing = True  # half-open: this request is the probe
        return True

    def _record(self, ok: bool) -> None:
        if ok:
            if self._consecutive >= self.cfg.breaker_failures:
                log.info("bridge service is answering again", url=self.cfg.url)
            self._consecutive = 0
        else:
            self._consecutive += 1
            if self._consecutive == self.cfg.breaker_failures or self._probing:
                log.warning("bridge circuit open", url=self.cfg.url, pause_s=self.cfg.breaker_reset)
                self._open_until = time.monotonic() + self.cfg.breaker_reset
        self._probing = False

    async def _fetch(self, query: Query) -> tuple[Answer, float]:
        body = json.dumps(self.checked_question(query), separators=(",", ":")).encode()
        if not self._breaker_allows():
            raise BridgeFailure("breaker-open", f"not asking {self.cfg.url} for {self.cfg.breaker_reset}s")
        if self._client is None:
            await self.start()
        assert self._client is not None
        try:
            # the whole question - waiting for a free connection, sending, reading - in the deadline
            async with asyncio.timeout(self.cfg.timeout):
                status, payload = await self._client.post(body)
        except TimeoutError:
            self._record(False)
            raise BridgeFailure("timeout", f"no answer within {self.cfg.timeout}s") from None
        except HttpConnectionError as exc:
            self._record(False)
            raise BridgeFailure("connection", str(exc) or type(exc).__name__) from None
        except (HttpProtocolError, ssl.SSLError) as exc:
            self._record(False)
            raise BridgeFailure("http", str(exc) or type(exc).__name__) from None
        if 400 <= status < 500 and status not in SERVICE_4XX:
            self._probing = False  # the service answered: no failure of its own, none to count
            raise BridgeFailure("status-4xx", f"HTTP {status} for this question", question_fault=True)
        if status != 200:
            self._record(False)
            raise BridgeFailure(f"status-{status // 100}xx", f"HTTP {status}")
        try:
            parsed = parse_answer_json(payload)
        except ValidationError as exc:
            self._record(False)
            reason = (
                "bad-json" if any(e["type"] == "json_invalid" for e in exc.errors()) else "invalid-answer"
            )
            raise BridgeFailure(reason, str(exc.errors(include_url=False)[:3])) from None
        try:
            answer = answer_from_contract(parsed, self.name, query.protocol)
        except ValueError as exc:
            self._record(False)
            raise BridgeFailure("invalid-answer", str(exc)) from None
        if self.cfg.check_subnet and answer.address is not None and self._subnets4:
            # configured subnets: the address must be in one (bridge-only mode, without subnets,
            # judges it against the request's link in the engine instead)
            addr = ipaddress.IPv4Address(answer.address)
            if not any(addr in net for net in self._subnets4):
                self._record(False)
                raise BridgeFailure("off-subnet", f"{addr} is in no configured subnet")
        self._record(True)
        ttl = float(parsed.cache_ttl) if parsed.cache_ttl is not None else self.cfg.cache_ttl
        return answer, ttl

    def _question(self, query: Query) -> dict[str, Any]:
        return question(query)

    def checked_question(self, query: Query) -> dict[str, Any]:
        """The question for ``query``, checked against the contract before it is sent: one the
        service must reject (e.g. ``client_mac`` "07" from a DISCOVER with hlen 1) is a failure
        of this question (``invalid-question``), never a request."""
        doc = self._question(query)
        try:
            parse_question(doc)
        except ValidationError as exc:
            errors = [
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)[:3]
            ]
            raise BridgeFailure("invalid-question", "; ".join(errors), question_fault=True) from None
        return doc

    # --- notifications ----------------------------------------------------------------------
    def notify(self, event: LeaseEvent) -> None:
        """Listener for the runtime's lease events: POST this source's leases to ``on-commit``."""
        if not self.cfg.on_commit or event.lease.source != self.name:
            return
        if len(self._notify_tasks) > 10_000:
            self.failures["notify-backlog"] += 1
            return
        task = asyncio.get_running_loop().create_task(self._notify(event))
        self._notify_tasks.add(task)
        task.add_done_callback(self._notify_tasks.discard)

    async def _notify(self, event: LeaseEvent) -> None:
        lease = event.lease
        body: dict[str, Any] = {
            "version": 1,
            "event": event.event,
            "protocol": 4 if lease.kind == LeaseKind.V4 else 6,
            "time": datetime.now(UTC).isoformat(),
            "lease": {"hostname": lease.hostname} if lease.hostname else {},
        }
        doc = body["lease"]
        if lease.hwaddr:
            doc["client_mac"] = lease.hwaddr.hex(":")
        if lease.subnet:
            doc["subnet"] = lease.subnet
        if lease.kind == LeaseKind.V4:
            doc["client_ip"] = lease.address_text
            if lease.client:
                doc["client_id"] = lease.client.hex()
        elif lease.kind == LeaseKind.NA:
            doc["addresses"] = [{"address": lease.address_text}]
        else:
            doc["prefixes"] = [{"prefix": lease.address_text, "length": lease.prefix_len}]
        doc["lease_time"] = max(0, int(lease.expires - lease.starts))
        if event.query is not None and event.event != "expire":
            try:
                body["question"] = self._question(event.query)
            except (AttributeError, ValueError):
                pass
        doc["expires_at"] = datetime.fromtimestamp(lease.expires, UTC).isoformat()
        payload = json.dumps(body).encode()
        assert self.cfg.on_commit is not None
        for attempt in range(self.cfg.commit_retries + 1):
            try:
                if self._notifier is None:
                    await self.start()
                assert self._notifier is not None
                async with asyncio.timeout(max(self.cfg.timeout, 2.0)):
                    status, _ = await self._notifier.post(payload)
                if status < 300:
                    self.counts["notified"] += 1
                    return
            except (TimeoutError, HttpConnectionError, HttpProtocolError, ssl.SSLError):
                pass
            await asyncio.sleep(min(0.2 * 2**attempt, 5.0))
        self.failures["notify"] += 1
        if logs.limited("bridge-failure"):
            log.warning(
                "on-commit notification failed",
                url=self.cfg.on_commit,
                lease=lease.address_text,
                event=event.event,
            )
