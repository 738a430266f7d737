"""The DHCPv6 part of the config: ``[server6]``, ``[[subnet6]]``, ``[[static6]]``, ``[[handler]]`` -
what is accepted, and every problem reported with its path (also by ``check-config``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dhcpbridge.assemble import build_engine6, load_handlers
from dhcpbridge.cli import main
from dhcpbridge.config import ConfigError, loader
from dhcpbridge.engine.records import HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore

GOOD = """\
[server]
interfaces = ["srv0"]

[server6]
server-duid = "en:32473:0a0b"
options = { sntp-servers = ["fd00::123"] }

[leases]
store = "memory://"

[[subnet6]]
subnet = "2001:db8:1::/64"
interface = "srv0"
pools = ["2001:db8:1::1000-2001:db8:1::1fff", "2001:db8:1::2:0/112"]
pd-pools = [{prefix = "2001:db8:1000::/40", delegated-length = 56}]
preferred-lifetime = 1800
valid-lifetime = 3600
rapid-commit = true
options = { dns-servers = ["2001:db8:1::53"], domain-search = ["example.net"], preference = 255, "65000:string" = "hi" }

[[subnet6]]
subnet = "2001:db8:2::/64"
relay-link-addresses = ["2001:db8:2::1"]
pd-pools = [{prefix = "2001:db8:2000::/40", delegated-length = 60}]

[[static6]]
id = "remote-id-str:9:customer-1"
prefix = "2001:db8:ff00::/56"

[[static6]]
id = "duid:000300010267000000aa"
address = "2001:db8:1::aa"
options = { dns-servers = ["2001:db8:1::54"] }

[[source]]
type = "static6"

