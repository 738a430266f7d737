"""The error a server start ends with."""

from __future__ import annotations

import errno


class StartError(Exception):
    """The server cannot start (socket, store or config problem); the message says why."""


def in_use(exc: OSError) -> str:
    """Why a bind failed, with a hint when another process already has the port."""
    text = exc.strerror or str(exc)
    if exc.errno == errno.EADDRINUSE:
        text += " (another DHCP server, or another dhcpbridge, listens there)"
    return text
