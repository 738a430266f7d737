"""``dhcpbridge`` with one test-only store more: ``shared-memory://``, a memory store that says it is
shared (``claim_role``), so that ``[server] workers`` can be tested without Redis. It is a double:
each process has its own memory, so the workers do NOT share leases; the supervisor tests only
look at processes, signals and the aggregated endpoints. Run as ``python shared_program.py serve
--config FILE``; the supervisor starts its workers with this same program (``workers.PROGRAM``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, cast

from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.leases.registry import Backend, register
from dhcpbridge.server import workers


class SharedMemoryStore:
    """A memory store (delegated to: the compiled class cannot be subclassed) that claims to be
    shared; every role claim succeeds."""

    def __init__(self) -> None:
        self._inner = MemoryStore()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def claim_role(self, role: str, owner: str, ttl: float) -> bool:
        return True


def _open(url: str, base_dir: Path | None, readonly: bool) -> LeaseStore:
    return cast(LeaseStore, SharedMemoryStore())


def register_store() -> None:
    """Make ``shared-memory://`` known to this process's store registry (and its config checks)."""
    register("shared-memory", Backend("shared-memory://", _open))


def install() -> None:
    register_store()
    workers.PROGRAM = [sys.executable, str(Path(__file__).resolve())]


if __name__ == "__main__":
    install()
    from dhcpbridge.cli import main

    main()
