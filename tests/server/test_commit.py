"""Group commit: replies that grant leases leave only after the flush; a failed flush withholds
them (``store-unavailable``) and emits nothing."""

from __future__ import annotations

import asyncio
import time

from dhcpbridge.server import commit

from .fakes import Harness


async def test_grant_waits_for_the_flush() -> None:
    h = Harness([[b"grant1"]])
    order: list[str] = []
    flush = h.store.flush

    async def logged_flush() -> None:
        order.append("flush")
        await flush()

    h.store.flush = logged_flush  # type: ignore[method-assign]
    send = h.send

    def logged_send(outcome: object, meta: object) -> None:
        order.append("send")
        send(outcome, meta)

    h.endpoint.send = logged_send
    h.endpoint.on_readable()
    assert order == ["flush", "send"]


async def test_failed_flush_withholds_granting_replies_only() -> None:
    h = Harness([[b"grant1", b"plain", b"grant2"]])
    h.store.fail = True
    h.endpoint.on_readable()
    assert h.sent == [b"reply:plain"]
    assert h.stats.drops["store-unavailable"] == 2
    assert h.stats.errors["store"] == 1
    assert h.events == []


async def test_failed_shared_flush_withholds_task_replies() -> None:
    h = Harness([[b"grant1", b"grant2"]], inline=False)
    h.store.fail = True
    h.endpoint.on_readable()
    await h.settle()
    assert h.sent == []
    assert h.stats.drops["store-unavailable"] == 2
    assert h.stats.errors["store"] == 1  # one shared flush failed for both


def _busy(h: Harness) -> None:
    """Pretend the server is busy and has just committed: the next commit waits for the timer."""
    far = time.monotonic() + 1e9
    h.commits._busy = True
    h.commits._window_start = far  # the busy window does not end during the test
    h.commits._last_commit = far


async def test_busy_server_groups_batches_into_one_flush() -> None:
    h = Harness([[b"grant1"], [b"grant2"]])
    _busy(h)
    h.endpoint.on_readable()
    h.endpoint.on_readable()
    assert h.sent == [] and h.store.flushes == 0  # both wait for the 1 ms timer
    await asyncio.sleep(0.02)
    assert h.sent == [b"reply:grant1", b"reply:grant2"]
    assert h.store.flushes == 1


async def test_close_commits_what_waits() -> None:
    h = Harness([[b"grant1"], [b"grant2"]])
    _busy(h)
    h.endpoint.on_readable()
    h.endpoint.on_readable()
    h.commits.close()
    assert h.sent == [b"reply:grant1", b"reply:grant2"]
    assert h.store.flushes == 1


def test_constants() -> None:
    assert commit.GROUP_COMMIT < 0.001 and commit.BUSY_PPS > 0
