"""One looking-glass exchange as JSON: the request and the reply decoded (every option with its
code, name and value; the v4 relay agent information and the v6 relay chain included), and the
decision path (the pipeline's steps, the hook that dropped it, the source that answered).

Runs only when someone looks (the API, the control socket), never on the packet path. A reply
that does not parse (it always should: we encoded it) is shown as hex with the reason.
"""

from __future__ import annotations

import datetime
from typing import Any

from dhcpbridge.glass.ring import Entry, LookingGlass
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4 import options as options4
from dhcpbridge.wire.v4.message import BOOTREPLY, Message4, ip4_str, parse
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, message6_to_json, parse6

FLAG_BROADCAST = 0x8000


def _text(value: bytes) -> str | None:
    """The bytes as text when they are printable ASCII (circuit-ids often are)."""
    try:
        text = value.decode("ascii")
    except UnicodeDecodeError:
        return None
    return text if text.isprintable() else None


def _option4(code: int, value: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "name": options4.option_name(code)}
    if code == options4.Opt.RELAY_AGENT_INFO:
        try:
            subs = options4.parse_suboptions(value)
        except FormError:
            out["value"] = value.hex(":")
            return out
        out["value"] = {
            _sub_name(sub): {"hex": raw.hex(":"), **({"text": t} if (t := _text(raw)) else {})}
            for sub, raw in subs.items()
        }
        return out
    out["value"] = options4.decode_for_display(code, value)
    return out


def _sub_name(code: int) -> str:
    known = options4.RelaySub._value2member_map_
    return options4.RelaySub(code).name.lower().replace("_", "-") if code in known else str(code)


def type_name4(msg: Message4) -> str:
    """Option 53's name, or for BOOTP (no option 53) the header's op: BOOTREQUEST / BOOTREPLY."""
    if msg.msg_type:
        return options4.MESSAGE_NAMES.get(msg.msg_type, str(msg.msg_type))
    return "BOOTREPLY" if msg.op == BOOTREPLY else "BOOTREQUEST"


def message4_to_json(msg: Message4) -> dict[str, Any]:
    """Header fields and every option (in wire order) of a DHCPv4 message."""
    out: dict[str, Any] = {
        "type": type_name4(msg),
        "op": msg.op,
        "xid": f"{msg.xid:#010x}",
        "secs": msg.secs,
        "flags": "broadcast" if msg.flags & FLAG_BROADCAST else "unicast",
        "hops": msg.hops,
        "chaddr": msg.mac.hex(":"),
        "ciaddr": ip4_str(msg.ciaddr),
        "yiaddr": ip4_str(msg.yiaddr),
        "siaddr": ip4_str(msg.siaddr),
        "giaddr": ip4_str(msg.giaddr),
    }
    if msg.sname.strip(b"\0"):
        out["sname"] = msg.sname.rstrip(b"\0").decode("ascii", "replace")
    if msg.file.strip(b"\0"):
        out["file"] = msg.file.rstrip(b"\0").decode("ascii", "replace")
    out["options"] = [_option4(code, value) for code, value in msg.options.items()]
    return out


def _message(entry: Entry, data: Any) -> dict[str, Any]:
    if isinstance(data, Message4):
        return message4_to_json(data)
    if isinstance(data, Message6 | RelayMessage6):
        return message6_to_json(data)
    try:
        if entry.family == "v4":
            return message4_to_json(parse(data))
        return message6_to_json(parse6(data))
    except FormError as exc:
        return {"malformed": str(exc), "hex": bytes(data).hex(":")}


def _meta(entry: Entry) -> dict[str, Any]:
    src, port, ifname = entry.meta
    if entry.family == "v4":
        return {"src": f"{ip4_str(src)}:{port}", "interface": ifname}
    return {"src": f"[{src}]:{port}", "interface": ifname}


def decision(entry: Entry) -> dict[str, Any]:
    """How the server decided: the steps it runs, where a drop happened, who answered."""
    out: dict[str, Any] = {
        "status": entry.status,
        "steps": list(entry.steps),
        "subnet": entry.subnet or None,
        "source": entry.source or None,
        "action": entry.action or None,
        "state": entry.state or None,
        "handle_ended_early": entry.done,
        "drop_reason": entry.drop_reason,
        "drop_detail": entry.drop_detail or None,
        "dropped_by": entry.dropped_by or None,
    }
    return out


def exchange_to_json(entry: Entry) -> dict[str, Any]:
    """One exchange (see the module docstring)."""
    return {
        "time": datetime.datetime.fromtimestamp(entry.time, datetime.UTC).isoformat(),
        "timestamp": entry.time,
        "family": entry.family,
        "received": _meta(entry),
        "request": _message(entry, entry.request),
        "reply": _message(entry, entry.reply) if entry.reply is not None else None,
        "reply_to": f"{entry.dest[0]}:{entry.dest[1]}" if entry.dest is not None else None,
        "decision": decision(entry),
    }


def client_to_json(family: str, key: bytes, entries: list[Entry], limit: int | None = None) -> dict[str, Any]:
    """One client's view: its identifiers (from its latest exchange) and its exchanges, newest
    first (at most ``limit``)."""
    latest = entries[-1]
    ids = {name: value.hex(":") for name, value in latest.ids if value}
    texts = {
        f"{name}-text": t for name, value in latest.ids if value and name != "mac" and (t := _text(value))
    }
    chosen = entries[::-1][:limit] if limit is not None else entries[::-1]
    return {
        "client": key.hex(":"),
        "family": family,
        "identifiers": {**ids, **texts},
        "last_seen": datetime.datetime.fromtimestamp(latest.time, datetime.UTC).isoformat(),
        "exchanges": [exchange_to_json(e) for e in chosen],
    }


def message_type(entry: Entry, data: Any) -> str:
    """The (innermost) message type of a request or reply of ``entry``."""
    try:
        if entry.family == "v4":
            msg = data if isinstance(data, Message4) else parse(data)
            return type_name4(msg)
        msg6 = data if isinstance(data, Message6 | RelayMessage6) else parse6(data)
    except FormError:
        return "malformed"
    while isinstance(msg6, RelayMessage6) and msg6.message is not None:
        msg6 = msg6.message
    return msg6.type_name


def summary_to_json(family: str, key: bytes, entries: list[Entry]) -> dict[str, Any]:
    """One line about a client (the dashboard's list of recent clients)."""
    latest = entries[-1]
    return {
        "client": key.hex(":"),
        "family": family,
        "last_seen": datetime.datetime.fromtimestamp(latest.time, datetime.UTC).isoformat(),
        "exchanges": len(entries),
        "request": message_type(latest, latest.request),
        "reply": message_type(latest, latest.reply) if latest.reply is not None else None,
        "status": latest.status,
        "drop_reason": latest.drop_reason,
    }


def view(glass: LookingGlass, client: str, limit: int | None = None) -> list[dict[str, Any]]:
    """Every client ``client`` names (see ``LookingGlass.find``), as JSON, most recent first."""
    return [client_to_json(family, key, entries, limit) for family, key, entries in glass.find(client)]


def recent(glass: LookingGlass, limit: int = 50) -> list[dict[str, Any]]:
    """The most recently seen clients, one line each."""
    return [summary_to_json(family, key, entries) for family, key, entries in glass.recent(limit)]
