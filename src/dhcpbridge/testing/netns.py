"""Private network-namespace topologies for tests and benchmarks, and processes run inside them.

One job: build a set of network namespaces joined by veth pairs, run commands and background
processes inside them, and always tear everything down again.

Rules this module enforces (the network rule of CONTRIBUTING.md):

* Namespace names are unique per run: ``dbt<pid>-<n>-<role>`` (``pid`` of the creating process,
  ``n`` a per-process counter), so parallel runs never collide and a leftover namespace names the
  process that made it (:func:`stale_namespaces`).
* veth pairs are created *inside* the namespaces (``ip -n A link add ... peer ... netns B``): they
  never appear in the host namespace, and interface names (``srv0``, ``cli0``...) can be the same
  in every run.  MAC addresses are fixed, so link-local addresses and client identities are stable.
* IPv6 duplicate address detection is off in every namespace (a tentative link-local address
  makes ``dhclient -6`` fail to bind for 1-2 s), ``lo`` is up, addresses exist only inside the
  namespaces.  ``/etc/netns/<name>/resolv.conf`` is created empty so that anything rewriting
  ``/etc/resolv.conf`` from inside (``ip netns exec`` bind-mounts it) touches only that copy.
* :class:`Topology` is a context manager: on normal exit, on exceptions, on Ctrl-C and on
  SIGTERM (converted to ``SystemExit`` while the topology is up, main thread only) it stops every
  process still living in its namespaces (by PID: SIGTERM, then SIGKILL) and deletes the
  namespaces, which destroys the veths.  An ``atexit`` hook covers callers that forget ``with``.

Two ready topologies:

* :func:`lab_topology` - the lab layout: ``srv`` (srv0 10.67.0.1/24 fd67::1/64,
  srv1 10.68.0.1/16 fd68::1/64) <-> ``cli`` (cli0, link-local only) and <-> ``rly``
  (rly0 10.68.0.2/16 fd68::2/64).  Real clients and ``perfdhcp -6`` run in ``cli``;
  ``perfdhcp -4`` (always a relay agent) and ``perfdhcp -6 -A 1`` run in ``rly``.
* :func:`relayed_topology` - ``cli`` (cli0) <-> ``rly`` (rly0 10.69.0.1/24 fd69::1/64 downstream,
  rly1 10.68.0.2/16 fd68::2/64 upstream) <-> ``srv`` (srv1 10.68.0.1/16 fd68::1/64, routes to
  10.69.0.0/24 and fd69::/64 via the relay), for ``dhcrelay`` / ``dhcrelay -6`` in ``rly``.
  The relay namespace forwards IP, so a client can also reach the server by unicast.

Processes: :meth:`Namespace.run` (``subprocess.run`` with a timeout) and :meth:`Namespace.popen`
(a :class:`~dhcpbridge.testing.process.BackgroundProcess`, output to a log file, stopped by
PID).  ``ip netns exec`` and ``taskset`` both ``exec`` their command, so the PID of the Popen is the PID of the program itself
(used for CPU accounting in /proc/PID/stat).
"""

from __future__ import annotations

import atexit
import contextlib
import ipaddress
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from dhcpbridge.testing.process import BackgroundProcess as BackgroundProcess  # re-exported
from dhcpbridge.testing.process import pid_alive

NAME_PREFIX = "dbt"
_NETNS_RUN_DIR = Path("/run/netns")
_NETNS_ETC_DIR = Path("/etc/netns")
_counter = itertools.count(1)

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


class NetnsError(RuntimeError):
    """A namespace operation failed (the message carries the command and its stderr)."""


def have_root() -> bool:
    """True when the process can create network namespaces (effective uid 0)."""
    return os.geteuid() == 0


def missing_tools(*tools: str) -> list[str]:
    """The names among ``tools`` that are not executables on PATH (or in /usr/sbin, /sbin)."""
    out = []
    for tool in tools:
        if shutil.which(tool) is None and not any(
            os.access(f"{d}/{tool}", os.X_OK) for d in ("/usr/sbin", "/sbin")
        ):
            out.append(tool)
    return out


