"""Post-phase handler: build the ADVERTISE / REPLY (RFC 8415 §18.3): Client and Server Identifier,
the IAs, a top-level status, Rapid Commit, and the configured options the client asked for.

The reply is a ``Message6`` of pre-encoded options (``Encoded``): user post handlers, which run
after this one, may append, remove or replace options before the engine encodes it.
"""

from __future__ import annotations

import struct
from typing import Final

from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.v6.classify import REPLY
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.ia import status_bytes
from dhcpbridge.engine.v6.lease import ADVERTISE
from dhcpbridge.engine.v6.reconfigure import key_options
from dhcpbridge.engine.v6.subnet import OptionSet
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.v6.message import Message6
from dhcpbridge.wire.v6.options import Encoded, MessageType6, Option6, OptionCode6

# Final: compiled, a module constant is a C static, not a lookup in the module's dict per use
_U16: Final = struct.Struct("!H")
LEASEQUERY_REPLY: Final = MessageType6.LEASEQUERY_REPLY
RAPID_COMMIT: Final = Encoded(OptionCode6.RAPID_COMMIT, b"")
PREFERENCE: Final = OptionCode6.PREFERENCE
#: Options that belong only in a Reply to Information-request (RFC 8415 §21.23, §21.25).
INFO_ONLY: Final = frozenset({OptionCode6.INFORMATION_REFRESH_TIME, OptionCode6.INF_MAX_RT})
_EMPTY: Final[OptionSet] = {}
_STATUS_CODE: Final = 13  # OptionCode6.STATUS_CODE as an int literal
_LEASEQUERY_REPLY: Final = 15  # LEASEQUERY_REPLY, likewise: compared without a call
_SOLICIT: Final = 1
_INFORMATION_REQUEST: Final = 11


class BuildReply(Handler[Transaction6]):
    """See the module docstring."""

    def __init__(self, env: Env6) -> None:
        self.env = env
        self._cache: dict[tuple[int, bytes, bool], tuple[OptionSet, tuple[Encoded, ...]]] = {}

    def _select(self, options: OptionSet, oro: bytes, info: bool) -> tuple[Encoded, ...]:
        """The configured options named in the ORO, in ORO order (cached per option set and ORO)."""
        key = (id(options), oro, info)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is options:
            return hit[1]
        chosen: list[Encoded] = []
        seen: set[int] = set()
        for (code,) in _U16.iter_unpack(oro[: len(oro) & ~1]):
            if code in seen or code == PREFERENCE or (code in INFO_ONLY and not info):
                continue
            seen.add(code)
            chosen.extend(options.get(code, ()))
        items = tuple(chosen)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = (options, items)
        return items

    def post(self, tx: Transaction6) -> None:
        kind = tx.reply_type
        if not kind or tx.drop_reason is not None or kind == _LEASEQUERY_REPLY:  # (built whole)
            return
        env = self.env
        opts: list[Option6] = []
        if tx.client_option is not None:
            opts.append(tx.client_option)
        opts.append(env.server_id)
        opts.extend(tx.reply_ias)
        status = tx.status
        if status is not None:
            wire = status_bytes(status)
            opts.append(Encoded(_STATUS_CODE, wire[4:], wire))
        if tx.state == "use-multicast":  # RFC 8415 §18.4: nothing else
            tx.reply = Message6(kind, tx.request.transaction_id, opts)
            return
        if kind == ADVERTISE and status is not None and not tx.reply_ias:
            tx.reply = Message6(kind, tx.request.transaction_id, opts)  # RFC 8415 §18.3.9
            return
        if tx.state == "rapid-commit" and tx.msg_type_code == _SOLICIT:
            opts.append(RAPID_COMMIT)
        subnet = tx.subnet
        options = subnet.options if subnet is not None else env.options or _EMPTY
        if kind == ADVERTISE:
            pref = options.get(PREFERENCE)
            if pref:
                opts.extend(pref)
        answer = tx.answer
        extra = answer.options if answer is not None else None
        if tx.oro and options:
            chosen = self._select(options, tx.oro, tx.msg_type_code == _INFORMATION_REQUEST)
            if extra:  # the source's options for this client replace the configured ones
                chosen = tuple(o for o in chosen if o.code not in extra)
            opts.extend(chosen)
        if extra:
            opts.extend(Encoded(code, body) for code, body in extra.items())
        if kind == REPLY and env.reconfigure_secret:  # Reconfigure Accept + the client's key
            opts.extend(key_options(env, tx))
        tx.reply = Message6(kind, tx.request.transaction_id, opts)
