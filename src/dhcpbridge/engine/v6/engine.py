"""The DHCPv6 engine: bytes and receive metadata in, an ``Outcome6`` (reply bytes, where to send
them, effects, or the reason for silence) out. Pure: the caller passes ``now``.

A relayed message is unwrapped before the pipeline runs and the reply is wrapped again in the
matching RELAY-REPL chain afterwards (Interface-ID echoed, RFC 8415 §19.3); it goes to the
sender of the outermost RELAY-FORW, port 547 (or its own port when that relay sent a Relay
Source Port option, RFC 8357), and a direct reply to the client's address, port 546.
"""

from __future__ import annotations

import inspect
import struct
from collections.abc import Sequence
from typing import Any, cast

from dhcpbridge.engine.chain import NeedsIO
from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.engine.pipeline import Handler, Pipeline
from dhcpbridge.engine.records import Meta6
from dhcpbridge.engine.v6.classify import Classify6, SelectLink6, ServerIdentity6
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.lease import Bindings6, ask_sources
from dhcpbridge.engine.v6.reply import BuildReply6
from dhcpbridge.engine.v6.transaction import MESSAGE_NAMES6 as _NAMES
from dhcpbridge.engine.v6.transaction import Transaction6, message_name6
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, encode6, parse6, wrap_relay_reply

_RELAY_FORW = 12
_RELAY_SOURCE_PORT = 135


class Outcome6:
    """What to do after one datagram: send ``data`` to ``dest`` (host, port, scope id) if any,
    carry out ``effects``."""

    __slots__ = ("data", "dest", "drop_detail", "drop_reason", "tx")

    def __init__(
        self,
        tx: Transaction6 | None,
        data: bytes | None,
        dest: tuple[str, int, int, int] | None = None,
        drop_reason: str | None = None,
        drop_detail: str = "",
    ) -> None:
        self.tx = tx
        self.data = data
        self.dest = dest
        self.drop_reason = drop_reason
        self.drop_detail = drop_detail

    @property
    def effects(self) -> list[LeaseEvent]:
        return self.tx.effects if self.tx is not None else _NO_EFFECTS

    def log_fields(self) -> dict[str, Any]:
        """Who and what, for a log line about this outcome."""
        tx = self.tx
        if tx is None:
            return {}
        fields: dict[str, Any] = {"duid": tx.duid.hex(":"), "type": message_name6(tx.msg_type_code)}
        if tx.relays:
            fields["relays"] = len(tx.relays)
        if tx.reply is not None:
            fields["reply"] = message_name6(tx.reply_type)
            fields["leases"] = [lease.as_dict()["address"] for lease in tx.leases]
            if self.dest is not None:
                fields["dest"] = f"[{self.dest[0]}]:{self.dest[1]}"
        if tx.status is not None:
            fields["status"] = tx.status[1]
        if tx.state:
            fields["state"] = tx.state
        return fields


_NO_EFFECTS: list[LeaseEvent] = []


def builtin_handlers(env: Env6) -> list[Handler[Transaction6]]:
    return [
        Classify6(env),
        SelectLink6(env),
        ServerIdentity6(env),
        ask_sources(env),
        Bindings6(env),
        BuildReply6(env),
    ]


class Engine6:
    """Runs the v6 pipeline; user handlers run after the built-in ones of each phase."""

    def __init__(self, env: Env6, extra: Sequence[Handler[Any]] = ()) -> None:
        self.env = env
        self.pipeline: Pipeline[Transaction6] = Pipeline([*builtin_handlers(env), *extra])
        self.extra_async = any(
            inspect.iscoroutinefunction(getattr(h, hook)) for h in extra for hook in ("pre", "handle", "post")
        )

    async def process(self, data: bytes, meta: Meta6, now: float, io: bool = False) -> Outcome6:
        stats = self.env.stats
        try:
            msg = parse6(data)
        except FormError as exc:
            reason = "malformed:" + exc.reason
            stats.drops[reason] += 1
            return Outcome6(None, None, None, reason, str(exc))
        relays: list[RelayMessage6] = []
        while type(msg) is RelayMessage6:
            if msg.msg_type != _RELAY_FORW:
                stats.drops["relay-reply-received"] += 1
                return Outcome6(None, None, None, "relay-reply-received")
            relays.append(msg)
            inner = msg.message
            if inner is None:  # parse6 guarantees a Relay Message option; be safe anyway
                stats.drops["malformed:no-relay-msg"] += 1
                return Outcome6(None, None, None, "malformed:no-relay-msg")
            msg = inner
        tx = Transaction6(cast(Message6, msg), relays, meta, now, io)
        code = tx.msg_type_code
        name = _NAMES.get(code) or message_name6(code)
        stats.received[name] += 1
        try:
            await self.pipeline.run(tx)
        except NeedsIO:
            stats.received[name] -= 1  # counted again when the runtime repeats it as a task
            raise
        except FormError as exc:  # an option a handler decoded on demand was malformed
            tx.drop_reason, tx.drop_detail = "malformed:" + exc.reason, str(exc)
        if tx.drop_reason is not None:
            stats.drops[tx.drop_reason] += 1
            return Outcome6(tx, None, None, tx.drop_reason, tx.drop_detail)
        reply = tx.reply
        if reply is None:
            return Outcome6(tx, None)
        env = self.env
        try:
            wire = encode6(wrap_relay_reply(reply, relays)) if relays else encode6(reply)
        except (ValueError, OverflowError, struct.error, TypeError) as exc:  # a handler broke the reply
            stats.errors["encode"] += 1
            return Outcome6(tx, None, None, "encode-error", str(exc))
        if relays:
            port = meta.src_port if relays[0].has(_RELAY_SOURCE_PORT) else env.relay_port
        else:
            port = env.client_port
        scope = meta.ifindex if meta.src.startswith("fe80:") else 0
        stats.sent[_NAMES.get(tx.reply_type) or message_name6(tx.reply_type)] += 1
        return Outcome6(tx, wire, (meta.src, port, 0, scope))
