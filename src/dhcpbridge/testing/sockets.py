"""Sockets opened inside a test's network namespace, from a process that stays outside it."""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from typing import Any

from dhcpbridge.testing.netns import Namespace

__all__ = ["socket_in"]

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def socket_in(ns: Namespace, family: int, kind: int, proto: int = 0) -> socket.socket:
    """A socket created inside ``ns``: a short-lived thread ``setns``-es into the namespace (which
    only moves that thread) and opens it. Bind/send/ioctl then act in that namespace, whatever
    thread uses the socket."""
    result: dict[str, Any] = {}

    def enter_and_open() -> None:
        try:
            fd = os.open(f"/run/netns/{ns.name}", os.O_RDONLY)
            try:
                if _libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns({ns.name}): {os.strerror(err)}")
            finally:
                os.close(fd)
            result["sock"] = socket.socket(family, kind, proto)
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=enter_and_open, name=f"setns-{ns.name}")
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    sock: socket.socket = result["sock"]
    return sock
