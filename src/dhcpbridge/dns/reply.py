"""The client FQDN option back in the reply (RFC 4702 §3.2 for option 81, RFC 4704 §4.1 for
option 39): a post handler the server adds when ``[dns]`` is on.

The flags say what the server will do: S = 1 when we update the forward record, O = 1 when we do
so although the client asked to do it itself (``override-client-update``), N copied from the
client (then S = 0). The name is the client's, in the encoding it used (v4: E flag); the
deprecated RCODE octets are 255 (§2.2).
"""

from __future__ import annotations

from typing import Any

from dhcpbridge.dns.names import FLAG_E, FLAG_N, FLAG_N6, FLAG_O, FLAG_S
from dhcpbridge.engine.pipeline import Handler

V4_REPLIES = frozenset({2, 5})  # OFFER, ACK
V6_REPLIES = frozenset({2, 7})  # ADVERTISE, REPLY


def reply_flags(client_flags: int, n_flag: int, override: bool) -> int:
    """The server's S/O/N for a client's flags (``n_flag``: where N sits in this family)."""
    if client_flags & n_flag:
        return n_flag
    if client_flags & FLAG_S:
        return FLAG_S
    return FLAG_S | FLAG_O if override else 0


class ClientFqdnReply(Handler[Any]):
    """Echo option 81 (v4) / option 39 (v6) with the server's flags into OFFER/ACK, ADVERTISE/REPLY."""

    def __init__(self, override_client_update: bool = False) -> None:
        self.override = override_client_update

    def post(self, tx: Any) -> None:
        if tx.protocol == 4:
            if tx.reply_type not in V4_REPLIES:
                return
            value = tx.request.options.get(81)
            if not value or len(value) < 3:
                return
            flags = reply_flags(value[0], FLAG_N, self.override) | (value[0] & FLAG_E)
            tx.reply_options[81] = bytes((flags, 255, 255)) + value[3:]
            return
        if tx.reply_type not in V6_REPLIES:
            return
        raw = tx.request.raw(39)
        if not raw:
            return
        tx.reply_options[39] = bytes((reply_flags(raw[0], FLAG_N6, self.override),)) + raw[1:]
