"""The harvester's parts without a network: which leases become records, the fragment written
atomically and only on change, rndc failures keep the old file, quiet-period coalescing, durations."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.harvest import zone
from dhcpbridge.harvest.cli import parse_duration
from dhcpbridge.harvest.entries import Entry, select
from dhcpbridge.harvest.harvester import Coalescer, Harvester, LeaseSource, Settings
from dhcpbridge.harvest.rndc import Rndc

NOW = 1_800_000_000.0
BASE = Lease(0x0A000001, b"\x01a", LeaseState.BOUND, NOW - 60, NOW + 3600, hwaddr=b"\x02\x00\x00\x00\x00\x01")


def lease(n: int, hostname: str, **kw: object) -> Lease:
    return replace(BASE, address=0x0A000000 + n, client=bytes([1, n]), hostname=hostname, **kw)  # type: ignore[arg-type]


def test_select_keeps_current_named_leases() -> None:
    leases = [
        lease(1, "alpha.lab.example"),
        lease(2, "Cord-Node_2"),
        lease(3, "gone", expires=NOW - 1),
        lease(4, "free", state=LeaseState.RELEASED),
        lease(5, ""),
        lease(6, "---"),
        replace(lease(7, "six6"), kind=LeaseKind.NA, address=0x20010DB8 << 96 | 7, prefix_len=128),
        replace(lease(8, "prefix"), kind=LeaseKind.PD, address=0x20010DB8 << 96, prefix_len=56),
        lease(9, "alpha", starts=NOW - 10),  # the same name, another client: a second record
        replace(lease(10, "cord-node_2"), client=bytes([1, 2]), starts=NOW - 120),  # client 2's older lease
    ]
    entries = select(leases, NOW)
    assert [(e.name, e.rrtype, e.address) for e in entries] == [
        ("alpha", "A", "10.0.0.1"),
        ("alpha", "A", "10.0.0.9"),
        ("cord-node-2", "A", "10.0.0.2"),
        ("six6", "AAAA", "2001:db8::7"),
    ]
    assert entries[0].hwaddr == "02:00:00:00:00:01"


def test_names_under_the_zone_keep_their_labels_and_others_their_first() -> None:
    leases = [
        lease(1, "web.lab.example"),
        lease(2, "DB.Rack_1.lab.example."),
        lease(3, "laptop.home.arpa"),
        lease(4, "bare"),
        lease(5, "x..lab.example"),  # an empty label: no usable name
        replace(lease(6, "web.lab.example"), kind=LeaseKind.NA, address=0x20010DB8 << 96 | 6, prefix_len=128),
    ]
    entries = select(leases, NOW, origin="Lab.Example.")
    assert [(e.name, e.rrtype, e.address) for e in entries] == [
        ("bare", "A", "10.0.0.4"),
        ("db.rack-1", "A", "10.0.0.2"),
        ("laptop", "A", "10.0.0.3"),
        ("web", "A", "10.0.0.1"),
        ("web", "AAAA", "2001:db8::6"),
    ]
    assert [e.name for e in select(leases[:2], NOW)] == ["db", "web"]  # no zone known: first labels


def test_filter_is_a_python_regex() -> None:
    leases = [lease(1, "cord-1"), lease(2, "compute-1"), lease(3, "switch")]
    names = [e.name for e in select(leases, NOW, re.compile("^(?!cord)"))]
    assert names == ["compute-1", "switch"]


def test_render_and_write_atomic(tmp_path: Path) -> None:
    text = zone.render([Entry("a", "A", "10.0.0.1", "02:00"), Entry("b", "AAAA", "2001:db8::1")], ttl=60)
    assert "a\t60\tIN A\t10.0.0.1\t; 02:00\n" in text and "b\t60\tIN AAAA\t2001:db8::1\n" in text
    dest = tmp_path / "h.inc"
    zone.write_atomic(dest, text)
    assert dest.read_text() == text and dest.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["h.inc"]  # no temp file left


def _dnsmasq(path: Path, *names: str) -> None:
    path.write_text(
        "".join(
            f"{int(NOW) + 3600} 02:00:00:00:00:{i:02x} 10.9.0.{i} {n} *\n" for i, n in enumerate(names, 1)
        )
    )


def test_harvest_writes_only_when_changed(tmp_path: Path) -> None:
    leases, dest = tmp_path / "dnsmasq.leases", tmp_path / "h.inc"
    _dnsmasq(leases, "one", "two")
    harvester = Harvester(Settings(LeaseSource(files=((leases, "auto"),)), dest), clock=lambda: NOW)
    first = asyncio.run(harvester.harvest())
    assert first.changed and first.records == 2 and len(first.added) == 2 and first.error is None
    mtime = dest.stat().st_mtime_ns
    second = asyncio.run(harvester.harvest())
    assert not second.changed and dest.stat().st_mtime_ns == mtime
    _dnsmasq(leases, "one", "three")
    third = asyncio.run(harvester.harvest())
    assert third.changed and third.added == ["three\tIN A\t10.9.0.2\t; 02:00:00:00:00:02"]
    assert third.removed == ["two\tIN A\t10.9.0.2\t; 02:00:00:00:00:02"]


def test_rndc_failure_keeps_the_old_file(tmp_path: Path) -> None:
    leases, dest = tmp_path / "dnsmasq.leases", tmp_path / "h.inc"
    fake = tmp_path / "rndc"
    fake.write_text("#!/bin/sh\necho 'rndc: connect failed: 127.0.0.1#953: connection refused' >&2\nexit 1\n")
    fake.chmod(0o755)
    dest.write_text("; old\nold\tIN A\t10.9.9.9\n")
    _dnsmasq(leases, "one")
    rndc = Rndc("harvest.test", program=str(fake))
    harvester = Harvester(
        Settings(LeaseSource(files=((leases, "dnsmasq"),)), dest, rndc=rndc), clock=lambda: NOW
    )
    result = asyncio.run(harvester.harvest())
    assert result.error is not None and "connection refused" in result.error and "exit 1" in result.error
    assert not result.changed and dest.read_text() == "; old\nold\tIN A\t10.9.9.9\n"
    assert "reload harvest.test" in result.error


def test_unreadable_source_is_an_error_not_a_crash(tmp_path: Path) -> None:
    dest = tmp_path / "h.inc"
    harvester = Harvester(Settings(LeaseSource(files=((tmp_path / "missing", "dhcpd"),)), dest))
    result = asyncio.run(harvester.harvest())
    assert result.error is not None and "missing" in result.error and not dest.exists()


class CountingHarvester(Harvester):
    def __init__(self, dest: Path) -> None:
        super().__init__(Settings(LeaseSource(), dest))

    async def harvest(self):  # type: ignore[no-untyped-def]
        result = await super().harvest()
        await asyncio.sleep(0.05)
        return result


def test_a_burst_in_the_quiet_period_shares_one_harvest(tmp_path: Path) -> None:
    clock = [100.0]
    harvester = CountingHarvester(tmp_path / "h.inc")
    coalescer = Coalescer(harvester, quiet=2.0, monotonic=lambda: clock[0])

    async def burst() -> list[tuple[int, bool]]:
        results = await asyncio.gather(*(coalescer.request() for _ in range(20)))
        return [(r.number, shared) for r, shared in results]

    async def scenario() -> None:
        first = await burst()
        assert [n for n, _ in first] == [1] * 20 and sum(not shared for _, shared in first) == 1
        clock[0] += 1.0  # still quiet: the finished harvest is shared
        assert (await burst())[0] == (1, True)
        clock[0] += 1.5  # the quiet period is over: a new harvest
        again = await burst()
        assert {n for n, _ in again} == {2} and harvester.count == 2

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("text", "seconds"), [("5m", 300.0), ("1s", 1.0), ("500ms", 0.5), ("2", 2.0), ("1h", 3600.0)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_parse_duration_rejects() -> None:
    with pytest.raises(ValueError):
        parse_duration("5 minutes")


def test_harvest_from_our_store_and_from_a_config(tmp_path: Path) -> None:
    import subprocess
    import sys

    from dhcpbridge.engine.inline import run_inline
    from dhcpbridge.leases import SqliteStore

    store = SqliteStore(tmp_path / "leases.db")
    now = time.time()
    current = replace(BASE, starts=now - 10, expires=now + 3600)
    run_inline(store.commit(replace(current, hostname="from-store"), now))
    run_inline(store.commit(replace(current, address=0x0A000002, client=b"\x01b", hostname="other"), now))
    run_inline(store.close())
    dest = tmp_path / "h.inc"
    url = f"sqlite:///{tmp_path / 'leases.db'}"

    def harvest(*args: str) -> subprocess.CompletedProcess[str]:
        # its own process: the command configures logging for the whole process
        argv = [sys.executable, "-m", "dhcpbridge", "harvest", "--dest", str(dest), *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    result = harvest("--store", url, "--filter", "store")
    assert result.returncode == 0, result.stderr
    assert "1 record(s) from 2 lease(s)" in result.stdout
    assert dest.read_text().splitlines()[1] == "from-store\tIN A\t10.0.0.1\t; 02:00:00:00:00:01"
    config = tmp_path / "dhcpbridge.toml"
    config.write_text(
        '[leases]\nstore = "sqlite://leases.db"\n\n[[subnet4]]\nsubnet = "10.0.0.0/24"\npools = ["10.0.0.1-10.0.0.9"]\n'
    )
    by_config = harvest("--config", str(config))
    assert by_config.returncode == 0 and "2 record(s)" in by_config.stdout
    both = harvest("--config", str(config), "--store", url)
    assert both.returncode == 2 and "exactly one of" in both.stderr
