"""The config model and loader for DHCPv4 (config/model.py, rules.py, loader.py): defaults, and one
clear ``path: message`` line for every kind of mistake, all reported at once."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.config.loader import ConfigError, format_loc, from_dict, load

GOOD: dict[str, Any] = {
    "server": {"interfaces": ["eth0"], "authoritative": True},
    "leases": {"store": "sqlite://leases.db"},
    "subnet4": [
        {
            "subnet": "10.67.0.0/24",
            "pools": ["10.67.0.100-10.67.0.199", "10.67.0.224/28"],
            "options": {"routers": ["10.67.0.1"], "domain-name": "lab.example"},
        },
        {
            "id": 7,
            "subnet": "10.68.0.0/16",
            "pools": ["10.68.1.0-10.68.1.255"],
            "relay-addresses": ["10.68.0.2"],
        },
    ],
    "reservation": [{"mac": "02:67:00:00:00:02", "ip": "10.67.0.10", "hostname": "printer"}],
    "options": {"domain-name-servers": ["10.67.0.1"]},
}


def errors_of(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        from_dict(doc)
    return info.value.errors


def edit(**changes: Any) -> dict[str, Any]:
    """GOOD with ``subnet4_0={...}`` / ``server={...}`` / ``top={...}`` merged in."""
    doc = copy.deepcopy(GOOD)
    for key, value in changes.items():
        if key == "top":
            doc.update(value)
        elif key.startswith("subnet4_"):
            doc["subnet4"][int(key[-1])].update(value)
        else:
            doc.setdefault(key, {}).update(value)
    return doc


def test_good_config_and_defaults() -> None:
    config = from_dict(copy.deepcopy(GOOD))
    assert config.server.port == 67 and config.server.client_port == 68 and config.server.relay_port == 67
    assert config.server.offer_hold == 30 and config.server.decline_probation == 86400
    assert config.subnet4[0].lease_time == 3600 and str(config.subnet4[1].subnet) == "10.68.0.0/16"
    assert config.source[0].type == "reservations" and config.source[-1].type == "pools"
    minimal = from_dict({})
    assert minimal.leases.store.startswith("sqlite:///") and minimal.subnet4 == []


def test_hyphen_and_underscore_names() -> None:
    config = from_dict(edit(subnet4_0={"lease-time": 600, "min-lease-time": 60}))
    assert config.subnet4[0].lease_time == 600 and config.subnet4[0].min_lease_time == 60


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (edit(top={"colour": "blue"}), "colour: unknown key"),
        (edit(server={"prot": 67}), "server.prot: unknown key"),
        (edit(subnet4_0={"leese-time": 60}), "subnet4[0].leese-time: unknown key"),
        (
            edit(top={"reservation": [{"mac": "02:67:00:00:00:02", "ipp": "10.67.0.10"}]}),
            "reservation[0].ipp: unknown key",
        ),
        (edit(subnet4_1={"subnet": "10.68.0.0/33"}), "subnet4[1].subnet:"),
        (edit(subnet4_1={"subnet": "10.68.0.1/16"}), "subnet4[1].subnet:"),
        (
            edit(subnet4_0={"pools": ["10.67.0.100-10.67.1.5"]}),
            "subnet4[0].pools[0]: 10.67.0.100-10.67.1.5 is not inside subnet 10.67.0.0/24",
        ),
        (
            edit(subnet4_0={"pools": ["10.67.0.0-10.67.0.10"]}),
            "subnet4[0].pools[0]: 10.67.0.0-10.67.0.10 includes the network address",
        ),
        (
            edit(subnet4_0={"pools": ["10.67.0.200-10.67.0.255"]}),
            "subnet4[0].pools[0]: 10.67.0.200-10.67.0.255 includes the broadcast address",
        ),
        (edit(subnet4_0={"pools": ["10.67.0.100-10.67.0.x"]}), "subnet4[0].pools[0]:"),
        (edit(subnet4_0={"pools": ["10.67.0.199-10.67.0.100"]}), "ends before it starts"),
        (
            edit(subnet4_0={"pools": ["10.67.0.100-10.67.0.150", "10.67.0.150-10.67.0.160"]}),
            "subnet4[0].pools[1]: overlaps subnet4[0].pools[0]",
        ),
        (
            edit(subnet4_1={"subnet": "10.67.0.128/25", "pools": []}),
            "subnet4[1].subnet: 10.67.0.128/25 overlaps subnet4[0] 10.67.0.0/24",
        ),
        (edit(subnet4_0={"id": 7}), "subnet4[1].id: 7 is also the id of subnet4[0]"),
        (
            edit(subnet4_0={"relay-addresses": ["10.68.0.2"]}),
            "subnet4[1].relay-addresses[0]: 10.68.0.2 is already a relay of subnet4[0]",
        ),
        (
            edit(subnet4_0={"options": {"rooters": ["10.67.0.1"]}}),
            "subnet4[0].options: option 'rooters': unknown option name",
        ),
        (
            edit(subnet4_0={"options": {"routers": ["10.67.0.256"]}}),
            "subnet4[0].options: option 'routers': invalid ip4-list",
        ),
        (edit(subnet4_0={"options": {"interface-mtu": 99999}}), "does not fit in an unsigned 16-bit integer"),
        (edit(subnet4_0={"options": {"dhcp-lease-time": 60}}), "set by the server itself"),
        (edit(subnet4_0={"options": {"224": "x"}}), "option '224': option 224 is not in the registry"),
        (
            edit(top={"options": {"ntp-servers": "ntp.example"}}),
            "options: option 'ntp-servers': invalid ip4-list",
        ),
        (
            edit(subnet4_0={"min-lease-time": 7200}),
            "subnet4[0]: min-lease-time <= lease-time <= max-lease-time",
        ),
        (
            edit(subnet4_0={"renew-timer": 3000, "rebind-timer": 2000}),
            "renew-timer must not exceed rebind-timer",
        ),
        (edit(subnet4_0={"rebind-timer": 4000}), "rebind-timer must not exceed lease-time"),
        (edit(subnet4_0={"lease-time": 5}), "subnet4[0].lease-time:"),
        (
            edit(leases={"store": "mysql://localhost"}),
            "leases.store: unsupported lease store 'mysql://localhost'",
        ),
        (edit(leases={"store": "sqlite://"}), "leases.store: sqlite store needs a path"),
        (edit(server={"port": 0}), "server.port:"),
        (edit(server={"metrics": "9267"}), "server.metrics: '9267' must be HOST:PORT"),
        (edit(server={"log-level": "loud"}), "server.log-level:"),
    ],
)
def test_one_clear_error_with_its_path(doc: dict[str, Any], expected: str) -> None:
    errors = errors_of(doc)
    assert any(e.startswith(expected) or expected in e for e in errors), errors
    assert all(": " in e for e in errors)


@pytest.mark.parametrize(
    ("reservation", "expected"),
    [
        (
            {"mac": "02:67:00:00:00:05", "client-id": "01:02", "ip": "10.67.0.11"},
            "reservation[1]: a reservation needs exactly one of",
        ),
        ({"ip": "10.67.0.11"}, "reservation[1]: a reservation needs exactly one of"),
        (
            {"mac": "02:67:00:00:00:05"},
            "reservation[1]: a reservation without ip, hostname, lease-time, boot settings, options or deny does nothing",
        ),
        (
            {"mac": "02:67:00:00", "ip": "10.67.0.11"},
            "reservation[1].mac: '02:67:00:00' is not a 6-byte MAC address",
        ),
        ({"client-id": "zz", "ip": "10.67.0.11"}, "reservation[1].client-id:"),
        ({"mac": "02-67-00-00-00-02", "ip": "10.67.0.11"}, "reservation[1].mac: repeats reservation[0]"),
        (
            {"mac": "02:67:00:00:00:05", "ip": "10.67.0.10"},
            "reservation[1].ip: 10.67.0.10 is also reserved by reservation[0]",
        ),
        (
            {"mac": "02:67:00:00:00:05", "ip": "192.0.2.1"},
            "reservation[1].ip: 192.0.2.1 is in no configured subnet4",
        ),
        (
            {"mac": "02:67:00:00:00:05", "options": {"routers": "x"}},
            "reservation[1].options: option 'routers'",
        ),
    ],
)
def test_reservation_errors(reservation: dict[str, Any], expected: str) -> None:
    doc = copy.deepcopy(GOOD)
    doc["reservation"].append(reservation)
    errors = errors_of(doc)
    assert any(e.startswith(expected) for e in errors), errors


@pytest.mark.parametrize(
    "extra", [{"lease-time": 86400}, {"next-server": "10.67.0.3"}, {"boot-file-name": "pxelinux.0"}]
)
def test_reservation_with_only_lease_time_or_boot_fields_is_valid(extra: dict[str, Any]) -> None:
    doc = copy.deepcopy(GOOD)
    doc["reservation"].append({"mac": "02:67:00:00:00:05", **extra})
    from_dict(doc)


def test_every_error_is_reported_at_once() -> None:
    doc = edit(top={"colour": 1}, subnet4_0={"pools": ["10.67.1.1-10.67.1.2"]}, leases={"store": "ftp://x"})
    doc["reservation"].append({"ip": "10.67.0.11"})
    errors = errors_of(doc)
    assert len(errors) >= 3  # schema errors first; cross-field rules once the shape is right
    doc = edit(
        subnet4_0={"pools": ["10.67.1.1-10.67.1.2"], "relay-addresses": ["10.68.0.2"]}, subnet4_1={"id": None}
    )
    doc["reservation"].append({"mac": "02:67:00:00:00:05", "ip": "192.0.2.1"})
    errors = errors_of(doc)
    assert len(errors) == 3, errors
    message = str(ConfigError("x.toml", errors))
    assert message.startswith("x.toml: 3 error(s)\n") and all(f"  {e}" in message for e in errors)


def test_format_loc() -> None:
    assert format_loc(("subnet4", 1, "pools", 0)) == "subnet4[1].pools[0]"
    assert format_loc(()) == "(top level)"
    assert format_loc(("source", 0, "function-after[_auth()]", "url")) == "source[0].url"


# --- files --------------------------------------------------------------------------------------------------
GOOD_TOML = """\
[server]
interfaces = ["eth0"]

