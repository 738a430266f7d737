"""The DHCPv4 engine: bytes and receive metadata in, an ``Outcome4`` (reply bytes, destination in
the transaction, effects, or the reason for silence) out. Pure: the caller passes ``now``."""

from __future__ import annotations

from collections.abc import Callable

from dhcpbridge.engine.class_handlers import Classes4, ClassOptions4
from dhcpbridge.engine.core import Engine, Outcome
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.records import Meta4
from dhcpbridge.engine.v4.classify import Classify, SelectSubnet, ServerIdentity
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.lease import AskSources, Bindings
from dhcpbridge.engine.v4.links import AnswerLink
from dhcpbridge.engine.v4.reply import ApplyOptions, BuildReply, Destination, EchoRelayInfo
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.wire.v4.message import encode, parse
from dhcpbridge.wire.v4.options import MESSAGE_NAMES

#: What ``Engine4.process`` returns (``outcome.tx`` is a ``Transaction4``).
Outcome4 = Outcome[Transaction4]


#: The built-in handlers, in pipeline order (each made with the ``Env4``).
STEPS: tuple[Callable[[Env4], Handler[Transaction4]], ...] = (
    Classify,
    SelectSubnet,
    ServerIdentity,
    AskSources,
    Bindings,
    BuildReply,
    ApplyOptions,
    EchoRelayInfo,
    Destination,
)


class Engine4(Engine[Transaction4, Meta4, Env4]):
    """Runs the v4 pipeline: ``Engine4(env, extra=(), before=())``; ``before`` handlers run
    before the built-in ones of each phase, ``extra`` handlers after them."""

    def builtins(self, env: Env4) -> list[Handler[Transaction4]]:
        steps = [step(env) for step in STEPS]
        if env.answer_links:  # bridge-only mode: the answer makes the link (after AskSources)
            steps.insert(STEPS.index(Bindings), AnswerLink(env))
        if env.classes:  # [[class]]: classify before the sources are asked, options after ours
            steps.insert(
                steps.index(next(s for s in steps if isinstance(s, EchoRelayInfo))), ClassOptions4(env)
            )
            steps.insert(STEPS.index(AskSources), Classes4(env))
        return steps

    def start(self, data: bytes, meta: Meta4, now: float, io: bool) -> Transaction4:
        return Transaction4(parse(data), meta, now, io)

    def name(self, code: int) -> str:
        return MESSAGE_NAMES.get(code, "BOOTP")

    def reply_name(self, tx: Transaction4) -> str:
        """A BOOTP request's reply is a BOOTREPLY (no option 53), whatever reply type was built."""
        return self.name(tx.reply_type) if tx.msg_type_code else "BOOTREPLY"

    def encode(self, tx: Transaction4) -> bytes | None:
        reply = tx.reply
        if reply is None:
            return None
        extra = tx.reply_options
        if extra:
            opts = reply.options
            relay_info = opts.pop(82, None)
            opts.update(extra)
            if relay_info is not None:  # RFC 3046 §2.2: option 82 stays the last option
                opts[82] = opts.pop(82, relay_info)
        return encode(reply, tx.max_size)
