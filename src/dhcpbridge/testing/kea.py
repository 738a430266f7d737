"""ISC Kea 2.2 (kea-dhcp4 / kea-dhcp6) as the yardstick server, run privately in a namespace.

One job: write a Kea configuration for an :class:`~dhcpbridge.testing.plan.AddressPlan`, check it,
start the daemon in the server namespace and stop it by PID.

Never the packaged services: the daemon runs from our own config with memfile leases
(``persist=true`` by default) in a private work directory, its pid and lock files kept there too
(``KEA_PIDFILE_DIR`` / ``KEA_LOCKFILE_DIR``: Kea refuses to start if a stale pid file exists),
control socket and log file there as well; kea-dhcp6 also keeps its server DUID in that
``data-directory`` (Debian's /var/lib/kea may be absent).  The configuration check
(``kea-dhcp4 -t``) runs inside the namespace because it verifies that the interfaces exist.

Kea-dhcp4 uses raw (AF_PACKET) sockets so it can answer clients that have no address yet.
Kea-dhcp6 receives on the link-local address and ff02::1:2 of each interface; for relays that
send by unicast to a global address (``dhcrelay -6 -u fd68::1%rly1``) the plan's ``unicast6``
turns the interface entry into ``srv1/fd68::1``.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhcpbridge.testing.netns import Namespace, NetnsError, Topology
from dhcpbridge.testing.plan import AddressPlan, Subnet4, Subnet6
from dhcpbridge.testing.server import SERVER_CPU, ManagedServer, ServerError


def _pool4(pool: str) -> str:
    first, last = (p.strip() for p in pool.split("-"))
    return f"{first} - {last}"


class KeaServer(ManagedServer):
    """Common part of :class:`Kea4` and :class:`Kea6`."""

    def __init__(
        self,
        ns: Namespace,
        workdir: Path,
        plan: AddressPlan,
        *,
        persist: bool = True,
        debug: bool = False,
        cpu: int | None = SERVER_CPU,
    ) -> None:
        super().__init__(ns, workdir, cpu=cpu)
        self.plan = plan
        self.persist = persist
        self.debug = debug

    def __init_subclass__(cls, family: int = 4, **kwargs: Any) -> None:
        """``class Kea6(KeaServer, family=6)``: name, family and port follow from the family."""
        super().__init_subclass__(**kwargs)
        cls.name = f"kea{family}"
        cls.family = family
        cls.ports = (67,) if family == 4 else (547,)

    @property
    def daemon(self) -> str:
        return f"kea-dhcp{self.family}"

    @property
    def root(self) -> str:
        """The top-level key of the configuration."""
        return f"Dhcp{self.family}"

    @property
    def config_path(self) -> Path:
        return self.workdir / f"{self.daemon}.json"

    @property
    def lease_file(self) -> Path:
        return self.workdir / f"{self.daemon}-leases.csv"

    @property
    def log_file(self) -> Path:
        return self.workdir / f"{self.daemon}.log"

    def body(self) -> dict[str, Any]:
        raise NotImplementedError

    def config(self) -> dict[str, Any]:
        body = self.body()
        body.update(
            {
                "control-socket": {
                    "socket-type": "unix",
                    "socket-name": str(self.workdir / f"{self.daemon}.sock"),
                },
                "lease-database": {
                    "type": "memfile",
                    "persist": self.persist,
                    "name": str(self.lease_file),
                    "lfc-interval": 3600,
                },
                "loggers": [
                    {
                        "name": self.daemon,
                        "severity": "DEBUG" if self.debug else "WARN",
                        "debuglevel": 99 if self.debug else 0,
                        "output_options": [{"output": str(self.log_file)}],
                    }
                ],
            }
        )
        return {self.root: body}

    def write_config(self) -> Path:
        self.config_path.write_text(json.dumps(self.config(), indent=2))
        (self.workdir / f"{self.daemon}.sock").unlink(missing_ok=True)
        return self.config_path

    def check_config(self, config: Path) -> None:
        try:
            self.ns.run([self.daemon, "-t", str(config)], timeout=30, env=self.env())
        except NetnsError as exc:
            raise ServerError(f"{self.daemon} rejected {config}: {exc}") from exc

    def command(self, config: Path) -> list[str]:
        return [self.daemon, "-c", str(config)]

    def env(self) -> Mapping[str, str]:
        return {"KEA_PIDFILE_DIR": str(self.workdir), "KEA_LOCKFILE_DIR": str(self.workdir)}

    def log(self) -> str:
        text = super().log()
        if self.log_file.exists():
            text += self.log_file.read_text(errors="replace")
        return text

    def leases(self) -> list[dict[str, str]]:
        """Rows of the memfile lease CSV (latest row per address wins; empty if ``persist=False``)."""
        if not self.lease_file.exists():
            return []
        with open(self.lease_file, newline="") as f:
            rows = list(csv.DictReader(f))
        latest: dict[str, dict[str, str]] = {}
        for row in rows:
            key = row.get("address", "") + "/" + row.get("prefix_len", "")
            latest[key] = row
        return list(latest.values())


class Kea4(KeaServer, family=4):
    """kea-dhcp4 with raw sockets serving ``plan.subnets4`` on ``plan.interfaces``."""

    def body(self) -> dict[str, Any]:
        lt = self.plan.lifetimes
        subnets = [_subnet(i, s, [_pool4(p) for p in s.pools]) for i, s in enumerate(self.plan.subnets4, 1)]
        return {
            "interfaces-config": {"interfaces": list(self.plan.interfaces), "dhcp-socket-type": "raw"},
            "valid-lifetime": lt.valid4,
            "renew-timer": lt.renew4,
            "rebind-timer": lt.rebind4,
            "subnet4": subnets,
        }


class Kea6(KeaServer, family=6):
    """kea-dhcp6 serving ``plan.subnets6`` (IA_NA pools and IA_PD pools) on ``plan.interfaces``."""

    def body(self) -> dict[str, Any]:
        lt = self.plan.lifetimes
        subnets = []
        for i, s in enumerate(self.plan.subnets6, start=1):
            entry = _subnet(i, s, list(s.pools))
            if s.pd_prefix:
                prefix, length = s.pd_prefix.split("/")
                entry["pd-pools"] = [
                    {"prefix": prefix, "prefix-len": int(length), "delegated-len": s.delegated_len}
                ]
            if s.relay_addresses:
                entry["relay"] = {"ip-addresses": list(s.relay_addresses)}
            subnets.append(entry)
        unicast = dict(self.plan.unicast6)
        interfaces = [f"{i}/{unicast[i]}" if i in unicast else i for i in self.plan.interfaces]
        return {
            "interfaces-config": {"interfaces": interfaces},
            "data-directory": str(self.workdir),
            "preferred-lifetime": lt.preferred6,
            "valid-lifetime": lt.valid6,
            "renew-timer": lt.renew6,
            "rebind-timer": lt.rebind6,
            "subnet6": subnets,
        }


def _subnet(number: int, s: Subnet4 | Subnet6, pools: list[str]) -> dict[str, Any]:
    """The part of a Kea subnet entry that v4 and v6 share: id, subnet, pools, options, interface."""
    entry: dict[str, Any] = {
        "id": number,
        "subnet": s.subnet,
        "pools": [{"pool": p} for p in pools],
        "option-data": [
            {"name": name, "data": value if isinstance(value, str) else ", ".join(value)}
            for name, value in s.options().items()
        ],
    }
    if s.interface:
        entry["interface"] = s.interface
    return entry


def kea_for(family: int) -> type[KeaServer]:
    """:class:`Kea4` or :class:`Kea6`."""
    return Kea4 if family == 4 else Kea6


@dataclass
class KeaLab:
    """A topology with kea-dhcp4 and kea-dhcp6 both running in its ``srv`` namespace."""

    topo: Topology
    kea4: Kea4
    kea6: Kea6


@contextlib.contextmanager
def kea_lab(topo: Topology, plan: AddressPlan, *, persist: bool = True) -> Iterator[KeaLab]:
    """Start Kea 4 and 6 for ``plan`` in ``topo``'s server namespace; stop both on exit."""
    kea4 = Kea4(topo["srv"], topo.workdir / "kea4", plan, persist=persist)
    kea6 = Kea6(topo["srv"], topo.workdir / "kea6", plan, persist=persist)
    with kea4, kea6:
        yield KeaLab(topo, kea4, kea6)
