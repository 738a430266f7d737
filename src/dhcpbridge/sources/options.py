"""Option values as the config and reservation files write them, encoded to option bytes: one
place for both families, used by assembly (subnet and server options) and by the sources."""

from __future__ import annotations

from typing import Any

from dhcpbridge.wire.v4 import options as options4
from dhcpbridge.wire.v6 import options as options6
from dhcpbridge.wire.v6.options import Encoded


def encode_options4(raw: dict[str, Any]) -> dict[int, bytes]:
    """``{name or code: value}`` -> ``{code: body}`` (``ValueError`` names what does not fit)."""
    out: dict[int, bytes] = {}
    for key, value in raw.items():
        code, data = options4.encode_config_option(key, value)
        out[code] = data
    return out


def encode_options6(raw: dict[str, Any]) -> dict[int, tuple[Encoded, ...]]:
    """Configured options as ``code -> encoded options`` (an option that repeats, like RFC 5908
    ntp-servers with one instance per server, has several)."""
    out: dict[int, tuple[Encoded, ...]] = {}
    for key, value in raw.items():
        items = tuple(Encoded(code, body) for code, body in options6.encode_config_options6(key, value))
        if items:
            out[items[0].code] = items
    return out


def flat_options6(raw: dict[str, Any]) -> dict[int, bytes]:
    """``encode_options6`` with the body of each option's first instance (what an answer carries)."""
    return {code: items[0].data for code, items in encode_options6(raw).items()}
