"""Static reservations (sources/static.py): lookups by client-id, MAC, circuit-id and remote-id, the
subnet rule, deny, option-only answers, and CSV/JSON reservation files with line-numbered errors."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.assemble import AssemblyError, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.config.model import ReservationConfig
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Action, Answer
from dhcpbridge.sources.static import ReservationError, StaticSource, load_file, relay_id
from dhcpbridge.wire.v4.message import ip4_int as ip
from dhcpbridge.wire.v4.options import encode_config_option

MAC = bytes.fromhex("02670000000a")


@dataclass(frozen=True)
class Subnet:
    name: str
    network: int
    mask: int
    pools: tuple[Any, ...] = ()

    def contains(self, addr: int) -> bool:
        return addr & self.mask == self.network


LAN = Subnet("10.67.0.0/24", ip("10.67.0.0"), 0xFFFFFF00)
OTHER = Subnet("10.68.0.0/16", ip("10.68.0.0"), 0xFFFF0000)


@dataclass
class Q:
    client_mac: bytes = MAC
    client_id: bytes = b""
    circuit_id: bytes = b""
    remote_id: bytes = b""
    subnet: Subnet | None = LAN
    protocol: int = 4
    msg_type: str = "DHCPDISCOVER"
    hostname: str = ""
    relay_ip: str = ""
    requested_ip: int = 0
    interface: str = "eth0"


def res(**kw: Any) -> ReservationConfig:
    return ReservationConfig.model_validate(kw)


def ask(source: StaticSource, **kw: Any) -> Answer:
    return run_inline(source.ask(Q(**kw)))  # type: ignore[arg-type]


def test_lookup_by_each_key() -> None:
    source = StaticSource(
        [
            res(mac="02:67:00:00:00:0a", ip="10.67.0.10"),
            res(client_id="ff:00:00:00:01", ip="10.67.0.11"),
            res(circuit_id="port-7", ip="10.67.0.12"),
            res(circuit_id="0x0a0b", ip="10.67.0.13"),
            res(remote_id="cpe-1", ip="10.67.0.14"),
        ]
    )
    assert len(source) == 5
    assert source.reserved() == frozenset(ip(f"10.67.0.{n}") for n in range(10, 15))
    assert ask(source).address == ip("10.67.0.10")
    assert ask(source, client_mac=b"x" * 6, client_id=bytes.fromhex("ff00000001")).address == ip("10.67.0.11")
    assert ask(source, client_mac=b"x" * 6, circuit_id=b"port-7").address == ip("10.67.0.12")
    assert ask(source, client_mac=b"x" * 6, circuit_id=b"\x0a\x0b").address == ip("10.67.0.13")
    assert ask(source, client_mac=b"x" * 6, remote_id=b"cpe-1").address == ip("10.67.0.14")
    assert ask(source, client_mac=b"x" * 6).action is Action.NONE


def test_lookup_order_client_id_mac_circuit_remote() -> None:
    source = StaticSource(
        [
            res(client_id="01:02", ip="10.67.0.1"),
            res(mac="02:67:00:00:00:0a", ip="10.67.0.2"),
            res(circuit_id="c", ip="10.67.0.3"),
            res(remote_id="r", ip="10.67.0.4"),
        ]
    )
    full = {"client_id": b"\x01\x02", "circuit_id": b"c", "remote_id": b"r"}
    assert ask(source, **full).address == ip("10.67.0.1")
    assert ask(source, **{**full, "client_id": b"\x09\x09"}).address == ip("10.67.0.2")
    assert ask(source, client_mac=b"y" * 6, circuit_id=b"c", remote_id=b"r").address == ip("10.67.0.3")
    assert ask(source, client_mac=b"y" * 6, circuit_id=b"?", remote_id=b"r").address == ip("10.67.0.4")


def test_answer_fields() -> None:
    source = StaticSource(
        [
            res(
                mac="02:67:00:00:00:0a",
                ip="10.67.0.10",
                hostname="printer",
                lease_time=7200,
                next_server="10.67.0.3",
                boot_file_name="pxelinux.0",
                options={"routers": ["10.67.0.254"], "domain-name": "print.example"},
            )
        ],
        name="static",
    )
    answer = ask(source)
    assert answer.action is Action.ASSIGN and answer.source == "static" and not answer.dynamic
    assert answer.hostname == "printer" and answer.lease_time == 7200
    assert answer.next_server == ip("10.67.0.3") and answer.boot_file == b"pxelinux.0"
    assert answer.options == dict(
        [
            encode_config_option("routers", ["10.67.0.254"]),
            encode_config_option("domain-name", "print.example"),
        ]
    )


def test_address_must_be_on_the_clients_subnet() -> None:
    source = StaticSource([res(mac="02:67:00:00:00:0a", ip="10.67.0.10")])
    assert ask(source, subnet=OTHER).action is Action.NONE  # the client moved
    assert ask(source, subnet=None).action is Action.NONE


def test_option_only_reservation_is_dynamic_anywhere() -> None:
    source = StaticSource([res(mac="02:67:00:00:00:0a", options={"domain-name": "x.example"})])
    for subnet in (LAN, OTHER, None):
        answer = ask(source, subnet=subnet)
        assert answer.action is Action.ASSIGN and answer.dynamic and answer.address is None
        assert answer.options == {15: b"x.example"}
    assert source.reserved() == frozenset()


def test_deny_applies_on_every_subnet() -> None:
    source = StaticSource([res(mac="02:67:00:00:00:0a", deny=True)])
    for subnet in (LAN, OTHER, None):
        assert ask(source, subnet=subnet).action is Action.DENY


def test_v6_queries_get_no_answer() -> None:
    source = StaticSource([res(mac="02:67:00:00:00:0a", ip="10.67.0.10")])
    assert ask(source, protocol=6).action is Action.NONE


def test_mac_spellings_are_the_same_key() -> None:
    source = StaticSource([res(mac="02-67-00-00-00-0A", ip="10.67.0.10")])
    assert ask(source).address == ip("10.67.0.10")


def test_relay_id() -> None:
    assert relay_id("port-7") == b"port-7"
    assert relay_id("0x0a0B") == b"\x0a\x0b"
    assert relay_id("0X01:02") == b"\x01\x02"


# --- files --------------------------------------------------------------------------------------------
CSV_OK = """\
mac,client-id,circuit-id,ip,hostname,lease-time,next-server,boot-file-name,deny,option:routers,option:domain-name
02:67:00:00:00:0a,,,10.67.0.10,printer,7200,10.67.0.3,pxelinux.0,,"10.67.0.1,10.67.0.2",print.example
,01:02:03,,10.67.0.11,,,,,,,
,,port-9,,,,,,yes,,
02:67:00:00:00:0c,,,,,,,,,,only.example
"""


def test_csv_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text(CSV_OK)
    rows = load_file(path)
    assert len(rows) == 4
    first = rows[0]
    assert first.mac == "02:67:00:00:00:0a" and str(first.ip) == "10.67.0.10" and first.lease_time == 7200
    assert first.options == {"routers": ["10.67.0.1", "10.67.0.2"], "domain-name": "print.example"}
    assert rows[1].client_id == "01:02:03" and rows[1].mac is None
    assert rows[2].deny and rows[2].circuit_id == "port-9"
    assert rows[3].ip is None and rows[3].options == {"domain-name": "only.example"}
    source = StaticSource(rows)
    assert ask(source).hostname == "printer"
    assert ask(source, client_mac=b"z" * 6, circuit_id=b"port-9").action is Action.DENY


def test_csv_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text(
        "mac,ip,hostname,option:routers\n"
        "02:67:00:00:00:0a,10.67.0.10,ok,\n"
        "02:67:00:00:00:0b,10.67.0.300,badip,\n"
        "02:67:00:00,10.67.0.12,shortmac,\n"
        "02:67:00:00:00:0d,10.67.0.13,badopt,10.67.0.x\n"
        ",10.67.0.14,nokey,\n"
    )
    with pytest.raises(ReservationError) as info:
        load_file(path)
    errors = info.value.errors
    assert len(errors) == 4
    assert errors[0].startswith(f"{path}:line 3: ip:")
    assert errors[1].startswith(f"{path}:line 4: mac:") and "6-byte MAC" in errors[1]
    assert errors[2].startswith(f"{path}:line 5: options:") and "routers" in errors[2]
    assert errors[3].startswith(f"{path}:line 6: ") and "exactly one of" in errors[3]


def test_csv_line_numbers_count_quoted_newlines(tmp_path: Path) -> None:
    path = tmp_path / "hosts.csv"
    path.write_text('mac,ip,hostname\n02:67:00:00:00:0a,10.67.0.10,"two\nlines"\n02:67:00:00:00:0b,nope,x\n')
    with pytest.raises(ReservationError) as info:
        load_file(path)
    assert info.value.errors[0].startswith(f"{path}:line 4: ip:")


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "hosts.json"
    path.write_text(
        json.dumps(
            [
                {"mac": "02:67:00:00:00:0a", "ip": "10.67.0.10", "options": {"domain-name": "a.example"}},
                {"remote-id": "cpe-1", "deny": True},
            ]
        )
    )
    rows = load_file(path)
    assert [r.mac for r in rows] == ["02:67:00:00:00:0a", None] and rows[1].deny


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            '[{"mac": "02:67:00:00:00:0a", "ip": "10.67.0.1"}, {"mac": "zz", "ip": "10.67.0.2"}]',
            "item 1: mac:",
        ),
        ('[{"mac": "02:67:00:00:00:0a", "colour": "red", "ip": "10.67.0.1"}]', "item 0: colour:"),
        ('{"mac": "02:67:00:00:00:0a"}', "must hold a list"),
        ("[1]", "item 0 is not an object"),
        ('[{"mac": "02:67:00:00:00:0a",\n  "ip": }]', "line 2"),
    ],
)
def test_json_errors(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "hosts.json"
    path.write_text(content)
    with pytest.raises(ReservationError) as info:
        load_file(path)
    assert any(e.startswith(str(path)) and words in e for e in info.value.errors), info.value.errors


def test_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ReservationError) as info:
        load_file(tmp_path / "missing.csv")
    assert "missing.csv" in info.value.errors[0] and "No such file" in info.value.errors[0]
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"mac,ip\n\xff\xfe\x00garbage\n")
    with pytest.raises(ReservationError):
        load_file(binary)


def test_files_through_the_config(tmp_path: Path) -> None:
    (tmp_path / "hosts.csv").write_text("mac,ip\n02:67:00:00:00:0a,10.67.0.10\n")
    (tmp_path / "bad.csv").write_text("mac,ip\n02:67:00:00:00:0b,10.67.0.999\n")
    doc = {
        "subnet4": [{"subnet": "10.67.0.0/24", "pools": ["10.67.0.100-10.67.0.199"]}],
        "reservation": [{"mac": "02:67:00:00:00:0c", "ip": "10.67.0.12"}],
        "source": [{"type": "reservations", "files": ["hosts.csv"]}, {"type": "pools"}],
    }
    config = from_dict(doc).with_base_dir(tmp_path)
    static = build_sources(config)[0]
    assert isinstance(static, StaticSource) and len(static) == 2  # the config's own plus the file's
    assert static.reserved() == frozenset({ip("10.67.0.10"), ip("10.67.0.12")})
    doc["source"] = [{"type": "reservations", "files": ["hosts.csv", "bad.csv", "missing.json"]}]
    with pytest.raises(AssemblyError) as info:
        build_sources(from_dict(doc).with_base_dir(tmp_path))
    errors = info.value.errors
    assert len(errors) == 2
    assert errors[0].startswith("source[0].files: ") and "bad.csv:line 2: ip:" in errors[0]
    assert "missing.json" in errors[1]
