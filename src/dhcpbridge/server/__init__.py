"""The running server: sockets on the event loop, the engines, the store, signals and reload.

``endpoint`` is the packet loop (drain, process, commit once, send), ``commit`` the group commit,
``delivery`` where replies go, ``reaper`` the periodic lease work, ``reload`` what start and
reload share, ``tasks`` the owner of every task, ``metrics_http`` the /metrics endpoint and
``lifecycle`` the ``Server`` that owns them all.
"""

from __future__ import annotations

from dhcpbridge.server.errors import StartError
from dhcpbridge.server.lifecycle import Addon, Server, tune_gc

__all__ = ["Addon", "Server", "StartError", "tune_gc"]
