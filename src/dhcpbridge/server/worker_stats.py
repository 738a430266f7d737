"""``stats`` for ``[server] workers``: the worker that serves the control socket and the API
(worker 0) asks its siblings for their counters over their private Unix sockets (``GET /stats``)
and answers with the sum, so ``dhcpbridge`` ``stats`` and ``GET /v1/stats`` count every worker's
packets, not just its own."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from typing import Any

from dhcpbridge.server.aggregate import get

#: store-wide figures: every worker reads the same store, so they are not added up
STORE_WIDE = frozenset({"leases"})


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def add(total: dict[str, Any], part: Mapping[str, Any]) -> None:
    """Add ``part``'s numbers into ``total`` (nested dicts key by key; other values: first wins)."""
    for key, value in part.items():
        if key not in total:
            total[key] = copy.deepcopy(value)
            continue
        mine = total[key]
        if isinstance(value, Mapping) and isinstance(mine, dict):
            add(mine, value)
        elif _number(value) and _number(mine):
            total[key] = mine + value


def merge(snapshots: Sequence[tuple[int, Mapping[str, Any]]], count: int) -> dict[str, Any]:
    """One snapshot of the workers' ``(index, snapshot)`` (the first is the asking worker's):
    counters added up, store-wide figures taken once, and ``workers`` saying who answered."""
    total: dict[str, Any] = {}
    for _, snap in snapshots:
        add(total, {k: v for k, v in snap.items() if k not in STORE_WIDE})
    if snapshots:
        total.update({k: v for k, v in snapshots[0][1].items() if k in STORE_WIDE})
    answered = sorted(index for index, _ in snapshots)
    total["workers"] = {
        "count": count,
        "counted": answered,
        "missing": [i for i in range(count) if i not in answered],
    }
    return total


async def gather(
    own: tuple[int, Mapping[str, Any]], peers: Sequence[tuple[int, str]], count: int
) -> dict[str, Any]:
    """``own`` snapshot plus what each peer ``(index, socket path)`` answers on ``/stats``; a peer
    that does not answer (restarting, gone) is listed under ``workers.missing``."""
    snapshots: list[tuple[int, Mapping[str, Any]]] = [own]
    for index, path in peers:
        try:
            status, text = await get(path, "/stats")
        except Exception:  # aiohttp.ClientError, OSError, a timeout: a worker going away
            continue
        if status == 200:
            snapshots.append((index, json.loads(text)))
    return merge(snapshots, count)
