"""The handlers of client classes (issue 13 §3), added to a family's pipeline only when the config
has ``[[class]]`` tables: ``Classes4`` / ``Classes6`` (pre, before the sources are asked, so the
bridge question carries ``classes``) put the request in its classes; ``ClassOptions4`` /
``ClassOptions6`` (post) add what the classes give. Precedence: the source's answer, then the
classes in configured order, then the subnet; a class option goes out when the client asks for
it (v4 option 55 / v6 ORO; every one when a v4 client sends no option 55)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dhcpbridge.engine.classes import ClientClass, classify, facts4, facts6
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.v6.options import Encoded

NAK = 6
LEASEQUERY = 10
LEASEQUERY6 = 14


class _Classes:
    def __init__(self, env: Any) -> None:
        self.classes: tuple[ClientClass, ...] = env.classes
        self.by_name = {c.name: c for c in self.classes}

    def matched(self, names: tuple[str, ...]) -> list[ClientClass]:
        return [self.by_name[n] for n in names if n in self.by_name]

    def chosen(self, names: tuple[str, ...], table: str, wanted: Callable[[int], bool]) -> dict[int, Any]:
        """Per option code, the value of the first of the classes ``names`` whose ``table``
        (``options4`` / ``options6``) has it, for the codes ``wanted`` says go out."""
        out: dict[int, Any] = {}
        for cls in self.matched(names):
            for code, value in getattr(cls, table).items():
                if code not in out and wanted(code):
                    out[code] = value
        return out


class _Classify(_Classes):
    """Put the request in its classes (``pre``), from the facts ``facts`` reads of it; a
    LEASEQUERY (message type ``leasequery``) gets none: its requester is not the client."""

    facts: Callable[[Any], Any]
    leasequery: int

    def pre(self, tx: Any) -> None:
        if tx.msg_type_code != self.leasequery:
            tx.classes = tuple(c.name for c in classify(self.classes, self.facts(tx)))


class Classes4(_Classify, Handler[Transaction4]):
    facts = staticmethod(facts4)
    leasequery = LEASEQUERY


class Classes6(_Classify, Handler[Transaction6]):
    facts = staticmethod(facts6)
    leasequery = LEASEQUERY6


class ClassOptions4(_Classes, Handler[Transaction4]):
    def post(self, tx: Transaction4) -> None:
        reply = tx.reply
        if reply is None or tx.reply_type == NAK or not tx.classes:
            return
        answer = tx.answer
        given = answer.options if answer is not None else {}
        prl = tx.prl
        reply.options.update(
            self.chosen(tx.classes, "options4", lambda code: code not in given and (not prl or code in prl))
        )
        answered_boot = answer is not None and (answer.boot_file or answer.next_server)
        if answered_boot:
            return
        for cls in self.matched(tx.classes):
            if cls.boot_file:
                reply.file = cls.boot_file[:127]
                break
        for cls in self.matched(tx.classes):
            if cls.next_server:
                reply.siaddr = cls.next_server
                break


class ClassOptions6(_Classes, Handler[Transaction6]):
    def post(self, tx: Transaction6) -> None:
        reply = tx.reply
        if reply is None or not tx.classes:
            return
        asked = set(tx.requested_options)
        answer = tx.answer
        given = answer.options if answer is not None else {}
        chosen: dict[int, tuple[Encoded, ...]] = self.chosen(
            tx.classes, "options6", lambda code: code in asked and code not in given
        )
        if chosen:
            kept = [o for o in reply.options if o.code not in chosen]
            reply.options = kept + [item for items in chosen.values() for item in items]
