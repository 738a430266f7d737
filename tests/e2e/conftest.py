"""Fixtures for end-to-end tests: network namespaces, ``dhcpbridge serve`` with a DHCPv6 config
written from the toolkit's address plans, and helpers to read what the server stored.

The toolkit's ``dhcpbridge_config`` does not write DHCPv6 yet, so :class:`Dhcpbridge6` (a
``DhcpbridgeServer``) writes its own TOML from the plan (:func:`config6`), plus any extra tables a
test wants (``[[static6]]``, a ``[[source]]`` chain, ``[[handler]]``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Namespace, Topology, lab_topology, relayed_topology
from dhcpbridge.testing.plan import LAB_PLAN, RELAYED_PLAN, SHORT_LEASES, AddressPlan
from dhcpbridge.testing.server import DhcpbridgeServer, to_toml


def config6(plan: AddressPlan, lease_store: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The dhcpbridge TOML document (as a dict) serving ``plan.subnets6`` (what the toolkit's
    marked DHCPv6 place should build)."""
    lt = plan.lifetimes
    subnets = []
    for s in plan.subnets6:
        options: dict[str, Any] = {}
        if s.dns_servers:
            options["dns-servers"] = list(s.dns_servers)
        if s.domain_search:
            options["domain-search"] = list(s.domain_search)
        entry: dict[str, Any] = {
            "subnet": s.subnet,
            "pools": list(s.pools),
            "preferred-lifetime": lt.preferred6,
            "valid-lifetime": lt.valid6,
            "renew-timer": lt.renew6,
            "rebind-timer": lt.rebind6,
            "options": options,
        }
        if s.pd_prefix:
            entry["pd-pools"] = [{"prefix": s.pd_prefix, "delegated-length": s.delegated_len}]
        if s.interface:
            entry["interface"] = s.interface
        if s.relay_addresses:
            entry["relay-link-addresses"] = list(s.relay_addresses)
        subnets.append(entry)
    doc: dict[str, Any] = {
        "server": {"interfaces": list(plan.interfaces)},
        "leases": {"store": lease_store},
        "subnet6": subnets,
    }
    doc.update(extra or {})
    return doc


class Dhcpbridge6(DhcpbridgeServer):
    """``dhcpbridge serve`` for DHCPv6 with the config of :func:`config6` (+ ``extra`` tables)."""

    def __init__(
        self,
        ns: Namespace,
        workdir: Path,
        plan: AddressPlan,
        extra: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(ns, workdir, plan, family=6, **kw)
        self.extra = dict(extra or {})

    def write_config(self) -> Path:
        self.config_path.write_text(to_toml(config6(self.plan, self.lease_store, self.extra)))
        return self.config_path

    @property
    def db_path(self) -> Path:
        return Path("/" + self.lease_store.removeprefix("sqlite:").lstrip("/"))

    def leases(self) -> list[dict[str, Any]]:
        """Every lease record of the SQLite store (kind 6 = IA_NA, 7 = IA_PD; file and journal), read-only."""
        from dhcpbridge.leases.embedded.sqlite import read_rows

        if not self.db_path.exists():
            return []
        out = []
        for r in read_rows(self.db_path):
            row = {
                k: r[k]
                for k in (
                    "kind",
                    "address",
                    "prefix_len",
                    "client",
                    "state",
                    "expires",
                    "remote_id",
                    "source",
                )
            }
            row["interface_id"] = r["circuit_id"]
            out.append(row)
        return out


@pytest.fixture(scope="module")
def lab6() -> Iterator[Topology]:
    """The lab topology: cli(cli0) <-> srv(srv0 fd67::1/64, srv1 fd68::1/64) <-> rly(rly0)."""
    require_e2e("dhclient", "dhcpcd")
    with lab_topology() as topo:
        yield topo


@pytest.fixture(scope="module")
def lab6_server(lab6: Topology) -> Iterator[Dhcpbridge6]:
    """``dhcpbridge serve`` on the lab plan with short leases (T1 5 s, valid 30 s)."""
    server = Dhcpbridge6(lab6["srv"], lab6.workdir / "dhcpbridge6", LAB_PLAN.with_lifetimes(**SHORT_LEASES))
    with server:
        yield server


@pytest.fixture(scope="module")
def relayed6() -> Iterator[Topology]:
    """Client behind a relay: cli(cli0) <-> rly(rly0 fd69::1 | rly1 fd68::2) <-> srv(srv1 fd68::1)."""
    require_e2e("dhclient", "dhcrelay")
    with relayed_topology() as topo:
        yield topo


RELAYED6_PLAN = RELAYED_PLAN.with_lifetimes(**SHORT_LEASES)


@pytest.fixture(scope="session")
def server6_class() -> type[Dhcpbridge6]:
    """:class:`Dhcpbridge6`, for tests that start their own server (test modules cannot import
    conftest under ``--import-mode=importlib``)."""
    return Dhcpbridge6


@pytest.fixture(scope="session")
def relayed6_plan() -> AddressPlan:
    return RELAYED6_PLAN
