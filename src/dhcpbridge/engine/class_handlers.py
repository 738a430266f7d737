"""The handlers of client classes (issue 13 §3), added to a family's pipeline only when the config
has ``[[class]]`` tables: ``Classes4`` / ``Classes6`` (pre, before the sources are asked, so the
bridge question carries ``classes``) put the request in its classes; ``ClassOptions4`` /
``ClassOptions6`` (post) add what the classes give. Precedence: the source's answer, then the
classes in configured order, then the subnet; a class option goes out when the client asks for
it (v4 option 55 / v6 ORO; every one when a v4 client sends no option 55)."""

from __future__ import annotations

from typing import Any

from dhcpbridge.engine.classes import ClientClass, classify, facts4, facts6
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.v4.transaction import Transaction4
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.v6.options import Encoded

NAK = 6
LEASEQUERY = 10


class _Classes:
    def __init__(self, env: Any) -> None:
        self.classes: tuple[ClientClass, ...] = env.classes
        self.by_name = {c.name: c for c in self.classes}

    def matched(self, names: tuple[str, ...]) -> list[ClientClass]:
        return [self.by_name[n] for n in names if n in self.by_name]


class Classes4(_Classes, Handler[Transaction4]):
    def pre(self, tx: Transaction4) -> None:
        if tx.msg_type_code == LEASEQUERY:  # the requester is not the client: no classes
            return
        tx.classes = tuple(c.name for c in classify(self.classes, facts4(tx)))


class ClassOptions4(_Classes, Handler[Transaction4]):
    def post(self, tx: Transaction4) -> None:
        reply = tx.reply
        if reply is None or tx.reply_type == NAK or not tx.classes:
            return
        answer = tx.answer
        given = answer.options if answer is not None else {}
        prl = tx.prl
        opts = reply.options
        done: set[int] = set()
        for cls in self.matched(tx.classes):
            for code, value in cls.options4.items():
                if code in done or code in given or (prl and code not in prl):
                    continue
                done.add(code)
                opts[code] = value
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


class Classes6(_Classes, Handler[Transaction6]):
    def pre(self, tx: Transaction6) -> None:
        tx.classes = tuple(c.name for c in classify(self.classes, facts6(tx)))


class ClassOptions6(_Classes, Handler[Transaction6]):
    def post(self, tx: Transaction6) -> None:
        reply = tx.reply
        if reply is None or not tx.classes:
            return
        asked = set(tx.requested_options)
        answer = tx.answer
        given = answer.options if answer is not None else {}
        chosen: dict[int, tuple[Encoded, ...]] = {}
        for cls in self.matched(tx.classes):
            for code, items in cls.options6.items():
                if code in asked and code not in given and code not in chosen:
                    chosen[code] = items
        if chosen:
            kept = [o for o in reply.options if o.code not in chosen]
            reply.options = kept + [item for items in chosen.values() for item in items]
