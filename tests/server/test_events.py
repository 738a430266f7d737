"""The lease event bus: order, overflow, failing listeners, the loop, reloads."""

from __future__ import annotations

import asyncio

import pytest

from dhcpbridge.engine.model import LeaseEvent
from dhcpbridge.engine.ports import LeaseListener
from dhcpbridge.events import EventBus, LeaseLog

from .fakes import Recorder, lease


class Failing:
    def notify(self, event: LeaseEvent) -> None:
        raise RuntimeError("listener bug")


def bound_bus(limit: int = 1000) -> tuple[EventBus, Recorder]:
    """A bus on the running loop with one recording listener."""
    bus = EventBus(limit)
    bus.bind(asyncio.get_running_loop())
    rec = Recorder()
    bus.subscribe(rec)
    return bus, rec


def events(n: int) -> list[LeaseEvent]:
    return [LeaseEvent("commit", lease(0x0A430000 + i)) for i in range(n)]


def test_listeners_are_lease_listeners() -> None:
    assert isinstance(Recorder(), LeaseListener) and isinstance(LeaseLog(), LeaseListener)
    assert not isinstance(object(), LeaseListener)


async def test_events_arrive_in_order_after_the_emitting_turn() -> None:
    bus, rec = bound_bus()
    sent = events(5)
    for e in sent:
        bus.emit(e)
    assert rec.events == []  # nothing is delivered on the packet path
    await asyncio.sleep(0)
    assert rec.events == sent
    assert bus.stats() == {"queued": 0, "delivered": 5, "overflow": 0, "listener_failures": 0}


async def test_overflow_is_counted_and_never_blocks() -> None:
    bus, rec = bound_bus(limit=3)
    sent = events(5)
    for e in sent:
        bus.emit(e)
    assert bus.overflow == 2
    await asyncio.sleep(0)
    assert rec.events == sent[:3]
    bus.emit(sent[3])  # room again
    await asyncio.sleep(0)
    assert rec.events == sent[:4]
    assert bus.stats()["overflow"] == 2


async def test_a_failing_listener_does_not_stop_the_others() -> None:
    bus = EventBus()
    bus.bind(asyncio.get_running_loop())
    first, second = Recorder(), Recorder()
    for listener in (first, Failing(), second):
        bus.subscribe(listener)  # type: ignore[arg-type]
    sent = events(2)
    for e in sent:
        bus.emit(e)
    await asyncio.sleep(0)
    assert first.events == sent and second.events == sent
    assert bus.failures == 2


def test_without_a_loop_events_are_delivered_at_once() -> None:
    bus = EventBus()
    rec = Recorder()
    bus.subscribe(rec)
    bus.subscribe(rec)  # once only
    e = events(1)[0]
    bus.emit(e)
    assert rec.events == [e]
    bus.unsubscribe(rec)
    bus.emit(e)
    assert rec.events == [e]


async def test_close_delivers_what_is_queued_and_keeps_no_event() -> None:
    bus, rec = bound_bus()
    bus.emit(events(1)[0])
    bus.close()
    assert len(rec.events) == 1 and bus.stats()["queued"] == 0


@pytest.mark.parametrize("debug", [False, True])
def test_lease_log_listener(debug: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from dhcpbridge import logs

    monkeypatch.setitem(logs._state, "debug", debug)
    for kind in ("commit", "release", "expire"):
        LeaseLog().notify(LeaseEvent(kind, lease()))


def test_bus_counters_are_metrics() -> None:
    from prometheus_client import generate_latest

    from dhcpbridge.engine.stats import Stats
    from dhcpbridge.metrics import registry_for

    bus = EventBus(limit=1)
    bus.emit(events(1)[0])
    text = generate_latest(registry_for({"v4": Stats()}, dict, bus.stats)).decode()
    assert 'dhcpbridge_lease_events_total{outcome="delivered"} 1.0' in text
    assert 'dhcpbridge_lease_events_total{outcome="overflow"} 0.0' in text


class WantsRemoteEnds(Recorder):
    remote_events = frozenset({"release", "expire"})


def test_other_servers_changes_reach_only_the_listeners_that_ask_for_them() -> None:
    """A shared store's watch: another server's commit is not delivered to a listener that did
    not ask for remote commits (the DNS updater, the bridge's on-commit hook), ends are."""
    bus = EventBus()
    plain, ends = Recorder(), WantsRemoteEnds()
    bus.subscribe(plain)
    bus.subscribe(ends)
    commit, release = LeaseEvent("commit", lease(0x0A430001)), LeaseEvent("release", lease(0x0A430001))
    local = LeaseEvent("commit", lease(0x0A430002))
    bus.emit_remote(commit)
    bus.emit_remote(release)
    bus.emit(local)  # (no loop bound: each event is delivered at once, in this order)
    assert plain.events == [local]
    assert ends.events == [release, local]
    assert bus.stats()["delivered"] == 3
