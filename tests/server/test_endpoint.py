"""The packet loop: batches drained inline, the task path, ``NeedsIO``, engine failures, drops."""

from __future__ import annotations

from dhcpbridge.server.endpoint import BATCH

from .fakes import Harness


async def test_inline_batch_replies_without_commit_go_out_at_once() -> None:
    h = Harness([[b"a", b"b", b"c"]])
    h.endpoint.on_readable()
    assert h.sent == [b"reply:a", b"reply:b", b"reply:c"]
    assert h.store.flushes == 0  # nothing durable changed: no flush
    assert [data for data, io in h.engine.calls] == [b"a", b"b", b"c"]
    assert h.tasks.pending == 0  # inline: no task per packet


async def test_inline_batch_grows_while_replies_wait_for_the_commit() -> None:
    """A batch with waiting replies drains the socket again (up to ``BATCH``), then commits once."""
    h = Harness([[b"grant1", b"x"], [b"grant2"], [b"late"]])
    h.endpoint.on_readable()
    assert h.store.flushes == 1  # one flush for the whole grown batch
    assert h.sent == [b"reply:x", b"reply:late", b"reply:grant1", b"reply:grant2"]
    assert h.sock.receives == [BATCH, BATCH - 2, BATCH - 3, BATCH - 4]
    assert [e.event for e in h.events] == ["commit", "commit"]


async def test_batch_stops_at_batch_size() -> None:
    h = Harness([[b"grant%d" % i for i in range(BATCH + 5)]])
    h.endpoint.on_readable()
    assert len(h.sent) == BATCH
    assert h.store.flushes == 1
    h.endpoint.on_readable()
    assert len(h.sent) == BATCH + 5


async def test_needs_io_runs_that_packet_as_a_task() -> None:
    h = Harness([[b"a", b"io-grant", b"b"]])
    h.endpoint.on_readable()
    assert h.sent == [b"reply:a", b"reply:b"]
    assert h.tasks.pending == 1
    await h.settle()
    assert h.sent[-1] == b"reply:io-grant"
    assert (b"io-grant", True) in h.engine.calls
    assert h.store.flushes == 1  # the task's grant waited for a shared flush


async def test_task_path_when_not_inline() -> None:
    h = Harness([[b"grant1", b"grant2", b"c"]], inline=False)
    h.endpoint.on_readable()
    assert h.sent == [] and h.tasks.pending == 3
    await h.settle()
    assert sorted(h.sent) == [b"reply:c", b"reply:grant1", b"reply:grant2"]
    assert all(io for _, io in h.engine.calls)
    assert h.store.flushes == 1  # both grants finished in one loop turn: one flush


async def test_engine_failure_is_counted_and_the_batch_goes_on() -> None:
    h = Harness([[b"boom", b"a"]])
    h.endpoint.on_readable()
    assert h.stats.errors["engine"] == 1
    assert h.sent == [b"reply:a"]


async def test_drop_sends_nothing() -> None:
    h = Harness([[b"drop-me"]])
    h.endpoint.on_readable()
    assert h.sent == []


async def test_send_failure_is_counted_and_emits_nothing() -> None:
    h = Harness([[b"grant1"]])

    def broken(outcome: object, meta: object) -> None:
        raise OSError(101, "Network is unreachable")

    h.endpoint.send = broken
    h.endpoint.on_readable()
    assert h.stats.errors["send"] == 1
    assert h.events == []


async def test_effects_are_cleared_after_finishing() -> None:
    """Lease events point back at their transaction: the list is emptied (no reference cycle)."""
    h = Harness([[b"grant1"]])
    outcomes = []
    send = h.send

    def keep(outcome: object, meta: object) -> None:
        outcomes.append(outcome)
        send(outcome, meta)

    h.endpoint.send = keep
    h.endpoint.on_readable()
    assert outcomes and outcomes[0].effects == []  # type: ignore[attr-defined]
    assert len(h.events) == 1


async def test_an_unreachable_shared_store_drops_the_packet_without_a_reply() -> None:
    """A store call that raises ``StoreError`` (Redis down): nothing was recorded, so no reply;
    counted as ``store-unavailable``, not as an engine failure; the other packets go on."""
    h = Harness([[b"store-gone", b"grant1"]], inline=False)
    h.endpoint.on_readable()
    await h.settle()
    assert h.sent == [b"reply:grant1"]
    assert h.stats.drops["store-unavailable"] == 1
    assert h.stats.errors["engine"] == 0
