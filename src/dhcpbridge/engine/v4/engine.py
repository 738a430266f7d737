"""The DHCPv4 engine: bytes and receive metadata in, an ``Outcome4`` (reply bytes, destination,
effects, or the reason for silence) out. Pure: the caller passes ``now``."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from dhcpbridge.engine.chain import NeedsIO
from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.engine.pipeline import Handler, Pipeline, is_async_hook
from dhcpbridge.engine.records import Meta4
from dhcpbridge.engine.v4.classify import Classify, SelectSubnet, ServerIdentity
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.lease import AskSources, LeaseMachine
from dhcpbridge.engine.v4.reply import ApplyOptions, BuildReply, Destination, EchoRelayInfo
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.message import encode, ip4_str, parse
from dhcpbridge.wire.v4.options import MESSAGE_NAMES


class Outcome4:
    """What to do after one datagram: send ``data`` to ``tx.dest_*`` (if any), carry out ``tx.effects``."""

    __slots__ = ("data", "drop_detail", "drop_reason", "tx")

    def __init__(
        self,
        tx: Transaction4 | None,
        data: bytes | None,
        drop_reason: str | None = None,
        drop_detail: str = "",
    ) -> None:
        self.tx = tx
        self.data = data
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
        fields: dict[str, Any] = {
            "client": tx.request.mac.hex(":"),
            "type": MESSAGE_NAMES.get(tx.msg_type_code, "BOOTP"),
        }
        if tx.reply is not None:
            fields["reply"] = MESSAGE_NAMES.get(tx.reply_type, "?")
            fields["yiaddr"] = ip4_str(tx.reply.yiaddr)
            fields["dest"] = f"{ip4_str(tx.dest_ip)}:{tx.dest_port}"
        if tx.state:
            fields["state"] = tx.state
        return fields


_NO_EFFECTS: list[LeaseEvent] = []


def builtin_handlers(env: Env4) -> list[Handler[Transaction4]]:
    return [
        Classify(env),
        SelectSubnet(env),
        ServerIdentity(env),
        AskSources(env),
        LeaseMachine(env),
        BuildReply(env),
        ApplyOptions(env),
        EchoRelayInfo(),
        Destination(env),
    ]


class Engine4:
    """Runs the v4 pipeline; user handlers run after the built-in ones of each phase."""

    def __init__(self, env: Env4, extra: Sequence[Handler[Any]] = ()) -> None:
        self.env = env
        self.pipeline: Pipeline[Transaction4] = Pipeline([*builtin_handlers(env), *extra])
        self.extra_async = any(is_async_hook(h) for h in extra)

    async def process(self, data: bytes, meta: Meta4, now: float, io: bool = False) -> Outcome4:
        stats = self.env.stats
        try:
            request = parse(data)
        except FormError as exc:
            reason = "malformed:" + exc.reason
            stats.drops[reason] += 1
            return Outcome4(None, None, reason, str(exc))
        tx = Transaction4(request, meta, now, io)
        name = MESSAGE_NAMES.get(tx.msg_type_code, "BOOTP")
        stats.received[name] += 1
        try:
            await self.pipeline.run(tx)
        except NeedsIO:
            stats.received[name] -= 1  # counted again when the runtime repeats it as a task
            raise
        if tx.drop_reason is not None:
            stats.drops[tx.drop_reason] += 1
            return Outcome4(tx, None, tx.drop_reason, tx.drop_detail)
        reply = tx.reply
        if reply is None:
            return Outcome4(tx, None)
        try:
            wire = encode(reply, tx.max_size)
        except (ValueError, OverflowError, TypeError, struct.error) as bad:  # a handler's unencodable value
            stats.errors["encode"] += 1
            return Outcome4(tx, None, "encode-error", str(bad))
        stats.sent[MESSAGE_NAMES[tx.reply_type]] += 1
        return Outcome4(tx, wire, None, tx.drop_detail)
