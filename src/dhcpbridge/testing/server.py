"""DHCP servers under test as managed processes in a namespace: a common base and dhcpbridge itself.

One job: start a server process inside the server namespace (pinned to a CPU), wait until it
listens, expose its PID (for CPU accounting) and log, and stop it by PID.

:class:`ManagedServer` is the base shared with the Kea runners (:mod:`dhcpbridge.testing.kea`).
:class:`DhcpbridgeServer` runs ``<venv>/bin/dhcpbridge serve --config FILE`` with a TOML file
written from an :class:`~dhcpbridge.testing.plan.AddressPlan` (:func:`dhcpbridge_config`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

from dhcpbridge.testing.netns import Namespace, NetnsError
from dhcpbridge.testing.plan import AddressPlan
from dhcpbridge.testing.process import BackgroundProcess, ProcessOwner

SERVER_CPU = 1
"""CPU the server under test is pinned to (perfdhcp gets :data:`~dhcpbridge.testing.perfdhcp.CLIENT_CPU`)."""


class ServerError(RuntimeError):
    """A server did not start (the message carries its log)."""


class ManagedServer(ProcessOwner):
    """A server process in namespace ``ns`` with its files in ``workdir``; a context manager.

    Subclasses implement :meth:`command` (argv), :meth:`write_config` and set ``ports``
    (UDP ports that must be bound before :meth:`start` returns).
    """

    name = "server"
    family = 4
    ports: tuple[int, ...] = (67,)

    def __init__(self, ns: Namespace, workdir: Path, *, cpu: int | None = SERVER_CPU) -> None:
        self.ns = ns
        self.workdir = Path(workdir)
        self.cpu = cpu
        self.proc: BackgroundProcess | None = None

    # -- to implement -------------------------------------------------------------------------
    def write_config(self) -> Path:
        raise NotImplementedError

    def command(self, config: Path) -> list[str]:
        raise NotImplementedError

    def env(self) -> Mapping[str, str] | None:
        return None

    def check_config(self, config: Path) -> None:
        """Validate the written configuration before starting (default: nothing)."""

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.out"

    def start(self, timeout: float = 20.0) -> ManagedServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.write_config()
        self.check_config(config)
        self.proc = self.ns.popen(
            self.command(config), name=self.name, log_path=self.log_path, env=self.env(), cpu=self.cpu
        )
        try:
            for port in self.ports:
                self.ns.wait_udp_listen(port, timeout, self.proc)
        except NetnsError as exc:
            self.stop()
            raise ServerError(f"{self.name} did not come up: {exc}\n{self.log()[-3000:]}") from exc
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        return super().stop(timeout)

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise ServerError(f"{self.name} is not running")
        return self.proc.pid

    def cpu_seconds(self) -> float | None:
        return None if self.proc is None else self.proc.cpu_seconds()

    def __enter__(self) -> Self:
        self.start()
        return self


# --------------------------------------------------------------------------------------------
# minimal TOML writer (tomllib only reads; the values we write are str/int/bool/list/dict)


def _toml_key(key: str) -> str:
    if key and all(c.isalnum() or c in "-_" for c in key):
        return key
    return _toml_value(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def to_toml(doc: Mapping[str, Any]) -> str:
    """Serialise ``{table: {key: value}}`` / ``{array_table: [{...}, ...]}`` (one level) to TOML."""
    lines: list[str] = []
    for name, body in doc.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{name}]]")
                lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in item.items()]
                lines.append("")
        else:
            lines.append(f"[{name}]")
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in body.items()]
            lines.append("")
    return "\n".join(lines)


def dhcpbridge_config(plan: AddressPlan, lease_store: str, *, family: int = 4) -> dict[str, Any]:
    """The dhcpbridge TOML document (as a dict) serving ``plan``.

    ``family`` 4 writes ``[[subnet4]]`` tables, 6 ``[[subnet6]]`` tables (pools, ``pd-pools``,
    lifetimes and timers, ``dns-servers`` / ``domain-search``, ``relay-link-addresses``); the
    server listens on [::]:547, so relayed unicast needs no extra setting.
    """
    doc: dict[str, Any] = {
        "server": {"interfaces": list(plan.interfaces), "port": 67},
        "leases": {"store": lease_store},
    }
    if family == 4:
        subnets = []
        for s in plan.subnets4:
            entry: dict[str, Any] = {
                "subnet": s.subnet,
                "pools": list(s.pools),
                "lease-time": plan.lifetimes.valid4,
                "options": s.options(),
            }
            subnets.append(entry)
        doc["subnet4"] = subnets
    elif family == 6:
        lt = plan.lifetimes
        subnets6 = []
        for s6 in plan.subnets6:
            entry6: dict[str, Any] = {
                "subnet": s6.subnet,
                "pools": list(s6.pools),
                "preferred-lifetime": lt.preferred6,
                "valid-lifetime": lt.valid6,
                "renew-timer": lt.renew6,
                "rebind-timer": lt.rebind6,
                "options": s6.options(),
            }
            if s6.pd_prefix:
                entry6["pd-pools"] = [{"prefix": s6.pd_prefix, "delegated-length": s6.delegated_len}]
            if s6.interface:
                entry6["interface"] = s6.interface
            if s6.relay_addresses:
                entry6["relay-link-addresses"] = list(s6.relay_addresses)
            subnets6.append(entry6)
        del doc["server"]["port"]  # [server] port is the DHCPv4 one; [server6] defaults to 547
        doc["subnet6"] = subnets6
    else:
        raise ValueError(f"family must be 4 or 6, not {family!r}")
    return doc


def default_dhcpbridge_exe() -> Path:
    """``dhcpbridge`` next to the running interpreter (the project venv), else on PATH."""
    candidate = Path(sys.executable).parent / "dhcpbridge"
    return candidate if candidate.exists() else Path("dhcpbridge")


def dhcpbridge_unavailable(exe: Path | None = None) -> str | None:
    """None if ``dhcpbridge serve --help`` works, else the reason (for skipping)."""
    exe = exe or default_dhcpbridge_exe()
    try:
        proc = subprocess.run(
            [str(exe), "serve", "--help"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{exe} serve --help failed: {exc}"
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [""]
        return f"{exe} serve --help exited {proc.returncode}: {tail[0]}"
    return None


class DhcpbridgeServer(ManagedServer):
    """``dhcpbridge serve --config FILE`` in the server namespace, leases in ``workdir``."""

    name = "dhcpbridge"

    def __init__(
        self,
        ns: Namespace,
        workdir: Path,
        plan: AddressPlan,
        *,
        family: int = 4,
        lease_store: str | None = None,
        exe: Path | None = None,
        extra_args: Sequence[str] = (),
        cpu: int | None = SERVER_CPU,
        env: Mapping[str, str] | None = None,
        tables: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(ns, workdir, cpu=cpu)
        self.tables = dict(tables or {})  # config tables merged over the generated ones
        self.plan = plan
        self.family = family
        self.name = f"dhcpbridge{family}"
        self.ports = (67,) if family == 4 else (547,)
        self.lease_store = lease_store or f"sqlite:///{self.workdir / 'leases.db'}"
        self.exe = exe or default_dhcpbridge_exe()
        self.extra_args = list(extra_args)
        self._env = dict(env or {})

    @property
    def config_path(self) -> Path:
        return self.workdir / f"dhcpbridge{self.family}.toml"

    def write_config(self) -> Path:
        self.config_path.write_text(
            to_toml(self.merged(dhcpbridge_config(self.plan, self.lease_store, family=self.family)))
        )
        return self.config_path

    def merged(self, doc: dict[str, Any]) -> dict[str, Any]:
        """``doc`` with ``tables`` merged in (a table's keys over the generated ones)."""
        for name, values in self.tables.items():
            doc.setdefault(name, {}).update(values)
        return doc

    def command(self, config: Path) -> list[str]:
        return [str(self.exe), "serve", "--config", str(config), *self.extra_args]

    def env(self) -> Mapping[str, str] | None:
        return {"PYTHONUNBUFFERED": "1", **self._env}


def wait_for(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll ``predicate()`` until true or ``timeout`` s pass; return its last truth value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


__all__ = [
    "SERVER_CPU",
    "DhcpbridgeServer",
    "ManagedServer",
    "ServerError",
    "default_dhcpbridge_exe",
    "dhcpbridge_config",
    "dhcpbridge_unavailable",
    "to_toml",
    "wait_for",
]
