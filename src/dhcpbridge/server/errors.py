"""The error a server start ends with."""

from __future__ import annotations


class StartError(Exception):
    """The server cannot start (socket, store or config problem); the message says why."""
