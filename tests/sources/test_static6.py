"""The static6 source: dhcpkit ids, CSV files (errors with line numbers), SQLite and DBM files
built from them (atomic replace), and assignments delivered through the engine by DUID, Interface-ID and
Remote-ID - including a replaced device on the same line taking its prefix over."""

from __future__ import annotations

import dbm
import gc
import ipaddress
import os
import sqlite3
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dhcpbridge.assemble import AssemblyError, build_engine6, build_sources
from dhcpbridge.cli import main
from dhcpbridge.config import ConfigError, loader
from dhcpbridge.config.model6 import canonical_static_id, parse_static_id
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.sources.static6 import (
    Static6Error,
    Static6Source,
    build_dbm,
    build_sqlite,
    load_csv,
    read_csv,
)
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6, parse6, unwrap_relay
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    ClientId,
    InterfaceId,
    MessageType6,
    Option6,
    RawOption,
    RemoteId,
)

CSV = """id,address,prefix
# a comment row
duid:000300010269000000aa,fd69::aa,
interface-id:706f72742d31,,2001:db8:1::/56
interface-id-str:port-2,fd69::2,2001:db8:2::/56
remote-id:4491:0a0b0c,,2001:db8:3::/56
remote-id-str:9:customer-4,,2001:db8:4::/48
"""
SERVER_DUID = bytes.fromhex("00030001026700000001")
META = Meta6("fd68::2", 547, ipaddress.IPv6Address("fd68::1").packed, 3, "srv1")


def write(tmp_path: Path, text: str, name: str = "a.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- ids and files --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("duid:00:03:00:01:02:69:00:00:00:aa", "duid:000300010269000000aa"),
        ("DUID:000300010269000000AA", "duid:000300010269000000aa"),
        ("interface-id:706f72742d31", "interface-id:706f72742d31"),
        ("interface-id-str:port-1", "interface-id:706f72742d31"),
        ("remote-id:4491:0a0b0c", "remote-id:4491:0a0b0c"),
        ("remote-id-str:9:customer-4", "remote-id:9:637573746f6d65722d34"),
        ("remote-id:0x1191:0a", "remote-id:4497:0a"),
    ],
)
def test_ids_normalise(text: str, canonical: str) -> None:
    assert canonical_static_id(parse_static_id(text)) == canonical


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("mac:02:00:00:00:00:01", "unknown id type"),
        ("duid:zz", "invalid DUID"),
        ("duid:0001", "DUID"),
        ("interface-id:", "expected"),
        ("interface-id:xyz", "not hex"),
        ("remote-id:4491", "ENTERPRISE"),
        ("remote-id:abc:0a", "not an integer"),
        ("remote-id:99999999999:0a", "32 bits"),
        ("nothing", "expected"),
    ],
)
def test_bad_ids_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_static_id(text)


def test_csv_rows(tmp_path: Path) -> None:
    table = load_csv(write(tmp_path, CSV))
    assert len(table) == 5
    a = table[parse_static_id("interface-id-str:port-2")]
    assert a.address == int(ipaddress.IPv6Address("fd69::2"))
    assert a.prefix == (int(ipaddress.IPv6Address("2001:db8:2::")), 56)
    assert [line for line, _, _ in read_csv(write(tmp_path, CSV))] == [3, 4, 5, 6, 7]


@pytest.mark.parametrize(
    ("body", "line", "why"),
    [
        ("id,address,prefix\nduid:000300010269000000aa,fd69::zz,\n", 2, "fd69::zz"),
        ("id,address,prefix\nduid:000300010269000000aa,,\n", 2, "neither address nor prefix"),
        ("id,address,prefix\nduid:00,fd69::1,\n", 2, "DUID is 1 bytes"),
        ("id,address,prefix\n\nwhat:1,fd69::1,\n", 3, "unknown id type"),
        ("id,address,prefix\ninterface-id-str:a,,2001:db8::1/56\n", 2, "host bits"),
        ("id,address,prefix\ninterface-id-str:a,fd69::1,\ninterface-id:61,fd69::2,\n", 3, "repeats line 2"),
        ("name,address\nx,fd69::1\n", 1, "lacks column"),
    ],
)
def test_bad_csv_rows_are_reported_with_their_line(tmp_path: Path, body: str, line: int, why: str) -> None:
    with pytest.raises(Static6Error) as err:
        load_csv(write(tmp_path, body))
    [message] = err.value.errors
    assert f"a.csv:line {line}:" in message and why in message


