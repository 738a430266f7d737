"""JSON-friendly views of DHCPv4 option values, for the probe, logs and the API."""

from __future__ import annotations

from typing import Any

from dhcpbridge.wire import values
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.codes import MESSAGE_NAMES, Opt, RelaySub
from dhcpbridge.wire.v4.registry import BY_CODE
from dhcpbridge.wire.v4.structured import ClientFqdn, parse_suboptions

__all__ = ["decode_for_display"]


def _sub_name(code: int) -> str:
    return RelaySub(code).name.lower() if code in RelaySub._value2member_map_ else str(code)


def decode_for_display(code: int, data: bytes) -> Any:
    """A JSON-friendly rendering of one option value (for the probe, logs and the API); a value
    that does not decode is shown as colon hex."""
    if code == Opt.MESSAGE_TYPE and len(data) == 1:
        return MESSAGE_NAMES.get(data[0], str(data[0]))
    try:
        if code == Opt.RELAY_AGENT_INFO:
            return {_sub_name(k): v.hex(":") for k, v in parse_suboptions(data).items()}
        if code == Opt.CLIENT_FQDN:
            fq = ClientFqdn.from_wire(data)
            return {"flags": fq.flags, "name": fq.name}
        definition = BY_CODE.get(code)
        if definition is not None:
            return values.decode(definition.kind, data)
    except FormError:
        pass
    return data.hex(":")
