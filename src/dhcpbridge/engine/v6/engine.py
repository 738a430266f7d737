"""The DHCPv6 engine: bytes and receive metadata in, an ``Outcome6`` (reply bytes, where to send
them, effects, or the reason for silence) out. Pure: the caller passes ``now``.

A relayed message is unwrapped before the pipeline runs and the reply is wrapped again in the
matching RELAY-REPL chain afterwards (Interface-ID echoed, RFC 8415 §19.3); it goes to the
sender of the outermost RELAY-FORW, port 547 (or its own port when that relay sent a Relay
Source Port option, RFC 8357), and a direct reply to the client's address, port 546 (a
LEASEQUERY-REPLY to the requester's address and port).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, cast

from dhcpbridge.engine.class_handlers import Classes6, ClassOptions6
from dhcpbridge.engine.core import Dest, Engine, Outcome
from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.records import Meta6
from dhcpbridge.engine.v6.classify import Classify, SelectSubnet, ServerIdentity
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.lease import AskSources, Bindings
from dhcpbridge.engine.v6.links import AnswerLink
from dhcpbridge.engine.v6.reply import BuildReply
from dhcpbridge.engine.v6.transaction import MESSAGE_NAMES6 as _NAMES
from dhcpbridge.engine.v6.transaction import Transaction6, message_name6
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, encode6, parse6, wrap_relay_reply
from dhcpbridge.wire.v6.options import Encoded

# Final: compiled, int literals folded into the code (no lookup in the module's dict)
_RELAY_FORW: Final = 12
_RELAY_SOURCE_PORT: Final = 135
_LEASEQUERY: Final = 14

#: What ``Engine6.process`` returns (``outcome.dest`` says where the reply goes).
Outcome6 = Outcome[Transaction6]


Step6 = Callable[[Env6], Handler[Transaction6]]
#: The built-in handlers, in pipeline order.
STEPS: tuple[Step6, ...] = (Classify, SelectSubnet, ServerIdentity, AskSources, Bindings, BuildReply)


class Engine6(Engine[Transaction6, Meta6, Env6]):
    """``Engine6(env, extra=(), before=())``: unwraps relays, runs ``STEPS`` between the user's
    ``before`` and ``extra`` handlers, wraps the reply for the relays and says where it goes."""

    def start(self, data: bytes, meta: Meta6, now: float, io: bool) -> Transaction6:
        msg = parse6(data)
        relays: list[RelayMessage6] = []
        while type(msg) is RelayMessage6:
            if msg.msg_type != _RELAY_FORW:
                raise CannotRespond("relay-reply-received")
            relays.append(msg)
            inner = msg.message
            if inner is None:  # parse6 guarantees a Relay Message option; be safe anyway
                raise CannotRespond("malformed:no-relay-msg")
            msg = inner
        return Transaction6(cast(Message6, msg), relays, meta, now, io)

    def name(self, code: int) -> str:
        return _NAMES.get(code) or message_name6(code)

    def encode(self, tx: Transaction6) -> bytes | None:
        reply = tx.reply
        if reply is None:
            return None
        extra = tx.reply_options
        if extra:
            kept = [o for o in reply.options if o.code not in extra]
            reply.options = kept + [Encoded(code, body) for code, body in extra.items()]
        return encode6(wrap_relay_reply(reply, tx.relays)) if tx.relays else encode6(reply)

    def destination(self, tx: Transaction6, meta: Meta6) -> Dest:
        relays = tx.relays
        if relays:
            port = meta.src_port if relays[0].has(_RELAY_SOURCE_PORT) else self.env.relay_port
        elif tx.msg_type_code == _LEASEQUERY:  # RFC 5007: back to the requester's own port
            port = meta.src_port
        else:
            port = self.env.client_port
        scope = meta.ifindex if meta.src.startswith("fe80:") else 0
        return (meta.src, port, 0, scope)

    def builtins(self, env: Env6) -> list[Handler[Transaction6]]:
        steps = [step(env) for step in STEPS]
        if env.answer_links:  # bridge-only mode: the answer makes the link (after AskSources)
            steps.insert(STEPS.index(Bindings), AnswerLink(env))
        if env.classes:  # [[class]]: classify before the sources are asked, options at the end
            steps.append(ClassOptions6(env))
            steps.insert(STEPS.index(AskSources), Classes6(env))
        return steps
