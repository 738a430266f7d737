"""The CSV and SQLite backends over real HTTP: columns, layers, bad rows, changes."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from dhcpbridge.answer.files import FileStore
from dhcpbridge.answer.service import AnswerService
from dhcpbridge.answer.tables import CsvStore, SqliteStore, check_rows

from .conftest import RecordingLog, Serve, q4, q6

CSV = """\
key,client_ip,hostname,lease_time,router,dns_servers,addresses,prefixes,options,json,action
# comment rows start with #
02-67-00-00-00-02,10.67.0.50,cli0,3600,10.67.0.1,"10.67.0.1 10.67.0.2",,,"[{""code"": 224, ""hex"": ""0102""}]",,
duid-000100012e6b1c3a026700000002,,,,,fd68::1,fd68::100:7,fd68:1000:0:700::/56,,"{""cache_ttl"": 30}",
subnet-10.67.0.0/24,,,7200,,,,,,"{""domain_name"": ""lab.example""}",
02:67:00:00:00:0a,,,,,,,,,,ignore

02-67-00-00-00-0b,10.67.0.999,,,,,,,,,
"""


def write_csv(path: Path, text: str) -> None:
    path.write_text(text)
    stamp = time.time_ns()
    os.utime(path, ns=(stamp, stamp))


async def test_csv_rows_become_answers(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    table = tmp_path / "hosts.csv"
    write_csv(table, CSV)
    store = CsvStore(table, log)
    service = AnswerService([store], log)
    service.load()
    bridge = await serve(service)

    assert await bridge.ask(q4(subnet="10.67.0.0/24")) == {
        "action": "assign",
        "lease_time": 3600,
        "domain_name": "lab.example",
        "client_ip": "10.67.0.50",
        "hostname": "cli0",
        "router": ["10.67.0.1"],
        "dns_servers": ["10.67.0.1", "10.67.0.2"],
        "options": [{"code": 224, "hex": "0102"}],
    }
    assert await bridge.ask(q6()) == {
        "action": "assign",
        "dns_servers": ["fd68::1"],
        "addresses": [{"address": "fd68::100:7"}],
        "prefixes": [{"prefix": "fd68:1000:0:700::", "length": 56}],
        "cache_ttl": 30,
    }
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:0a")) == {"action": "ignore"}
    # the bad row is reported with its line number and skipped
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:0b")) == {"action": "none"}
    assert any(p.startswith("hosts.csv:8: client_ip:") for p in store.problems())
    assert store.stats()["entries"] == 4


async def test_csv_reload_keeps_the_last_good_row(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    table = tmp_path / "hosts.csv"
    write_csv(table, "key,client_ip\n02:67:00:00:00:02,10.67.0.50\n02:67:00:00:00:03,10.67.0.53\n")
    service = AnswerService([CsvStore(table, log)], log)
    service.load()
    bridge = await serve(service)
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.50"

    write_csv(table, "key,client_ip\n02:67:00:00:00:02,10.67.0.51\n02:67:00:00:00:03,10.67.0.\n")
    assert await service.refresh()
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.51"
    assert (await bridge.ask(q4(client_mac="02:67:00:00:00:03")))["client_ip"] == "10.67.0.53"
    assert log.find("error", "bad csv row")
    assert not await service.refresh()  # nothing changed since


async def test_csv_header_problems_keep_everything(tmp_path: Path, log: RecordingLog) -> None:
    table = tmp_path / "hosts.csv"
    write_csv(table, "key,client_ip\n02:67:00:00:00:02,10.67.0.50\n")
    store = CsvStore(table, log)
    store.load()
    write_csv(table, "key,clientip\n02:67:00:00:00:02,10.67.0.51\n")
    assert await store.refresh()
    assert store.problems() == ["unknown column(s) in the header: clientip"]
    entry = store.get("02:67:00:00:00:02")
    assert entry is not None and entry.answer["client_ip"] == "10.67.0.50"


def make_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE answers (key TEXT PRIMARY KEY, client_ip TEXT, lease_time INTEGER, "
            "router TEXT, options TEXT, json TEXT, action TEXT)"
        )
        db.executemany(
            "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                ("02:67:00:00:00:02", "10.67.0.50", 3600, "10.67.0.1", None, None, None),
                (
                    "subnet-10.67.0.0/24",
                    None,
                    7200,
                    None,
                    '[{"name": "tftp-server-name", "value": "boot"}]',
                    None,
                    None,
                ),
                ("relay-10.68.0.2", None, None, "10.68.0.1", None, '{"domain_name": "relay.example"}', None),
                (
                    "02-67-00-00-00-03",
                    "10.67.0.53",
                    None,
                    None,
                    None,
                    None,
                    None,
                ),  # not canonical: never matches
                ("02:67:00:00:00:04", "10.67.0.54", "soon", None, None, None, None),  # bad lease_time
                ("02:67:00:00:00:0a", None, None, None, None, None, "deny"),
            ],
        )


async def test_sqlite_rows_become_answers(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    database = tmp_path / "answers.db"
    make_db(database)
    store = SqliteStore(database, "answers", log)
    service = AnswerService([store], log)
    service.load()
    assert any("'02-67-00-00-00-03' is not in canonical form" in p for p in store.problems())
    bridge = await serve(service)
    assert await bridge.ask(q4(subnet="10.67.0.0/24")) == {
        "action": "assign",
        "lease_time": 3600,
        "client_ip": "10.67.0.50",
        "router": ["10.67.0.1"],
        "options": [{"name": "tftp-server-name", "value": "boot"}],
    }
    relayed = await bridge.ask(q4(client_mac="02:68:00:00:00:09", relay_ip="10.68.0.2"))
    assert relayed == {"action": "none"}  # layers alone do not answer an unknown client
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:0a")) == {"action": "deny"}
    assert await bridge.ask(q4(client_mac="02:67:00:00:00:04")) == {"action": "none"}
    assert log.find("error", "bad sqlite row")
    assert store.stats()["entries"] == 6
    assert any("lease_time" in p for p in check_rows(store))


async def test_sqlite_sees_commits_and_replaced_files(
    tmp_path: Path, log: RecordingLog, serve: Serve
) -> None:
    database = tmp_path / "answers.db"
    make_db(database)
    store = SqliteStore(database, "answers", log)
    service = AnswerService([store], log)
    service.load()
    bridge = await serve(service)
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.50"
    assert not await service.refresh()

    with sqlite3.connect(database) as db:
        db.execute("UPDATE answers SET client_ip = '10.67.0.51' WHERE key = '02:67:00:00:00:02'")
    assert await service.refresh()
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.51"

    replacement = tmp_path / "new.db"
    make_db(replacement)
    with sqlite3.connect(replacement) as db:
        db.execute("UPDATE answers SET client_ip = '10.67.0.52' WHERE key = '02:67:00:00:00:02'")
    replacement.replace(database)
    assert await service.refresh()
    assert (await bridge.ask(q4()))["client_ip"] == "10.67.0.52"
    assert log.find("info", "sqlite file replaced; reopening")


def test_sqlite_table_must_have_known_columns(tmp_path: Path, log: RecordingLog) -> None:
    database = tmp_path / "answers.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE answers (mac TEXT, ip TEXT)")
    with pytest.raises(ValueError, match="no key column"):
        SqliteStore(database, "answers", log).load()
    with pytest.raises(ValueError, match="no table 'hosts'"):
        SqliteStore(database, "hosts", log).load()
    with pytest.raises(ValueError, match="plain SQL table name"):
        SqliteStore(database, "answers; DROP TABLE x", log)


async def test_stores_are_asked_in_order(tmp_path: Path, log: RecordingLog, serve: Serve) -> None:
    """A file entry wins over a CSV row for the same key; layers come from whichever has them."""
    directory = tmp_path / "hosts"
    directory.mkdir()
    (directory / "02-67-00-00-00-02.json").write_text('{"client_ip": "10.67.0.60"}')
    table = tmp_path / "hosts.csv"
    write_csv(table, CSV)
    service = AnswerService([FileStore(directory, log), CsvStore(table, log)], log)
    service.load()
    bridge = await serve(service)
    answer = await bridge.ask(q4(subnet="10.67.0.0/24"))
    assert answer == {
        "action": "assign",
        "lease_time": 7200,
        "domain_name": "lab.example",
        "client_ip": "10.67.0.60",
    }
    assert log.find("info", "answer")[-1]["source"] == "files"
