"""``dhcpbridge leases salvage --config FILE``: a journal damaged in the middle stops the server's
start; salvage keeps every valid frame, says what it dropped, and the store opens again."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dhcpbridge.cli import main
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases import SqliteStore, StoreError
from dhcpbridge.leases.embedded import journal
from dhcpbridge.leases.embedded.sqlite import _row

CONFIG = """\
[leases]
store = "sqlite://state/leases.db"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
"""


def test_salvage_keeps_every_valid_frame(tmp_path: Path) -> None:
    config = tmp_path / "dhcpbridge.toml"
    config.write_text(CONFIG)
    db = tmp_path / "state" / "leases.db"
    run_inline(SqliteStore(db).close())
    a, b, c = (
        journal.frame([_row(Lease(0x0A430064 + i, b"c%d" % i, LeaseState.BOUND, 1.0, 9e9))]) for i in range(3)
    )
    Path(f"{db}.journal").write_bytes(journal.HEADER_BYTES + a + b[:-7] + c)
    with pytest.raises(StoreError, match="corrupt at offset"):
        SqliteStore(db)
    result = CliRunner().invoke(main, ["leases", "salvage", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "2 valid frame(s), 2 record(s) kept" in result.output and "dropped at offset" in result.output
    store = SqliteStore(db)
    assert sorted(lease.address - 0x0A430064 for lease in store.index.all(LeaseKind.V4)) == [0, 2]
    run_inline(store.close())
    again = CliRunner().invoke(main, ["leases", "salvage", "--config", str(config)])
    assert again.exit_code == 0 and "nothing to do" in again.output
