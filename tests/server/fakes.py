"""Stand-ins for the server tests: an engine, outcomes, a socket that returns batches, a store
whose flush can fail, and ``Harness``: an endpoint over them with a real group commit."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from dhcpbridge.engine.chain import NeedsIO
from dhcpbridge.engine.model import Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases.base import StoreBusy, StoreError
from dhcpbridge.server.commit import GroupCommit
from dhcpbridge.server.endpoint import Endpoint
from dhcpbridge.server.tasks import TaskOwner


class Meta:
    def __init__(self, name: str = "m") -> None:
        self.name = name

    def log_fields(self) -> dict[str, str]:
        return {"meta": self.name}


def lease(address: int = 0x0A430064, client: bytes = b"\x01\x02") -> Lease:
    return Lease(
        kind=LeaseKind.V4,
        address=address,
        client=client,
        state=LeaseState.BOUND,
        starts=0.0,
        expires=3600.0,
    )


class Outcome:
    """``data`` b"": a reply; ``grants``: it commits a lease (waits for the flush)."""

    def __init__(self, data: bytes | None, grants: bool = False, drop: str | None = None) -> None:
        self.data = data
        self.drop_reason = drop
        self.drop_detail = ""
        self.effects: list[LeaseEvent] = [LeaseEvent("commit", lease(), self)] if grants else []
        self.tx = None

    def log_fields(self) -> dict[str, Any]:
        return {}


class Recorder:
    """A lease event listener that keeps what it gets."""

    def __init__(self) -> None:
        self.events: list[LeaseEvent] = []

    def notify(self, event: LeaseEvent) -> None:
        self.events.append(event)


class Engine:
    """Turns datagrams into outcomes: b"...grant..." commits a lease, b"drop..." is dropped, b"io..."
    raises ``NeedsIO`` unless run with IO, b"boom" fails, b"store..." finds the store unreachable
    (``StoreError``), b"busy..." finds it up but its queue full (``StoreBusy``), anything else is
    a plain reply."""

    extra_async = False

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, bool]] = []

    async def process(self, data: bytes, meta: Any, now: float, io: bool = False) -> Outcome:
        self.calls.append((data, io))
        if data.startswith(b"io") and not io:
            raise NeedsIO()
        if data == b"boom":
            raise RuntimeError("engine bug")
        if data.startswith(b"busy"):
            raise StoreBusy("every pool connection is busy")
        if data.startswith(b"store"):
            raise StoreError("connection refused")
        if data.startswith(b"drop"):
            return Outcome(None, drop="test")
        return Outcome(b"reply:" + data, grants=b"grant" in data)


class Socket:
    """Returns the queued batches one ``receive`` at a time (at most ``limit`` datagrams)."""

    port = 67
    oversized = 0

    def __init__(self, batches: Iterable[list[bytes]]) -> None:
        self.batches = [list(b) for b in batches]
        self.receives: list[int] = []
        self.closed = False

    def fileno(self) -> int:
        return -1

    def receive(self, limit: int) -> list[tuple[bytes, Any]]:
        self.receives.append(limit)
        if not self.batches:
            return []
        batch = self.batches[0][:limit]
        del self.batches[0][:limit]
        if not self.batches[0]:
            self.batches.pop(0)
        return [(data, Meta(data.decode("latin-1"))) for data in batch]

    def close(self) -> None:
        self.closed = True


class Store:
    """Only what the group commit uses: ``flush`` (fails while ``fail`` is set)."""

    inline = True

    def __init__(self) -> None:
        self.flushes = 0
        self.fail = False

    async def flush(self) -> None:
        if self.fail:
            raise StoreError("disk full")
        self.flushes += 1


class Harness:
    def __init__(self, batches: Iterable[list[bytes]], inline: bool = True) -> None:
        self.loop = asyncio.get_running_loop()
        self.store = Store()
        self.tasks = TaskOwner()
        self.tasks.bind(self.loop)
        self.commits = GroupCommit(self.store, self.loop, self.tasks)  # type: ignore[arg-type]
        self.sock = Socket(batches)
        self.engine = Engine()
        self.stats = Stats()
        self.sent: list[bytes] = []
        self.events: list[LeaseEvent] = []
        self.endpoint = Endpoint(
            "v4", self.sock, self.engine, self.send, self.stats, self.commits, self.tasks, self.events.append
        )
        self.endpoint.inline = inline

    def send(self, outcome: Any, meta: Any) -> None:
        self.sent.append(outcome.data)

    async def settle(self) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        await self.tasks.close()
