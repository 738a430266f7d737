"""``dhcpbridge leases list|show|release`` straight on a SQLite store (no server running)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dhcpbridge.cli import main
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import SqliteStore
from dhcpbridge.wire.v4.message import ip4_int as ip

CONFIG = """\
[leases]
store = "sqlite://state/leases.db"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG)
    store = SqliteStore(tmp_path / "state" / "leases.db")
    now = __import__("time").time()
    for i, state in enumerate([LeaseState.BOUND, LeaseState.BOUND, LeaseState.RELEASED]):
        lease = Lease(
            ip(f"10.67.0.{100 + i}"),
            b"\x01\x02\x67\x00\x00\x00" + bytes((i,)),
            LeaseState.BOUND,
            now - 10,
            now + 3600,
            hwaddr=b"\x02\x67\x00\x00\x00" + bytes((i,)),
            hostname=f"host-{i}",
            subnet="10.67.0.0/24",
            source="pools",
        )
        run_inline(store.commit(lease, now))
        if state == LeaseState.RELEASED:
            run_inline(store.release(LeaseKind.V4, lease.address, lease.client, now))
    run_inline(store.offer(Lease(ip("10.67.0.150"), b"held", LeaseState.OFFERED, now, now + 30), now))
    run_inline(store.close())
    return path


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_list_json(config: Path) -> None:
    result = cli("leases", "list", "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["address"], r["state"]) for r in rows] == [
        ("10.67.0.100", "bound"),
        ("10.67.0.101", "bound"),
        ("10.67.0.102", "released"),
    ]  # offers are never on disk
    first = rows[0]
    assert first["kind"] == "v4" and first["hwaddr"] == "02:67:00:00:00:00" and first["hostname"] == "host-0"
    assert first["client"] == "01:02:67:00:00:00:00" and first["subnet"] == "10.67.0.0/24"
    assert first["expires"] > first["starts"]


def test_list_filter_and_table(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dhcpbridge import cli as cli_module

    monkeypatch.setattr(cli_module.console, "_width", 200)  # no terminal here: rich would use 80 columns
    bound = json.loads(cli("leases", "list", "--config", str(config), "--json", "--state", "bound").stdout)
    assert {r["address"] for r in bound} == {"10.67.0.100", "10.67.0.101"}
    table = cli("leases", "list", "--config", str(config))
    assert table.exit_code == 0
    assert "3 lease(s)" in table.stdout and "10.67.0.102" in table.stdout and "released" in table.stdout


def test_show(config: Path) -> None:
    result = cli("leases", "show", "--config", str(config), "10.67.0.101", "--json")
    assert result.exit_code == 0
    row = json.loads(result.stdout)
    assert row["address"] == "10.67.0.101" and row["state"] == "bound" and row["hostname"] == "host-1"
    missing = cli("leases", "show", "--config", str(config), "10.67.0.99")
    assert missing.exit_code == 1 and "no lease for 10.67.0.99" in missing.stderr


def test_release_is_written(config: Path, tmp_path: Path) -> None:
    result = cli("leases", "release", "--config", str(config), "10.67.0.100", "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)
    assert row["state"] == "released" and row["address"] == "10.67.0.100"
    store = SqliteStore(tmp_path / "state" / "leases.db", readonly=True)
    try:
        lease = run_inline(store.get(LeaseKind.V4, ip("10.67.0.100")))
        assert lease is not None and lease.state == LeaseState.RELEASED
    finally:
        run_inline(store.close())
    text = cli("leases", "release", "--config", str(config), "10.67.0.101")
    assert text.exit_code == 0 and "released 10.67.0.101 (was 02:67:00:00:00:01)" in text.stdout
    again = cli("leases", "release", "--config", str(config), "10.67.0.100")
    assert again.exit_code == 1 and "10.67.0.100 is released, not leased" in again.stderr
    bad = cli("leases", "release", "--config", str(config), "10.67.0.x")
    assert bad.exit_code == 1 and "does not appear to be an IPv4 or IPv6 address" in bad.stderr


def test_show_bad_address_is_a_clean_error(config: Path) -> None:
    result = cli("leases", "show", "--config", str(config), "not-an-ip")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "does not appear to be an IPv4 or IPv6 address" in result.stderr


def test_no_store_file_yet(tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG)
    result = cli("leases", "list", "--config", str(path))
    assert result.exit_code == 1
    assert "does not exist" in result.stderr and "control-socket" in result.stderr


def test_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(CONFIG + "colour = 1\n")
    result = cli("leases", "list", "--config", str(path))
    assert result.exit_code == 2 and f"{path}: subnet4[0].colour: unknown key" in result.stderr
