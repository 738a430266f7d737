"""Server configurations written from the address plan (Kea JSON, dhcpbridge TOML)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from dhcpbridge.testing.kea import Kea4, Kea6
from dhcpbridge.testing.netns import Namespace
from dhcpbridge.testing.plan import LAB_PLAN, RELAYED_PLAN, AddressPlan
from dhcpbridge.testing.server import DhcpbridgeServer, dhcpbridge_config, to_toml


def fake_ns(tmp_path: Path) -> Namespace:
    return Namespace("srv", "not-created", tmp_path)


def test_dhcpbridge_v4_config_is_the_agreed_toml(tmp_path: Path) -> None:
    server = DhcpbridgeServer(fake_ns(tmp_path), tmp_path / "w", LAB_PLAN, exe=Path("/x/dhcpbridge"))
    server.workdir.mkdir()
    path = server.write_config()
    doc = tomllib.loads(path.read_text())
    assert doc == {
        "server": {"interfaces": ["srv0", "srv1"], "port": 67},
        "leases": {"store": f"sqlite:///{tmp_path}/w/leases.db"},
        "subnet4": [
            {
                "subnet": "10.67.0.0/24",
                "pools": ["10.67.0.100-10.67.0.199"],
                "lease-time": 7200,
                "options": {
                    "routers": ["10.67.0.1"],
                    "domain-name-servers": ["10.67.0.1"],
                    "domain-name": "lab.test",
                },
            },
            {
                "subnet": "10.68.0.0/16",
                "pools": ["10.68.1.0-10.68.255.254"],
                "lease-time": 7200,
                "options": {"routers": ["10.68.0.1"]},
            },
        ],
    }
    assert server.command(path) == ["/x/dhcpbridge", "serve", "--config", str(path)]
    assert server.ports == (67,)


def test_dhcpbridge_v6_config_from_the_plan(tmp_path: Path) -> None:
    server = DhcpbridgeServer(fake_ns(tmp_path), tmp_path / "w", RELAYED_PLAN, family=6)
    server.workdir.mkdir()
    doc = tomllib.loads(server.write_config().read_text())
    assert server.ports == (547,)
    assert doc["server"] == {"interfaces": ["srv1"]}
    behind_relay, on_link = doc["subnet6"]
    assert behind_relay == {
        "subnet": "fd69::/64",
        "pools": ["fd69::100:0/104"],
        "preferred-lifetime": 3000,
        "valid-lifetime": 4000,
        "renew-timer": 1000,
        "rebind-timer": 2000,
        "options": {"dns-servers": ["fd68::1"], "domain-search": ["relayed.test"]},
        "pd-pools": [{"prefix": "fd69:1000::/40", "delegated-length": 56}],
    }
    assert on_link["interface"] == "srv1" and on_link["relay-link-addresses"] == ["fd68::2"]


@pytest.mark.parametrize(
    ("plan", "family"), [(LAB_PLAN, 4), (LAB_PLAN, 6), (RELAYED_PLAN, 4), (RELAYED_PLAN, 6)]
)
def test_dhcpbridge_accepts_the_written_config(tmp_path: Path, plan: AddressPlan, family: int) -> None:
    """The project's own config loader takes what the toolkit writes."""
    loader = pytest.importorskip("dhcpbridge.config.loader")
    doc = tomllib.loads(to_toml(dhcpbridge_config(plan, f"sqlite:///{tmp_path}/leases.db", family=family)))
    config = loader.from_dict(doc)
    subnets = config.subnet4 if family == 4 else config.subnet6
    assert [str(s.subnet) for s in subnets] == [
        s.subnet for s in (plan.subnets4 if family == 4 else plan.subnets6)
    ]


def test_unknown_family_is_rejected() -> None:
    with pytest.raises(ValueError, match="family"):
        dhcpbridge_config(LAB_PLAN, "sqlite:///x", family=5)


def test_toml_writer_round_trips_awkward_values() -> None:
    doc = {"t": {"a b": 'quo"te\\', "n": -3, "f": 1.5, "ok": True, "l": [1, "x"], "d": {"k-1": []}}}
    assert tomllib.loads(to_toml(doc)) == doc


def test_kea4_config_matches_the_plan(tmp_path: Path) -> None:
    conf = Kea4(
        fake_ns(tmp_path), tmp_path, LAB_PLAN.with_lifetimes(valid4=30, renew4=5, rebind4=20)
    ).config()
    d = conf["Dhcp4"]
    assert d["interfaces-config"] == {"interfaces": ["srv0", "srv1"], "dhcp-socket-type": "raw"}
    assert (d["valid-lifetime"], d["renew-timer"], d["rebind-timer"]) == (30, 5, 20)
    assert d["lease-database"]["persist"] is True
    assert d["lease-database"]["name"].startswith(str(tmp_path))
    s1, s2 = d["subnet4"]
    assert s1["pools"] == [{"pool": "10.67.0.100 - 10.67.0.199"}] and s1["interface"] == "srv0"
    assert {o["name"]: o["data"] for o in s1["option-data"]} == {
        "routers": "10.67.0.1",
        "domain-name-servers": "10.67.0.1",
        "domain-name": "lab.test",
    }
    assert s2["subnet"] == "10.68.0.0/16" and "interface" not in s2


def test_kea6_config_matches_the_plan(tmp_path: Path) -> None:
    d = Kea6(fake_ns(tmp_path), tmp_path, RELAYED_PLAN, persist=False).config()["Dhcp6"]
    assert d["interfaces-config"] == {"interfaces": ["srv1/fd68::1"]}
    assert d["data-directory"] == str(tmp_path)
    assert d["lease-database"]["persist"] is False
    behind_relay = d["subnet6"][0]
    assert behind_relay["subnet"] == "fd69::/64"
    assert behind_relay["pd-pools"] == [{"prefix": "fd69:1000::", "prefix-len": 40, "delegated-len": 56}]
    assert "interface" not in behind_relay
    assert d["subnet6"][1]["relay"] == {"ip-addresses": ["fd68::2"]}


def test_extra_tables_are_merged_over_the_generated_config_and_load(tmp_path: Path) -> None:
    """The bench's known-clients rows turn the per-client rate limit off this way."""
    from dhcpbridge.config.loader import from_dict

    server = DhcpbridgeServer(
        fake_ns(tmp_path),
        tmp_path / "w",
        LAB_PLAN,
        tables={"limits": {"client-rate": 0}, "server": {"log-level": "warning"}},
    )
    server.workdir.mkdir()
    doc = tomllib.loads(server.write_config().read_text())
    assert doc["limits"] == {"client-rate": 0}
    assert doc["server"] == {"interfaces": ["srv0", "srv1"], "port": 67, "log-level": "warning"}
    assert from_dict(doc).limits.client_rate == 0
