"""Config as JSON: a ``.json`` file with the TOML keys loads to the same ``Config``; the dhcp-hive-mind
``config.json`` is accepted as it is and ``check-config`` shows how it maps; errors keep their paths."""

from __future__ import annotations

import ipaddress
import json
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dhcpbridge.cli import main
from dhcpbridge.config import ConfigError, load

HIVEMIND = {
    "hostname": "dhcphm.localhost.localdomain",
    "interface": "localhost",
    "port": 1067,
    "subnets": [
        {
            "subnet": "67.201.192.0/24",
            "router": "67.201.192.1",
            "dynStart": "67.201.192.9",
            "dynEnd": "67.201.192.250",
            "leaseTime": 1200,
        },
        {
            "subnet": "140.160.138.0/24",
            "router": "140.160.138.1",
            "dynStart": "140.160.138.2",
            "dynEnd": "140.160.138.254",
            "leaseTime": 1600,
        },
    ],
}

TOML = """\
[server]
port = 6767
interfaces = ["eth1"]

[leases]
store = "sqlite://leases.db"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
lease-time = 600
options = { routers = ["10.67.0.1"], domain-name = "lab.example" }

[[reservation]]
mac = "02:67:00:00:00:02"
ip = "10.67.0.10"
"""


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_json_with_the_toml_keys_is_the_same_config(tmp_path: Path) -> None:
    toml_path = tmp_path / "dhcpbridge.toml"
    toml_path.write_text(TOML)
    json_path = _write(tmp_path, "dhcpbridge.json", tomllib.loads(TOML))
    assert load(json_path).model_dump() == load(toml_path).model_dump()


def test_hivemind_config_is_accepted_as_it_is(tmp_path: Path) -> None:
    config = load(_write(tmp_path, "config.json", HIVEMIND))
    assert config.server.port == 1067 and config.server.address == ipaddress.IPv4Address("127.0.0.1")
    assert config.server.interfaces == []
    first, second = config.subnet4
    assert str(first.subnet) == "67.201.192.0/24" and first.pools == ["67.201.192.9-67.201.192.250"]
    assert first.lease_time == 1200 and second.lease_time == 1600
    assert first.options == {"routers": ["67.201.192.1"]}


def test_hivemind_interface_name(tmp_path: Path) -> None:
    config = load(_write(tmp_path, "config.json", {**HIVEMIND, "interface": "eth1"}))
    assert config.server.interfaces == ["eth1"]


def test_check_config_shows_the_mapping(tmp_path: Path) -> None:
    path = _write(tmp_path, "config.json", HIVEMIND)
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok: 2 subnet4, 495 pool addresses" in result.stdout
    assert "interface 'localhost' -> server.address = '127.0.0.1'" in result.stdout
    assert (
        "subnets[1] -> subnet4[1]: subnet 140.160.138.0/24, pools [140.160.138.2-140.160.138.254]"
        in result.stdout
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"colour": "blue"}, "colour: unknown key in a hive-mind config.json"),
        ({"subnets": [{"subnet": "10.0.0.0/24", "dynStart": "10.0.0.5"}]}, "subnets[0].dynEnd: required"),
        ({"subnets": [{**HIVEMIND["subnets"][0], "dns": "x"}]}, "subnets[0].dns: unknown key"),  # type: ignore[index]
        ({"subnets": "all"}, "subnets: must be a list"),
        ({"port": 0}, "server.port"),
        ({"subnets": [{**HIVEMIND["subnets"][0], "dynEnd": "10.1.1.1"}]}, "subnet4[0].pools"),  # type: ignore[index]
    ],
)
def test_hivemind_errors(tmp_path: Path, change: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(_write(tmp_path, "config.json", {**HIVEMIND, **change}))
    assert any(expected in line for line in err.value.errors), err.value.errors


def test_json_syntax_and_shape_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    with pytest.raises(ConfigError, match="JSON syntax"):
        load(bad)
    with pytest.raises(ConfigError, match="must be a JSON object"):
        load(_write(tmp_path, "list.json", [1, 2]))
    with pytest.raises(ConfigError, match="unknown key"):
        load(_write(tmp_path, "typo.json", {"subnet4": [], "sever": {}}))
