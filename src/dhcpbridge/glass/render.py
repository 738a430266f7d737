"""The looking glass for a terminal: one rich table per client (``dhcpbridge looking-glass``),
from the JSON the API and the control socket give."""

from __future__ import annotations

import datetime
from typing import Any

from rich.table import Table


def _given(reply: dict[str, Any] | None) -> str:
    """What the reply hands out: the v4 yiaddr, or the v6 addresses / prefixes."""
    if reply is None:
        return ""
    if "yiaddr" in reply:
        return reply["yiaddr"] if reply["yiaddr"] != "0.0.0.0" else ""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key in ("address", "prefix"):
                if isinstance(value.get(key), str):
                    found.append(value[key])
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(reply.get("options", []))
    return ", ".join(dict.fromkeys(found))


def _type(msg: dict[str, Any] | None) -> str:
    """The innermost message type (a v6 relay chain is unwrapped)."""
    while msg is not None:
        inner = next((o["value"] for o in msg.get("options", []) if o.get("code") == 9), None)
        if not isinstance(msg.get("options"), list) or not isinstance(inner, dict) or "type" not in msg:
            break
        if not str(msg["type"]).startswith("RELAY"):
            break
        msg = inner
    return str(msg["type"]) if msg is not None else ""


def tables(clients: list[dict[str, Any]]) -> list[Table]:
    out = []
    for client in clients:
        ids = ", ".join(f"{k} {v}" for k, v in client["identifiers"].items())
        table = Table(title=f"{client['family']} client {client['client']} ({ids})")
        for col in ("time", "request", "reply", "gives", "status", "subnet", "source", "why"):
            table.add_column(col)
        for ex in client["exchanges"]:
            d = ex["decision"]
            when = datetime.datetime.fromtimestamp(ex["timestamp"]).strftime("%H:%M:%S.%f")[:-3]
            why = " ".join(x for x in (d["drop_reason"], d["dropped_by"] and f"by {d['dropped_by']}") if x)
            table.add_row(
                when,
                _type(ex["request"]),
                _type(ex["reply"]) if ex["reply"] else "-",
                _given(ex["reply"]),
                d["status"],
                d["subnet"] or "",
                d["source"] or "",
                why or (d["drop_detail"] or ""),
            )
        out.append(table)
    return out
