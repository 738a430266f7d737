"""Which addresses answer an ICMP echo (v4 and v6), checked concurrently by a pool of ``workers``
with a per-host ``timeout`` (icmplib; raw sockets as root, else the kernel's ping sockets)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from icmplib import async_multiping
from icmplib.exceptions import ICMPLibError


class VerifyError(Exception):
    """ICMP cannot be sent at all (no permission, no socket)."""


async def reachable(addresses: Sequence[str], timeout: float, workers: int = 64) -> set[str]:
    """The addresses of ``addresses`` that answered one echo request within ``timeout`` seconds."""
    if not addresses:
        return set()
    try:
        hosts = await async_multiping(
            list(addresses),
            count=1,
            timeout=timeout,
            concurrent_tasks=max(1, workers),
            privileged=os.geteuid() == 0,
        )
    except (ICMPLibError, OSError) as exc:
        raise VerifyError(f"cannot send ICMP echo: {exc}") from exc
    return {host.address for host in hosts if host.is_alive}