[[source]]
type = "pools"
"""


def load(text: str) -> Any:
    import tomllib

    return loader.from_dict(tomllib.loads(text))


def errors(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        loader.from_dict(doc)
    return err.value.errors


def test_a_full_v6_config_builds_an_engine() -> None:
    cfg = load(GOOD)
    engine = build_engine6(cfg, MemoryStore(), HostInfo6({}), Stats(), [])
    env = engine.env
    assert env.server_duid == bytes.fromhex("000200007ed90a0b")
    first, second = env.subnets.subnets
    assert (first.preferred, first.valid, first.t1, first.t2, first.rapid_commit) == (
        1800,
        3600,
        900,
        1440,
        True,
    )
    assert first.pools[0].size == 0x1000 and first.pools[1].size == 0x10000
    assert first.pd_pools[0].length == 56 and first.pd_pools[0].size == 65536
    assert second.pd_pools[0].length == 60 and second.pd_pools[0].size == 1 << 20
    assert set(first.options) == {23, 24, 7, 65000, 31}  # [server6] options are the base of every subnet
    assert first.options[65000][0].data == b"hi"
    assert env.subnets.by_link(int(ipaddress.IPv6Address("2001:db8:2::1"))) is second


def sub(**kw: Any) -> dict[str, Any]:
    return {"subnet": "2001:db8:1::/64", **kw}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {"subnet6": [sub(pools=["2001:db8:9::/112"])]},
            "subnet6[0].pools[0]: 2001:db8:9::/112 is not inside",
        ),
        (
            {"subnet6": [sub(pools=["2001:db8:1::5-2001:db8:1::1"])]},
            "subnet6[0].pools[0]: pool '2001:db8:1::5-2001:db8:1::1' ends before it starts",
        ),
        ({"subnet6": [sub(pools=["10.0.0.0/24"])]}, "subnet6[0].pools[0]"),
        (
            {"subnet6": [sub(pools=["2001:db8:1::/112", "2001:db8:1::80-2001:db8:1::90"])]},
            "subnet6[0].pools[1]: overlaps subnet6[0].pools[0]",
        ),
        ({"subnet6": [sub(), sub()]}, "subnet6[1].subnet: 2001:db8:1::/64 overlaps subnet6[0]"),
        (
            {"subnet6": [sub(**{"pd-pools": [{"prefix": "2001:db8:1000::/40", "delegated-length": 32}]})]},
            "subnet6[0].pd-pools[0]: delegated-length 32 is shorter",
        ),
        (
            {"subnet6": [sub(**{"pd-pools": [{"prefix": "2001:db8:1000::1/40", "delegated-length": 56}]})]},
            "subnet6[0].pd-pools[0].prefix",
        ),
        (
            {
                "subnet6": [
                    sub(**{"pd-pools": [{"prefix": "2001:db8:1000::/40", "delegated-length": 56}]}),
                    {
                        "subnet": "2001:db8:2::/64",
                        "pd-pools": [{"prefix": "2001:db8:1000::/48", "delegated-length": 56}],
                    },
                ]
            },
            "subnet6[1].pd-pools[0]: overlaps subnet6[0].pd-pools[0]",
        ),
        (
            {
                "subnet6": [
                    sub(
                        pools=["2001:db8:1::/112"],
                        **{"pd-pools": [{"prefix": "2001:db8:1::/120", "delegated-length": 124}]},
                    )
                ]
            },
            "subnet6[0].pd-pools[0]: overlaps the address pool subnet6[0].pools[0]",
        ),
        (
            {"subnet6": [sub(interface="srv0"), {"subnet": "2001:db8:2::/64", "interface": "srv0"}]},
            "subnet6[1].interface: srv0 is already the interface of subnet6[0]",
        ),
        (
            {
                "subnet6": [
                    sub(**{"relay-link-addresses": ["2001:db8:9::1"]}),
                    {"subnet": "2001:db8:2::/64", "relay-link-addresses": ["2001:db8:9::1"]},
                ]
            },
            "subnet6[1].relay-link-addresses[0]: 2001:db8:9::1 is already a link of subnet6[0]",
        ),
        (
            {"subnet6": [sub(**{"preferred-lifetime": 900, "valid-lifetime": 600})]},
            "preferred-lifetime must not",
        ),
        ({"subnet6": [sub(**{"renew-timer": 900, "rebind-timer": 600})]}, "renew-timer must not exceed"),
        (
            {"subnet6": [sub(options={"dns-servers": ["10.0.0.1"]})]},
            "subnet6[0].options: option 'dns-servers'",
        ),
        ({"subnet6": [sub(options={"ia-na": "x"})]}, "unknown DHCPv6 option"),
        ({"subnet6": [sub(options={"3": "00"})]}, "built by the server"),
        ({"subnet6": [sub(lease_time=5)]}, "subnet6[0].lease_time: unknown key"),
        ({"server6": {"server-duid": "ll:zz"}}, "server6.server-duid: invalid DUID"),
        ({"server6": {"port": 0}}, "server6.port"),
        (
            {"static6": [{"id": "duid:0001000102", "address": "2001:db8:1::5"}]},
            "static6[0].address: 2001:db8:1::5 is in no configured subnet6",
        ),
        (
            {
                "subnet6": [sub()],
                "static6": [
                    {"id": "interface-id-str:a", "address": "2001:db8:1::5"},
                    {"id": "interface-id:61", "prefix": "2001:db8:5::/48"},
                ],
            },
            "static6[1].id: interface-id:61 repeats static6[0]",
        ),
        (
            {
                "subnet6": [sub()],
                "static6": [
                    {"id": "interface-id-str:a", "prefix": "2001:db8:5::/48"},
                    {"id": "interface-id-str:b", "prefix": "2001:db8:5:100::/56"},
                ],
            },
            "static6[1].prefix: 2001:db8:5:100::/56 overlaps static6[0]",
        ),
        (
            {
                "subnet6": [sub()],
                "static6": [{"id": "interface-id-str:a", "address": "2001:db8:1::5"}],
                "source": [{"type": "pools"}],
            },
            'static6: entries are never used: add [[source]] type = "static6"',
        ),
        (
            {
                "subnet6": [sub(**{"pd-pools": [{"prefix": "2001:db8:1000::/40", "delegated-length": 56}]})],
                "static6": [{"id": "interface-id-str:a", "prefix": "2001:db8:1000::/48"}],
            },
            "static6[0].prefix: 2001:db8:1000::/48 lies in subnet6[0].pd-pools[0] but is not one of its /56",
        ),
        ({"handler": [{"path": "nomodule"}]}, "handler[0].path: 'nomodule' must be"),
        ({"handler": [{"path": "m:C", "family": 5}]}, "handler[0].family"),
    ],
)
def test_v6_problems_are_reported_with_their_path(doc: dict[str, Any], expected: str) -> None:
    found = errors(doc)
    assert any(e.startswith(expected) or expected in e for e in found), found


def test_every_problem_at_once() -> None:
    found = errors({"static6": [{"id": "bad", "address": "2001:db8:1::1"}], "server6": {"server-duid": "x"}})
    assert [e.split(":")[0] for e in found] == ["server6.server-duid", "static6[0].id"]
    found = errors({"subnet6": [sub(pools=["2001:db8:9::/112"]), sub()]})
    assert [e.split(":")[0] for e in found] == ["subnet6[1].subnet", "subnet6[0].pools[0]"]


def test_check_config_summarises_v6_and_loads_handlers(tmp_path: Path) -> None:
    (tmp_path / "myhandlers.py").write_text(
        "from dhcpbridge.engine.pipeline import Handler\n"
        "class Tag(Handler):\n"
        "    def __init__(self, text: str = 'x') -> None:\n"
        "        self.text = text\n"
    )
    path = tmp_path / "d.toml"
    path.write_text(
        GOOD + '\n[[handler]]\npath = "myhandlers:Tag"\nsearch-path = "."\noptions = { text = "hello" }\n'
    )
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == (
        f"{path}: ok: 2 subnet6, 69632 pool addresses, 1114112 delegated prefixes, 2 static6 entries; port 547"
    )
    assert lines[2] == f"{path}: ok: handlers Tag, Tag"  # both families
    path.write_text(
        GOOD + '\n[[handler]]\npath = "myhandlers:Tag"\nsearch-path = "."\noptions = { colour = 1 }\n'
    )
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 1
    assert "handler[0].path: " in result.stderr and "colour" in result.stderr
    path.write_text(GOOD + '\n[[handler]]\npath = "nosuchmodule:Tag"\nfamily = 6\n')
    result = CliRunner().invoke(main, ["check-config", str(path)])
    assert result.exit_code == 1 and "cannot import handler module 'nosuchmodule'" in result.stderr


def test_handlers_are_chosen_by_family(tmp_path: Path) -> None:
    (tmp_path / "fam_handlers.py").write_text(
        "from dhcpbridge.engine.pipeline import Handler\nclass A(Handler):\n    pass\nclass B(Handler):\n    pass\n"
    )
    doc = {
        "handler": [
            {"path": "fam_handlers:A", "family": 4, "search-path": "."},
            {"path": "fam_handlers.B", "family": 6, "search-path": "."},
            {"path": "fam_handlers:A", "search-path": "."},
        ]
    }
    cfg = loader.from_dict(doc).with_base_dir(tmp_path)
    assert [type(h).__name__ for h in load_handlers(cfg, 4)] == ["A", "A"]
    assert [type(h).__name__ for h in load_handlers(cfg, 6)] == ["B", "A"]
