"""Dropping root after the sockets are bound: ``[server] user`` / ``group``.

The lease store's directory and files (and the control socket) are handed to that user first, so
the journal can still be rotated; then the process keeps only ``CAP_NET_BIND_SERVICE`` and
``CAP_NET_RAW`` (``prctl(PR_SET_KEEPCAPS)``, ``setgroups``/``setgid``/``setuid``, ``capset``
through a few lines of ctypes) and runs as the user from then on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import grp
import os
import pwd
from collections.abc import Iterable
from pathlib import Path

CAP_NET_BIND_SERVICE = 10
CAP_NET_RAW = 13
KEEP = (1 << CAP_NET_BIND_SERVICE) | (1 << CAP_NET_RAW)
_PR_SET_KEEPCAPS = 8
_CAPABILITY_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def resolve(user: str, group: str | None) -> tuple[int, int]:
    """(uid, gid) of ``user`` and ``group`` (default: the user's primary group); ``ValueError``."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise ValueError(f"server.user {user!r} does not exist") from None
    if group is None:
        return entry.pw_uid, entry.pw_gid
    try:
        return entry.pw_uid, grp.getgrnam(group).gr_gid
    except KeyError:
        raise ValueError(f"server.group {group!r} does not exist") from None


def hand_over(paths: Iterable[Path], uid: int, gid: int) -> None:
    """Give the files the server keeps writing after the drop to the user."""
    for path in paths:
        if path.exists():
            os.chown(path, uid, gid)


def drop(uid: int, gid: int) -> None:
    """Become ``uid``/``gid`` (no supplementary groups), keeping only the ``KEEP`` capabilities."""
    libc = _libc()
    _check(libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    header = _Header(_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)(_Data(KEEP, KEEP, 0), _Data(0, 0, 0))
    _check(libc.capset(ctypes.byref(header), ctypes.byref(data)), "capset")
    _check(libc.prctl(_PR_SET_KEEPCAPS, 0, 0, 0, 0), "prctl(PR_SET_KEEPCAPS)")


def owned_files(store: object, dns_queue: object, control_socket: Path | None) -> list[Path]:
    """What the user must own to go on working: the store's directory and files (SQLite, its
    WAL, lock and journal), the DNS update queue (SQLite, written after the drop) and the control
    socket."""
    files: list[Path] = []
    path = getattr(store, "path", None)
    if isinstance(path, Path):
        files += [path.parent, *(Path(f"{path}{s}") for s in ("", "-wal", "-shm", ".lock", ".journal"))]
    if isinstance(dns_queue, Path):
        files += [dns_queue.parent, *(Path(f"{dns_queue}{s}") for s in ("", "-wal", "-shm", "-journal"))]
    if control_socket is not None:
        files.append(control_socket)
    return files