def _run_host(args: Sequence[str], *, timeout: float = 30.0, check: bool = True) -> str:
    """Run one host-side administrative command (``ip ...``); return stdout."""
    try:
        proc = subprocess.run(
            list(args), capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        raise NetnsError(f"{' '.join(args)}: timed out after {timeout} s") from exc
    if check and proc.returncode != 0:
        raise NetnsError(f"{' '.join(args)}: exit {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def _child_env(env: Mapping[str, str] | None, clean: bool) -> dict[str, str] | None:
    if clean:
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", **(env or {})}
    return None if env is None else {**os.environ, **env}


@dataclass
class Namespace:
    """One network namespace of a topology: ``role`` (e.g. ``srv``) and its unique ``name``."""

    role: str
    name: str
    workdir: Path

    def exec_prefix(self, cpu: int | None = None) -> list[str]:
        """The argv prefix that runs a program inside this namespace (optionally pinned to a CPU)."""
        prefix = ["ip", "netns", "exec", self.name]
        if cpu is not None:
            prefix += ["taskset", "-c", str(cpu)]
        return prefix

    def run(
        self,
        args: Sequence[str],
        *,
        timeout: float = 30.0,
        check: bool = True,
        input: str | None = None,
        env: Mapping[str, str] | None = None,
        cpu: int | None = None,
        clean_env: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``args`` in the namespace, capture its output, bounded by ``timeout`` seconds.

        On timeout the process (and its process group) is killed and :class:`NetnsError` raised;
        with ``check`` a non-zero exit raises :class:`NetnsError` too.  ``env`` is added to our
        environment, or replaces it with ``clean_env`` (PATH is always kept).
        """
        argv = self.exec_prefix(cpu) + list(args)
        full_env = _child_env(env, clean_env)
        with subprocess.Popen(
            argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
            start_new_session=True,
        ) as proc:
            try:
                out, err = proc.communicate(input=input, timeout=timeout)
            except subprocess.TimeoutExpired as exc:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                raise NetnsError(f"[{self.name}] {' '.join(args)}: timed out after {timeout} s") from exc
            result = subprocess.CompletedProcess(argv, proc.returncode, out, err)
        if check and result.returncode != 0:
            raise NetnsError(
                f"[{self.name}] {' '.join(args)}: exit {result.returncode}: {(err or out).strip()[-2000:]}"
            )
        return result

    def popen(
        self,
        args: Sequence[str],
        *,
        name: str | None = None,
        log_path: Path | None = None,
        env: Mapping[str, str] | None = None,
        cpu: int | None = None,
        cwd: Path | None = None,
        clean_env: bool = False,
    ) -> BackgroundProcess:
        """Start ``args`` in the background in the namespace; output goes to ``log_path``.

        The process gets its own session (Ctrl-C in a terminal reaches only us; we stop it).
        """
        label = name or Path(args[0]).name
        if log_path is None:
            fd, name_ = tempfile.mkstemp(prefix=f"{label}-", suffix=".log", dir=self.workdir)
            os.close(fd)
            log_path = Path(name_)
        argv = self.exec_prefix(cpu) + list(args)
        full_env = _child_env(env, clean_env)
        return BackgroundProcess.start(argv, log_path, label, args=args, env=full_env, cwd=cwd)

    def ip(self, *args: str, check: bool = True) -> str:
        """``ip -n <name> ARGS`` (run from the host, acting on this namespace); stdout."""
        return _run_host(["ip", "-n", self.name, *args], check=check)

    def addresses(self, ifname: str, *, scope: str | None = None) -> list[IPInterface]:
        """Addresses on ``ifname`` (``scope``: ``global`` / ``link`` to filter), from ``ip -j addr``."""
        data: list[dict[str, Any]] = json.loads(self.ip("-j", "addr", "show", "dev", ifname) or "[]")
        out: list[IPInterface] = []
        for link in data:
            for info in link.get("addr_info", []):
                if scope is not None and info.get("scope") != scope:
                    continue
                out.append(ipaddress.ip_interface(f"{info['local']}/{info['prefixlen']}"))
        return out

    def link_exists(self, ifname: str) -> bool:
        return bool(self.ip("-o", "link", "show", "dev", ifname, check=False).strip())

    def flush_addresses(self, ifname: str) -> None:
        """Remove the global IPv4/IPv6 addresses (and v4 routes) a client configured on ``ifname``."""
        self.ip("-4", "addr", "flush", "dev", ifname, check=False)
        self.ip("-6", "addr", "flush", "dev", ifname, "scope", "global", check=False)

    def pids(self) -> list[int]:
        """PIDs of every process whose network namespace is this one (``ip netns pids``)."""
        out = _run_host(["ip", "netns", "pids", self.name], check=False)
        return [int(p) for p in out.split() if p.isdigit()]

    def udp_listening(self, port: int) -> bool:
        """True if some socket in the namespace listens on UDP ``port``."""
        out = self.run(["ss", "-H", "-lnu", f"sport = :{port}"], timeout=10, check=False).stdout
        return bool(out.strip())

    def wait_udp_listen(self, port: int, timeout: float, proc: BackgroundProcess | None = None) -> None:
        """Wait until UDP ``port`` is bound in the namespace; raise if ``proc`` dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc is not None and not proc.alive():
                raise NetnsError(
                    f"{proc.name} exited ({proc.returncode}) before binding UDP {port}:\n{proc.log()}"
                )
            if self.udp_listening(port):
                return
            time.sleep(0.05)
        raise NetnsError(f"[{self.name}] nothing listens on UDP {port} after {timeout} s")

    def set_checksum_offload(self, ifname: str, on: bool) -> None:
        """Switch tx checksum offload of ``ifname`` on or off (``ethtool -K IF tx on|off``).

        With offload on (the veth default) UDP replies from ordinary sockets carry a partial
        checksum: fine for the kernel, wrong for tshark and AF_PACKET readers.
        """
        self.run(["ethtool", "-K", ifname, "tx", "on" if on else "off"], timeout=10)

    def set_sysctls(self, values: Mapping[str, str | int]) -> None:
        """``sysctl -qw key=value ...`` inside the namespace."""
        if values:
            self.run(["sysctl", "-qw", *(f"{k}={v}" for k, v in values.items())], timeout=10)


@dataclass(frozen=True)
class Veth:
    """A veth pair: interface ``a_if`` in namespace role ``a`` <-> ``b_if`` in role ``b``."""

    a: str
    a_if: str
    a_mac: str
    b: str
    b_if: str
    b_mac: str


@dataclass(frozen=True)
class Address:
    """An address (CIDR notation) on ``ifname`` in namespace role ``role``."""

    role: str
    ifname: str
    cidr: str


@dataclass(frozen=True)
class Route:
    """A route ``dest via via`` in namespace role ``role``."""

    role: str
    dest: str
    via: str


@dataclass(frozen=True)
class TopologySpec:
    """What to build: namespaces (by role), veths, addresses, routes, forwarding roles."""

    roles: tuple[str, ...]
    veths: tuple[Veth, ...]
    addresses: tuple[Address, ...] = ()
    routes: tuple[Route, ...] = ()
    forwarding: tuple[str, ...] = ()
    description: str = ""
    facts: Mapping[str, str] = field(default_factory=dict)


_DAD_OFF = {
    "net.ipv6.conf.all.accept_dad": 0,
    "net.ipv6.conf.default.accept_dad": 0,
    "net.ipv6.conf.all.dad_transmits": 0,
    "net.ipv6.conf.default.dad_transmits": 0,
}
_FORWARDING = {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1}


class Topology:
    """A running set of namespaces built from a :class:`TopologySpec`; use it as a context manager.

    ``topo.ns("srv")`` (or ``topo["srv"]``) is the :class:`Namespace` of a role.  ``topo.workdir``
    is a private temporary directory (removed on exit unless ``keep_workdir``).
    """

    def __init__(
        self,
        spec: TopologySpec,
        *,
        prefix: str | None = None,
        checksum_offload: bool = True,
        keep_workdir: bool = False,
    ) -> None:
        self.spec = spec
        self.prefix = prefix or f"{NAME_PREFIX}{os.getpid()}-{next(_counter)}"
        self.checksum_offload = checksum_offload
        self.keep_workdir = keep_workdir
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        self.namespaces: dict[str, Namespace] = {
            role: Namespace(role, f"{self.prefix}-{role}", self.workdir) for role in spec.roles
        }
        self._up = False
        self._old_sigterm: Any = None
        self._sigterm_installed = False

    # -- access -------------------------------------------------------------------------------
    def ns(self, role: str) -> Namespace:
        return self.namespaces[role]

    def __getitem__(self, role: str) -> Namespace:
        return self.namespaces[role]

    @property
    def names(self) -> list[str]:
        return [n.name for n in self.namespaces.values()]

    def interfaces(self) -> Iterator[tuple[Namespace, str]]:
        for v in self.spec.veths:
            yield self.namespaces[v.a], v.a_if
            yield self.namespaces[v.b], v.b_if

    # -- lifecycle ----------------------------------------------------------------------------
    def __enter__(self) -> Topology:
        self._install_sigterm()
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.down()

    def up(self) -> None:
        """Create everything; on failure the caller (``__enter__``) removes what exists."""
        atexit.register(self.down)
        self._up = True
        for ns in self.namespaces.values():
            _run_host(["ip", "netns", "add", ns.name])
            etc = _NETNS_ETC_DIR / ns.name
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "resolv.conf").write_text("")
            ns.set_sysctls(_DAD_OFF | (_FORWARDING if ns.role in self.spec.forwarding else {}))
            ns.ip("link", "set", "lo", "up")
        for v in self.spec.veths:
            a, b = self.namespaces[v.a], self.namespaces[v.b]
            a.ip("link", "add", v.a_if, "address", v.a_mac, "type", "veth",
                 "peer", "name", v.b_if, "address", v.b_mac, "netns", b.name)  # fmt: skip
        for ns, ifname in self.interfaces():
            ns.set_sysctls(
                {f"net.ipv6.conf.{ifname}.accept_dad": 0, f"net.ipv6.conf.{ifname}.dad_transmits": 0}
            )
        for addr in self.spec.addresses:
            extra = ["nodad"] if ":" in addr.cidr else []
            self.namespaces[addr.role].ip("addr", "add", addr.cidr, "dev", addr.ifname, *extra)
        for ns, ifname in self.interfaces():
            ns.ip("link", "set", ifname, "up")
            if not self.checksum_offload:
                ns.set_checksum_offload(ifname, False)
        for r in self.spec.routes:
            self.namespaces[r.role].ip("route", "add", r.dest, "via", r.via)
        self._wait_link_local()

    def _wait_link_local(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(self.interfaces())
        while pending:
            ns, ifname = pending[0]
            data: list[dict[str, Any]] = json.loads(ns.ip("-j", "-6", "addr", "show", "dev", ifname) or "[]")
            infos = [i for link in data for i in link.get("addr_info", [])]
            ready = any(i.get("scope") == "link" for i in infos) and not any(
                i.get("tentative") for i in infos
            )
            if ready:
                pending.pop(0)
                continue
            if time.monotonic() > deadline:
                raise NetnsError(f"[{ns.name}] {ifname}: no usable IPv6 link-local address after {timeout} s")
            time.sleep(0.05)

    def set_checksum_offload(self, on: bool) -> None:
        """tx checksum offload on/off on every veth of the topology."""
        for ns, ifname in self.interfaces():
            ns.set_checksum_offload(ifname, on)

    def down(self) -> None:
        """Stop every process left in our namespaces (by PID), delete them and the workdir.

        Idempotent; SIGINT is ignored while it runs so a second Ctrl-C cannot leave half a lab.
        """
        if not self._up:
            self._restore_sigterm()
            self._remove_workdir()
            return
        old_int: Any = None
        main = threading.current_thread() is threading.main_thread()
        if main:
            old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for ns in self.namespaces.values():
                if not (_NETNS_RUN_DIR / ns.name).exists():
                    continue
                for pid in ns.pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 3.0
                while any(pid_alive(p) for p in ns.pids()) and time.monotonic() < deadline:
                    time.sleep(0.05)
                for pid in ns.pids():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            for ns in self.namespaces.values():
                if (_NETNS_RUN_DIR / ns.name).exists():
                    _run_host(["ip", "netns", "del", ns.name], check=False)
                shutil.rmtree(_NETNS_ETC_DIR / ns.name, ignore_errors=True)
            with contextlib.suppress(OSError):
                _NETNS_ETC_DIR.rmdir()  # only if empty (nobody else uses it)
            self._up = False
            atexit.unregister(self.down)
        finally:
            if main:
                signal.signal(signal.SIGINT, old_int)
            self._restore_sigterm()
            self._remove_workdir()

    def _remove_workdir(self) -> None:
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        current = signal.getsignal(signal.SIGTERM)
        if current is signal.SIG_DFL:

            def _on_term(signum: int, frame: FrameType | None) -> None:
                raise SystemExit(128 + signum)

            self._old_sigterm = signal.signal(signal.SIGTERM, _on_term)
            self._sigterm_installed = True

    def _restore_sigterm(self) -> None:
        if self._sigterm_installed and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._sigterm_installed = False

    def __repr__(self) -> str:
        return f"<Topology {self.prefix} roles={list(self.namespaces)} up={self._up}>"


def list_namespaces() -> list[str]:
    """Names of all network namespaces known to ``ip netns``."""
    return [line.split()[0] for line in _run_host(["ip", "netns", "list"], check=False).splitlines() if line]


def stale_namespaces() -> list[str]:
    """Our namespaces (``dbt<pid>-...``) whose creating process no longer exists.

    Listing only: deleting them is left to a human (``ip netns del NAME``), because processes
    still running inside were not started by the caller.
    """
    out = []
    for name in list_namespaces():
        if not name.startswith(NAME_PREFIX):
            continue
        digits = name[len(NAME_PREFIX) :].split("-", 1)[0]
        if digits.isdigit() and not pid_alive(int(digits)):
            out.append(name)
    return out


# --------------------------------------------------------------------------------------------
# ready topologies

LAB_MACS = {
    "srv0": "02:67:00:00:00:01",
    "cli0": "02:67:00:00:00:02",
    "srv1": "02:68:00:00:00:01",
    "rly0": "02:68:00:00:00:02",
}


def _both(role: str, ifname: str, v4: str, v6: str) -> tuple[Address, Address]:
    """An interface's IPv4 and IPv6 address."""
    return Address(role, ifname, v4), Address(role, ifname, v6)


def lab_spec() -> TopologySpec:
    """The lab topology: srv <-> cli, srv <-> rly."""
    return TopologySpec(
        roles=("srv", "cli", "rly"),
        veths=(
            Veth("srv", "srv0", LAB_MACS["srv0"], "cli", "cli0", LAB_MACS["cli0"]),
            Veth("srv", "srv1", LAB_MACS["srv1"], "rly", "rly0", LAB_MACS["rly0"]),
        ),
        addresses=(
            *_both("srv", "srv0", "10.67.0.1/24", "fd67::1/64"),
            *_both("srv", "srv1", "10.68.0.1/16", "fd68::1/64"),
            *_both("rly", "rly0", "10.68.0.2/16", "fd68::2/64"),
        ),
        description="cli(cli0) <-> srv(srv0 10.67.0.1/24, srv1 10.68.0.1/16) <-> rly(rly0 10.68.0.2/16)",
        facts={
            "client_if": "cli0",
            "server_if_direct": "srv0",
            "server_if_relayed": "srv1",
            "relay_if": "rly0",
            "server4": "10.68.0.1",
            "server4_direct": "10.67.0.1",
            "relay4": "10.68.0.2",
            "server6": "fd68::1",
            "relay6": "fd68::2",
        },
    )


def relayed_spec() -> TopologySpec:
    """Client behind a relay: cli(cli0) <-> rly(rly0 | rly1) <-> srv(srv1), server routes via rly."""
    return TopologySpec(
        roles=("srv", "rly", "cli"),
        veths=(
            Veth("rly", "rly0", "02:69:00:00:00:01", "cli", "cli0", "02:69:00:00:00:02"),
            Veth("srv", "srv1", LAB_MACS["srv1"], "rly", "rly1", LAB_MACS["rly0"]),
        ),
        addresses=(
            *_both("rly", "rly0", "10.69.0.1/24", "fd69::1/64"),
            *_both("rly", "rly1", "10.68.0.2/16", "fd68::2/64"),
            *_both("srv", "srv1", "10.68.0.1/16", "fd68::1/64"),
        ),
        routes=(
            Route("srv", "10.69.0.0/24", "10.68.0.2"),
            Route("srv", "fd69::/64", "fd68::2"),
        ),
        forwarding=("rly",),
        description="cli(cli0) <-> rly(rly0 10.69.0.1/24 | rly1 10.68.0.2/16) <-> srv(srv1 10.68.0.1/16)",
        facts={
            "client_if": "cli0",
            "relay_down_if": "rly0",
            "relay_up_if": "rly1",
            "server_if": "srv1",
            "server4": "10.68.0.1",
            "relay4_down": "10.69.0.1",
            "server6": "fd68::1",
            "relay6_down": "fd69::1",
        },
    )


def lab_topology(**kwargs: Any) -> Topology:
    """``with lab_topology() as topo:`` - see :func:`lab_spec`."""
    return Topology(lab_spec(), **kwargs)


def relayed_topology(**kwargs: Any) -> Topology:
    """``with relayed_topology() as topo:`` - see :func:`relayed_spec`."""
    return Topology(relayed_spec(), **kwargs)