def test_a_repeated_id_closes_the_csv_file(tmp_path: Path) -> None:
    """load_csv stops reading at a repeated id: the reader's file is closed then, not left to the
    garbage collector (a ResourceWarning, and an open descriptor per failed reload)."""
    path = write(tmp_path, "id,address,prefix\ninterface-id-str:a,fd69::1,\ninterface-id:61,fd69::2,\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(Static6Error):
            load_csv(path)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


# --- SQLite ---------------------------------------------------------------------------------


def test_build_sqlite_holds_the_same_assignments(tmp_path: Path) -> None:
    csv_path = write(tmp_path, CSV)
    db = tmp_path / "a.db"
    seen: list[int] = []
    assert build_sqlite(csv_path, db, progress=seen.append, batch=2) == 5
    assert seen == [4, 6]  # every batch reports the line it reached
    source = Static6Source.open([], [db], lambda raw: {})
    assert len(source) == 5
    for key, want in load_csv(csv_path).items():
        assert source._lookup(key) is not None
        got = source._lookup(key)
        assert got is not None
        assert got.addresses6 == ((want.address,) if want.address is not None else ())
        assert got.prefixes == ((want.prefix,) if want.prefix is not None else ())
    assert source._lookup(parse_static_id("duid:00030001026900000000")) is None


def test_build_sqlite_replaces_atomically_and_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    build_sqlite(write(tmp_path, CSV), db)
    reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    old_inode = db.stat().st_ino
    bad = write(tmp_path, CSV + "interface-id-str:port-9,not-an-address,\n", "b.csv")
    with pytest.raises(Static6Error, match=r"b.csv:line 8: .*not-an-address"):
        build_sqlite(bad, db)
    assert db.stat().st_ino == old_inode
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no leftovers
    more = write(tmp_path, CSV + "interface-id-str:port-9,fd69::9,\n", "c.csv")
    assert build_sqlite(more, db) == 6
    assert db.stat().st_ino != old_inode  # a new file took the name ...
    assert reader.execute("SELECT count(*) FROM assignments").fetchone()[0] == 5  # ... old readers unaffected
    reader.close()


def test_build_sqlite_command(tmp_path: Path) -> None:
    csv_path = write(tmp_path, CSV)
    db = tmp_path / "out" / "a.db"
    result = CliRunner().invoke(main, ["build-sqlite", str(csv_path), str(db)])
    assert result.exit_code == 0, result.output
    assert "5 assignment(s)" in result.output and db.exists()
    bad = write(tmp_path, CSV + "remote-id:9,,2001:db8:9::/56\n", "bad.csv")
    result = CliRunner().invoke(main, ["build-sqlite", str(bad), str(db)])
    assert result.exit_code == 1
    assert "bad.csv:line 8:" in result.output and "left unchanged" in result.output


def test_a_file_that_is_not_a_static6_table_is_an_error(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    sqlite3.connect(db).execute("CREATE TABLE t (a)").connection.close()
    with pytest.raises(Static6Error, match="not a static6 SQLite file"):
        Static6Source.open([], [db], lambda raw: {})
    with pytest.raises(Static6Error, match="build-sqlite"):
        Static6Source.open([], [tmp_path / "missing.db"], lambda raw: {})


# --- DBM (dhcpkit's shelf use case) ----------------------------------------------------------


def test_build_dbm_holds_the_same_assignments(tmp_path: Path) -> None:
    csv_path = write(tmp_path, CSV)
    path = tmp_path / "a.dbm"
    assert build_dbm(csv_path, path) == 5
    assert dbm.whichdb(str(path))  # a DBM file of some flavour the reader detects
    source = Static6Source.open([], [path], lambda raw: {})
    assert len(source) == 5
    for key, want in load_csv(csv_path).items():
        got = source._lookup(key)
        assert got is not None
        assert got.addresses6 == ((want.address,) if want.address is not None else ())
        assert got.prefixes == ((want.prefix,) if want.prefix is not None else ())
    assert source._lookup(parse_static_id("duid:00030001026900000000")) is None
    assert ipaddress.IPv6Address("fd69::aa") in {ipaddress.IPv6Address(a) for a in source.reserved()}
    run_inline(source.close())


def test_build_dbm_keeps_the_old_file_on_error(tmp_path: Path) -> None:
    path = tmp_path / "a.dbm"
    build_dbm(write(tmp_path, CSV), path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("a.dbm")}
    repeated = write(tmp_path, CSV + "interface-id-str:port-2,fd69::9,\n", "b.csv")
    with pytest.raises(Static6Error, match=r"b.csv:line 8: interface-id.* repeats line 5"):
        build_dbm(repeated, path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("a.dbm")} == before
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]  # no leftovers
    assert build_dbm(write(tmp_path, CSV + "interface-id-str:port-9,fd69::9,\n", "c.csv"), path) == 6
    assert len(Static6Source.open([], [path], lambda raw: {})) == 6


def test_build_dbm_command_and_bad_files(tmp_path: Path) -> None:
    csv_path = write(tmp_path, CSV)
    path = tmp_path / "out" / "a.dbm"
    result = CliRunner().invoke(main, ["build-dbm", str(csv_path), str(path)])
    assert result.exit_code == 0, result.output
    assert "5 assignment(s)" in result.output
    with pytest.raises(Static6Error, match="build-dbm"):
        Static6Source.open([], [tmp_path / "missing.dbm"], lambda raw: {})
    with dbm.open(str(tmp_path / "other.dbm"), "n") as other:  # a DBM file, not one of ours
        other[b"k"] = b"v"
    with pytest.raises(Static6Error, match="not a static6 DBM file"):
        Static6Source.open([], [tmp_path / "other.dbm"], lambda raw: {})


# --- through the engine ---------------------------------------------------------------------


def config(tmp_path: Path, files: list[str], extra: dict[str, Any] | None = None) -> Any:
    doc: dict[str, Any] = {
        "server6": {"server-duid": "ll:02:67:00:00:00:01"},
        "subnet6": [
            {
                "subnet": "fd69::/64",
                "pools": ["fd69::100:0/120"],
                "pd-pools": [{"prefix": "2001:db8::/40", "delegated-length": 56}],
            }
        ],
        "source": [{"type": "static6", "files": files}, {"type": "pools"}],
        **(extra or {}),
    }
    return loader.from_dict(doc).with_base_dir(tmp_path)


class Relay:
    def __init__(self, cfg: Any) -> None:
        self.store = MemoryStore()
        self.engine = build_engine6(cfg, self.store, HostInfo6({}), Stats(), build_sources(cfg))
        self.xid = 0

    def send(
        self, kind: int, client: Duid, ias: list[Option6], relay_opts: list[Option6], server: bool
    ) -> Message6:
        self.xid += 1
        opts: list[Option6] = [ClientId(client)]
        if server:
            opts.append(RawOption(2, SERVER_DUID))
        msg = Message6(kind, self.xid, [*opts, *ias])
        forw = RelayMessage6(
            12,
            0,
            ipaddress.IPv6Address("fd69::1"),
            ipaddress.IPv6Address("fe80::1"),
            [*relay_opts, RelayMsg(msg)],
        )
        out = run_inline(self.engine.process(encode6(forw), META, 1_800_000_000.0))
        assert out.data is not None, out.drop_reason
        inner, _ = unwrap_relay(parse6(out.data))
        return inner

    def obtain(self, client: Duid, relay_opts: list[Option6], ias: list[Option6] | None = None) -> Message6:
        adv = self.send(MessageType6.SOLICIT, client, ias or [IANA(1), IAPD(2)], relay_opts, False)
        echoed = [o for o in adv.options if o.code in (3, 25)]
        return self.send(MessageType6.REQUEST, client, echoed, relay_opts, True)


def granted(reply: Message6) -> tuple[list[str], list[str]]:
    addrs = [str(a.address) for ia in reply.ia_na for a in ia.addresses if a.valid]
    pfx = [f"{p.prefix}/{p.prefix_length}" for ia in reply.ia_pd for p in ia.prefixes if p.valid]
    return addrs, pfx


@pytest.mark.parametrize("fmt", ["csv", "db", "dbm"])
def test_assignments_by_interface_id_remote_id_and_duid(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, CSV)
    if fmt == "db":
        build_sqlite(path, tmp_path / "a.db")
        path = tmp_path / "a.db"
    elif fmt == "dbm":
        build_dbm(path, tmp_path / "a.dbm")
        path = tmp_path / "a.dbm"
    relay = Relay(config(tmp_path, [path.name]))
    someone = Duid.ll(1, bytes.fromhex("020000000001"))
    # Interface-ID: a static /56, and an address from the pool for the IA_NA it does not cover
    addrs, pfx = granted(relay.obtain(someone, [InterfaceId(b"port-1")]))
    assert pfx == ["2001:db8:1::/56"]
    assert len(addrs) == 1 and ipaddress.IPv6Address(addrs[0]) in ipaddress.ip_network("fd69::100:0/120")
    # Interface-ID with both
    assert granted(relay.obtain(Duid.ll(1, bytes(6)), [InterfaceId(b"port-2")])) == (
        ["fd69::2"],
        ["2001:db8:2::/56"],
    )
    # Remote-ID (enterprise + id), text form
    assert granted(relay.obtain(Duid.ll(1, b"\x02" * 6), [RemoteId(9, b"customer-4")]))[1] == [
        "2001:db8:4::/48"
    ]
    assert granted(relay.obtain(Duid.ll(1, b"\x03" * 6), [RemoteId(4491, b"\x0a\x0b\x0c")]))[1] == [
        "2001:db8:3::/56"
    ]
    # same remote-id bytes under another enterprise number: not that customer
    other = granted(relay.obtain(Duid.ll(1, b"\x04" * 6), [RemoteId(4490, b"\x0a\x0b\x0c")]))[1]
    assert other != ["2001:db8:3::/56"] and ipaddress.IPv6Network(other[0]).subnet_of(
        ipaddress.IPv6Network("2001:db8::/40")
    )
    # DUID wins over the relay's ids
    assert granted(relay.obtain(Duid(bytes.fromhex("000300010269000000aa")), [InterfaceId(b"port-1")]))[
        0
    ] == ["fd69::aa"]


def test_a_replaced_device_on_the_same_line_takes_the_prefix_over(tmp_path: Path) -> None:
    relay = Relay(config(tmp_path, [write(tmp_path, CSV).name]))
    old, new = Duid.ll(1, b"\x02\x00\x00\x00\x00\x01"), Duid.ll(1, b"\x02\x00\x00\x00\x00\x02")
    line = [RemoteId(4491, b"\x0a\x0b\x0c")]
    assert granted(relay.obtain(old, line, [IAPD(2)]))[1] == ["2001:db8:3::/56"]
    assert granted(relay.obtain(new, line, [IAPD(7)]))[1] == ["2001:db8:3::/56"]
    lease = run_inline(relay.store.get(LeaseKind.PD, int(ipaddress.IPv6Address("2001:db8:3::"))))
    assert lease.state == LeaseState.BOUND and lease.client.endswith(new.raw) and lease.source == "static6"
    # the old device's renewal now hears that the prefix is no longer its own
    renew = relay.send(
        MessageType6.RENEW,
        old,
        [
            IAPD(
                2,
                0,
                0,
                [RawOption(26, bytes(8) + bytes([56]) + ipaddress.IPv6Address("2001:db8:3::").packed)],
            )
        ],
        line,
        True,
    )
    assert [(p.valid, p.prefix_length) for ia in renew.ia_pd for p in ia.prefixes] == [(0, 56)]


def test_static_prefixes_inside_a_pool_are_never_given_to_others(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        [],
        {
            "subnet6": [
                {
                    "subnet": "fd69::/64",
                    "pd-pools": [{"prefix": "2001:db8:100::/54", "delegated-length": 56}],  # 4 prefixes
                }
            ],
            "static6": [{"id": "interface-id-str:vip", "prefix": "2001:db8:100:100::/56"}],
        },
    )
    relay = Relay(cfg)
    got = set()
    for n in range(3):
        got.update(granted(relay.obtain(Duid.ll(1, bytes([2, 0, 0, 0, 0, n])), [], [IAPD(1)]))[1])
    assert got == {"2001:db8:100::/56", "2001:db8:100:200::/56", "2001:db8:100:300::/56"}
    fourth = relay.obtain(Duid.ll(1, bytes([2, 0, 0, 0, 0, 9])), [], [IAPD(1)])
    assert granted(fourth) == ([], [])  # the pool is full: the reserved prefix stays reserved


def test_static6_entries_in_the_config_with_options(tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        [],
        {
            "static6": [
                {
                    "id": "interface-id-str:vip",
                    "address": "fd69::77",
                    "options": {"dns-servers": ["fd00::53"]},
                }
            ]
        },
    )
    relay = Relay(cfg)
    reply = relay.obtain(Duid.ll(1, bytes(6)), [InterfaceId(b"vip")], [IANA(1)])
    assert granted(reply)[0] == ["fd69::77"]
    assert reply.raw(23) == ipaddress.IPv6Address("fd00::53").packed


def test_config_errors_name_the_file_line_and_path(tmp_path: Path) -> None:
    write(tmp_path, "id,address,prefix\ninterface-id-str:x,fd69::1,\ninterface-id-str:y,bogus,\n")
    with pytest.raises(AssemblyError) as err:
        build_sources(config(tmp_path, ["a.csv"]))
    [message] = err.value.errors
    assert message.startswith("source[0].files: ") and "a.csv:line 3:" in message
    with pytest.raises(ConfigError) as cfg_err:
        loader.from_dict({"static6": [{"id": "interface-id-str:x"}, {"id": "bad:1", "address": "fd69::1"}]})
    assert any(e.startswith("static6[0]: ") and "does nothing" in e for e in cfg_err.value.errors)
    assert any(e.startswith("static6[1].id: ") for e in cfg_err.value.errors)


def test_reload_picks_up_a_rebuilt_sqlite_file(tmp_path: Path) -> None:
    csv_path = write(tmp_path, CSV)
    build_sqlite(csv_path, tmp_path / "a.db")
    first = build_sources(config(tmp_path, ["a.db"]))[0]
    key = parse_static_id("interface-id-str:port-9")
    assert isinstance(first, Static6Source) and first._lookup(key) is None
    build_sqlite(write(tmp_path, CSV + "interface-id-str:port-9,fd69::9,\n", "b.csv"), tmp_path / "a.db")
    second = build_sources(config(tmp_path, ["a.db"]))[0]  # what SIGHUP does
    assert isinstance(second, Static6Source)
    answer = second._lookup(key)
    assert answer is not None and answer.addresses6 == (int(ipaddress.IPv6Address("fd69::9")),)
    assert first._lookup(key) is None  # the old source keeps its (old) file until it is closed
    run_inline(first.close())
    assert os.path.exists(tmp_path / "a.db")