[leases]
store = "sqlite://leases.db"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
options = { routers = ["10.67.0.1"] }
"""


def test_load_a_file_and_resolve_paths_next_to_it(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "dhcpbridge.toml"
    path.parent.mkdir()
    path.write_text(GOOD_TOML)
    config = load(path)
    assert config.resolve_path("leases.db") == (tmp_path / "conf" / "leases.db").resolve()
    assert config.resolve_path("/abs/x") == Path("/abs/x")


def test_toml_syntax_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD_TOML + "\n[[subnet4]\nsubnet = 1\n")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.source == str(path)
    assert len(info.value.errors) == 1 and info.value.errors[0].startswith("TOML syntax:")
    assert "line 12" in info.value.errors[0]


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "nope.toml")
    assert info.value.errors == ["cannot read the file: No such file or directory"]
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[server]\nlog-level = "caf\xe9"\n')
    with pytest.raises(ConfigError) as info:
        load(latin)
    assert info.value.errors[0].startswith("not UTF-8 text")


def test_file_errors_carry_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text(GOOD_TOML.replace("10.67.0.199", "10.67.1.199"))
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: 1 error(s)")
    assert info.value.errors == [
        "subnet4[0].pools[0]: 10.67.0.100-10.67.1.199 is not inside subnet 10.67.0.0/24"
    ]


@pytest.mark.parametrize("addr", ["10.67.0.0", "10.67.0.255"])
def test_reservation_on_network_or_broadcast_address(addr: str) -> None:
    doc = copy.deepcopy(GOOD)
    doc["reservation"].append({"mac": "02:67:00:00:00:05", "ip": addr})
    errors = errors_of(doc)
    assert any(e.startswith("reservation[1].ip:") for e in errors)


def test_renew_timer_longer_than_the_lease() -> None:
    errors = errors_of(edit(subnet4_0={"renew-timer": 5000}))
    assert any("renew-timer" in e for e in errors)
