"""``dhcpbridge leases import`` (each sample format into SQLite) and ``dhcpbridge leases migrate``
(SQLite to SQLite, resumed), with their summaries, exit codes and error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dhcpbridge.cli import main
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.leases import SqliteStore

SAMPLES = Path(__file__).parents[1] / "leases" / "files" / "samples"
FORMATS = [
    ("dhcpd", "dhcpd.leases", 5),
    ("dhcpd", "dhcpd6.leases", 5),
    ("kea-csv", "kea-leases4.csv", 4),
    ("kea-csv", "kea-leases6.csv", 4),
    ("dnsmasq", "dnsmasq.leases", 7),
]


def _records(db: Path) -> dict[tuple[LeaseKind, str], tuple[str, str]]:
    store = SqliteStore(db, readonly=True)
    try:
        leases = run_inline(store.leases())
    finally:
        run_inline(store.close())
    return {(x.kind, x.address_text): (x.state.name, x.hostname) for x in leases}


@pytest.mark.parametrize(("fmt", "name", "count"), FORMATS)
def test_import_each_format_into_sqlite(tmp_path: Path, fmt: str, name: str, count: int) -> None:
    url = f"sqlite:///{tmp_path / 'leases.db'}"
    result = CliRunner().invoke(main, ["leases", "import", "--from", fmt, str(SAMPLES / name), "--to", url])
    assert result.exit_code == 0, result.output
    assert f"{count} written" in result.output and f"verified {count} of {count}" in result.output
    records = _records(tmp_path / "leases.db")
    assert len(records) == count
    again = CliRunner().invoke(main, ["leases", "import", "--from", fmt, str(SAMPLES / name), "--to", url])
    assert again.exit_code == 0 and f"0 written, {count} already there" in again.output


def test_imported_records(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'leases.db'}"
    CliRunner().invoke(
        main, ["leases", "import", "--from", "dhcpd", str(SAMPLES / "dhcpd.leases"), "--to", url]
    )
    records = _records(tmp_path / "leases.db")
    assert records[(LeaseKind.V4, "10.68.135.107")] == ("BOUND", "host-1")
    assert records[(LeaseKind.V4, "10.68.135.110")] == (LeaseState.RELEASED.name, "")


def test_migrate_sqlite_to_sqlite_resumes(tmp_path: Path) -> None:
    old, new = f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'new.db'}"
    runner = CliRunner()
    for fmt, name, _ in FORMATS:
        assert (
            runner.invoke(
                main, ["leases", "import", "--from", fmt, str(SAMPLES / name), "--to", old]
            ).exit_code
            == 0
        )
    # a partial earlier run: only the kea v4 file reached the new store
    runner.invoke(
        main, ["leases", "import", "--from", "kea-csv", str(SAMPLES / "kea-leases4.csv"), "--to", new]
    )
    result = runner.invoke(main, ["leases", "migrate", "--from", old, "--to", new])
    assert result.exit_code == 0, result.output
    assert "25 read, 21 written, 4 already there" in result.output
    assert "verified 25 of 25" in result.output
    assert _records(tmp_path / "new.db") == _records(tmp_path / "old.db")


def test_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    url = f"sqlite:///{tmp_path / 'x.db'}"
    bad = runner.invoke(
        main, ["leases", "import", "--from", "dhcpd", str(SAMPLES / "dhcpd.leases"), "--to", "nope://x"]
    )
    assert bad.exit_code == 2 and "unsupported lease store" in bad.output
    wrong = runner.invoke(
        main, ["leases", "import", "--from", "kea-csv", str(SAMPLES / "dhcpd.leases"), "--to", url]
    )
    assert wrong.exit_code == 2 and "not a Kea memfile CSV" in wrong.output
    same = runner.invoke(main, ["leases", "migrate", "--from", url, "--to", url])
    assert same.exit_code == 2 and "the same store" in same.output
    damaged = tmp_path / "dnsmasq.leases"
    damaged.write_text("1796521544 02:67:00:00:00:02 10.67.0.139 a *\nbroken line\n")
    partial = runner.invoke(main, ["leases", "import", "--from", "dnsmasq", str(damaged), "--to", url])
    assert partial.exit_code == 0 and "warning:" in partial.output and "line 2" in partial.output


def test_conflict_exits_1(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner()
    header = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
    for name, mac in (("first.csv", "02:98:00:00:00:01"), ("second.csv", "02:99:00:00:00:01")):
        # infinite leases: the first client holds the address whenever the test runs
        (tmp_path / name).write_text(header + f"10.68.1.0,{mac},,4294967295,1796521523,2,0,0,{name},0,\n")
    first = runner.invoke(
        main, ["leases", "import", "--from", "kea-csv", str(tmp_path / "first.csv"), "--to", url]
    )
    assert first.exit_code == 0, first.output
    result = runner.invoke(
        main, ["leases", "import", "--from", "kea-csv", str(tmp_path / "second.csv"), "--to", url]
    )
    assert result.exit_code == 1 and "conflict: v4 10.68.1.0" in result.output
    assert _records(tmp_path / "x.db")[(LeaseKind.V4, "10.68.1.0")] == ("BOUND", "first.csv")
