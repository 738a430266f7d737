"""``dhcpbridge check-config``: every problem of a file on stderr as ``FILE: PATH: message`` and exit
status 1; a valid file exits 0 with a one-line summary."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dhcpbridge.cli import main

GOOD = """\
[server]
port = 6767

[leases]
store = "sqlite://leases.db"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199", "10.67.0.200-10.67.0.209"]
options = { routers = ["10.67.0.1"] }

[[subnet4]]
subnet = "10.68.0.0/16"
pools = ["10.68.1.0/24"]
relay-addresses = ["10.68.0.2"]

[[reservation]]
mac = "02:67:00:00:00:02"
ip = "10.67.0.10"

[[source]]
type = "reservations"
files = ["hosts.csv"]

[[source]]
type = "pools"
"""


def check(path: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check-config", str(path)])
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, text: str, csv: str = "mac,ip\n02:67:00:00:00:03,10.67.0.11\n") -> Path:
    (tmp_path / "hosts.csv").write_text(csv)
    path = tmp_path / "dhcpbridge.toml"
    path.write_text(text)
    return path


def test_valid_config_exits_0_with_a_summary(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    code, out, err = check(path)
    assert code == 0, err
    assert out.startswith(f"{path}: ok: 2 subnet4, 366 pool addresses, sources: reservations(2)")
    assert "pools" in out and "store sqlite://leases.db; port 6767" in out
    assert err == ""


def test_missing_interface_is_only_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("port = 6767", 'port = 6767\ninterfaces = ["lo", "nosuchif0"]'))
    code, out, err = check(path)
    assert code == 0
    assert f"{path}: warning: server.interfaces: nosuchif0 does not exist on this host" in err
    assert "lo does not" not in err and ": ok: " in out


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("port = 6767", "port = 6767\nprot = 1", "server.prot: unknown key"),
        ('subnet = "10.68.0.0/16"', 'subnet = "10.68.0.0/33"', "subnet4[1].subnet:"),
        (
            '"10.68.1.0/24"',
            '"10.69.1.0/24"',
            "subnet4[1].pools[0]: 10.69.1.0/24 is not inside subnet 10.68.0.0/16",
        ),
        (
            '"10.67.0.200-10.67.0.209"',
            '"10.67.0.190-10.67.0.209"',
            "subnet4[0].pools[1]: overlaps subnet4[0].pools[0]",
        ),
        (
            'subnet = "10.68.0.0/16"',
            'subnet = "10.67.0.0/16"',
            "subnet4[1].subnet: 10.67.0.0/16 overlaps subnet4[0]",
        ),
        (
            'ip = "10.67.0.10"',
            'ip = "10.67.0.10"\nclient-id = "01:02"',
            "reservation[0]: a reservation needs exactly one of",
        ),
        ('mac = "02:67:00:00:00:02"\n', "", "reservation[0]: a reservation needs exactly one of"),
        ("routers = ", "rooters = ", "subnet4[0].options: option 'rooters': unknown option name"),
        ('["10.67.0.1"] }', '["10.67.0.300"] }', "subnet4[0].options: option 'routers': invalid ip4-list"),
        (
            'relay-addresses = ["10.68.0.2"]',
            'relay-addresses = ["10.68.0.2", "10.68.0.2"]',
            "subnet4[1].relay-addresses[1]: 10.68.0.2 is already a relay",
        ),
        ('store = "sqlite://leases.db"', 'store = "mysql://db"', "leases.store: unsupported lease store"),
        ('[[subnet4]]\nsubnet = "10.68', '[[subnet4]\nsubnet = "10.68', "TOML syntax:"),
    ],
)
def test_bad_configs(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    code, out, err = check(path)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert any(line.startswith(f"{path}: {expected}") for line in lines), err
    assert re.fullmatch(rf"{re.escape(str(path))}: \d+ error\(s\)", lines[-1])


def test_missing_file(tmp_path: Path) -> None:
    code, _, err = check(tmp_path / "nope.toml")
    assert code == 1 and f"{tmp_path / 'nope.toml'}: cannot read the file: No such file or directory" in err


def test_bad_reservation_file_row_with_line_number(tmp_path: Path) -> None:
    csv = "mac,ip,hostname\n02:67:00:00:00:03,10.67.0.11,a\n02:67:00:00:00:04,10.67.0.1234,b\n"
    path = write(tmp_path, GOOD, csv)
    code, out, err = check(path)
    assert code == 1 and out == ""
    assert f"{path}: source[0].files: {tmp_path / 'hosts.csv'}:line 3: ip:" in err


def test_missing_reservation_file(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("hosts.csv", "absent.csv"))
    code, _, err = check(path)
    assert code == 1 and "absent.csv" in err and "No such file" in err


def test_real_entry_point_exit_codes(tmp_path: Path) -> None:
    """The installed console script, not just the click group: status 0 / 1, output on the right stream."""
    good = write(tmp_path, GOOD)
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace("port = 6767", "port = 0"))
    cli = [sys.executable, "-m", "dhcpbridge"]
    ok = subprocess.run([*cli, "check-config", str(good)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ": ok: 2 subnet4" in ok.stdout
    no = subprocess.run([*cli, "check-config", str(bad)], capture_output=True, text=True, timeout=60)
    assert no.returncode == 1 and f"{bad}: server.port:" in no.stderr and no.stdout == ""


@pytest.mark.parametrize("position", ["before", "after"])
def test_a_broken_handler_fails_the_check_in_either_position(tmp_path: Path, position: str) -> None:
    # check-config used to load only the "after" handlers: a broken "before" one passed the check
    # and then stopped the server at start
    text = GOOD + f'\n[[handler]]\npath = "no_such_module_xyz:Handler"\nposition = "{position}"\n'
    code, _, err = check(write(tmp_path, text))
    assert code == 1
    assert "no_such_module_xyz" in err
