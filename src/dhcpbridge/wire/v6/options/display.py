"""JSON-friendly views of DHCPv6 options for logs, the API and the diagnostic probe.

Typed options (every class in :data:`OPTION_CLASSES`, the Relay Message option included once
:mod:`dhcpbridge.wire.v6.message` has registered it) give structured values; options the
configuration registry names give their kind's value; anything else colon hex.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.options.base import OPTION_CLASSES, Option6, RawOption
from dhcpbridge.wire.v6.options.codes import option_name
from dhcpbridge.wire.v6.options.registry import configured_kind, decode_kind

__all__ = ["decode_option6_for_display", "options_to_json"]


def decode_option6_for_display(code: int, data: bytes) -> Any:
    """A JSON-friendly value for one option body; never raises.

    Typed options give structured values (IA_NA -> dict with nested options, ClientId -> DUID
    fields, RELAY_MSG -> the nested message, ...), registry options their kind's value, anything
    else colon hex. A malformed body gives ``{"malformed": reason, "hex": ...}``.
    """
    try:
        cls = OPTION_CLASSES.get(code)
        if cls is not None:
            return cls.from_wire(data).to_json()
        kind = configured_kind(code)
        if kind is not None:
            return decode_kind(kind, data)
    except FormError as exc:
        return {"malformed": exc.reason, "error": str(exc), "hex": bytes(data).hex(":")}
    return bytes(data).hex(":")


#: options inside options (relay messages, IAs, ...) are decoded this many levels deep: enough for
#: RFC 8415's 32 relay hops around a client message with IAs; deeper ones are shown as hex, so a
#: hostile message of nested options cannot exhaust the stack (``message6_to_json`` included)
MAX_NESTING = 40
_nesting = [0]


def options_to_json(options: Iterable[Option6]) -> list[dict[str, Any]]:
    """``[{"code": 23, "name": "dns-servers", "value": [...]}, ...]`` for a list of options."""
    out: list[dict[str, Any]] = []
    depth = _nesting[0]
    if depth >= MAX_NESTING:
        for opt in options:
            body = opt.data if isinstance(opt, RawOption) else opt.to_wire()
            out.append(
                {
                    "code": opt.code,
                    "name": option_name(opt.code),
                    "value": bytes(body).hex(":"),
                    "nested-too-deep": True,
                }
            )
        return out
    _nesting[0] = depth + 1
    try:
        for opt in options:
            if isinstance(opt, RawOption):
                value = decode_option6_for_display(opt.code, opt.data)
            else:
                value = opt.to_json()
            out.append({"code": opt.code, "name": option_name(opt.code), "value": value})
    finally:
        _nesting[0] = depth
    return out
