"""Drivers for real DHCP clients (ISC dhclient, busybox udhcpc, dhcpcd) and ISC dhcrelay in a namespace.

One job: run a real client on an interface of a test namespace, bounded in time, and report
what it obtained as a structured :class:`Lease` (plus the client's own log and hook events).

Every driver keeps its files in a private temporary directory: a generated hook script (never
the distro hooks, so nothing touches the host's resolv.conf, hostname or NTP: a netns shares the
UTS namespace and the filesystem with the host), lease, pid and configuration files.  The hook
stores each call's environment (``env -0``) as one file in ``events/`` and, for dhclient and
udhcpc, configures the interface like a real script would (address, default route via the
first router; v6 addresses with ``nodad``), inside the client namespace only.  Clients run in
the foreground under our own :class:`~dhcpbridge.testing.netns.BackgroundProcess` with a clean
environment, so we stop them by PID.

API of every driver: ``obtain(timeout)`` -> :class:`Lease`, ``renew(timeout)`` -> :class:`Lease`
(trigger or wait for a RENEW/REBIND), ``release(timeout)`` -> bool (a release was sent),
``stop()``, ``events``, ``log()``; drivers are context managers (stop + flush the interface).
:func:`make_client` builds one by name (:data:`CLIENT_NAMES`).

What the clients do (observed against Kea 2.2 in the lab namespaces):

ISC dhclient 4.4.3 (``dhclient -4|-6 [-N] [-P] -d -v -1 -cf -lf -pf -sf``)
  * ``-d`` keeps it in the foreground and it still writes ``-pf``; ``-1`` = one attempt
    (``timeout N;`` in the conf bounds it), then it stays running and renews at T1 (it honours
    option 58/59 exactly: with T1=5 s it renews every 5 s; no minimum lease).  It has no signal
    to force a renewal: :meth:`Dhclient.renew` waits for T1, so give it a short lease
    (:data:`~dhcpbridge.testing.plan.SHORT_LEASES`).
  * v4 sends no client identifier (option 61); renewals are unicast to the server id from an
    ordinary UDP socket, so the client needs a route to the server (our hook installs the default
    route from option 3; without it, behind a relay, dhclient logs "Network is unreachable" and
    only recovers at T2 by broadcast).  Hook env: ``new_ip_address``, ``new_subnet_mask``,
    ``new_routers``, ``new_domain_name_servers``, ``new_domain_name``, ``new_dhcp_lease_time``,
    ``new_dhcp_server_identifier``, ``new_dhcp_renewal_time`` / ``new_dhcp_rebinding_time``
    (only when the server sends 58/59).  Reasons PREINIT, BOUND, RENEW, REBIND, REBOOT, EXPIRE,
    RELEASE.
  * v6 calls the hook once *per lease* (one BOUND6 for the IA_NA address, another for the IA_PD
    prefix), with ``new_ip6_address`` + ``new_ip6_prefixlen`` or ``new_ip6_prefix`` (CIDR),
    ``new_preferred_life``, ``new_max_life``, ``new_renew``, ``new_rebind``,
    ``new_dhcp6_server_id`` (colon hex), ``new_dhcp6_name_servers``, ``new_dhcp6_domain_search``
    (with a trailing dot).  It collects Advertises for ~1 s before sending Request.  ``-P``
    alone asks only for IA_PD; ``-N -P`` asks both in one exchange.  Link-local must not be
    tentative (the topologies turn DAD off) or it cannot bind port 546.
  * ``dhclient -r`` (same -cf/-lf/-pf) kills the running instance via the pid file and sends
    RELEASE (v4: unicast to the server id; v6: Release with both IAs), hook reason
    RELEASE/RELEASE6.  SIGTERM stops it without releasing.

busybox udhcpc 1.35 (``udhcpc -f -i IF -s HOOK -t 3 -T 3 -A 1 -n [-R] -p PID``)
  * Sends option 61 = 01+MAC; hook gets the event as ``$1`` (deconfig, bound, renew, leasefail,
    nak) and ``ip``, ``mask`` (prefix *length*), ``subnet`` (dotted), ``router``, ``dns``,
    ``domain``, ``serverid``, ``lease``, and unknown options as ``optNN`` hex (T1/T2 come as
    ``opt58`` / ``opt59``, e.g. ``00000005``).
  * SIGUSR1 renews at once (unicast REQUEST to the server, hook ``renew``); SIGUSR2 releases
    (unicast RELEASE, hook ``deconfig``, "entering released state") and it then waits for
    another SIGUSR1, which starts a fresh DISCOVER; with ``-R`` SIGTERM releases before exiting.

dhcpcd 9.4.1 (``dhcpcd -4|-6 -B -d -f CONF -c HOOK IF``)
  * Keeps DUID, leases and pid/control sockets in /var/lib/dhcpcd and /run/dhcpcd, shared with
    the host and with parallel runs.  The driver runs every dhcpcd command through a wrapper
    that bind-mounts private directories over both inside the private mount namespace that
    ``ip netns exec`` creates (mounts do not propagate back), so nothing of the host's dhcpcd
    state is read or written and parallel runs cannot collide (only an empty /run/dhcpcd mount
    point may be created on the host).  Fresh DUID (DUID-LLT) each run.
  * It configures addresses and routes itself (the hook only records).  v4: option 61 is
    ff+IAID+DUID (RFC 4361); before BOUND it ARP-probes the offered address 3 times (~4.5 s;
    ``noarp`` in the conf, ``arp_probe=False`` here, skips it).  Hook env like dhclient's plus
    ``new_subnet_cidr``; reasons PREINIT, CARRIER, BOUND, RENEW, REBIND, REBOOT, STOP, STOPPED.
  * v6 needs ``noipv6rs`` + ``ia_na`` / ``ia_pd`` in an interface block to start DHCPv6 without
    a Router Advertisement; it requests at once on the first Advertise.  One hook call for all
    IAs: ``new_dhcp6_ia_na1_ia_addr1`` (+ ``_pltime``/``_vltime``), ``new_dhcp6_ia_na1_t1``/
    ``_t2``, ``new_dhcp6_ia_pd1_prefix1`` + ``_length``, ``new_dhcp6_server_id`` (plain hex).
    It installs a reject route for a delegated prefix on ``lo`` (inside the namespace).
  * ``dhcpcd -N IF`` (SIGUSR1) renews now (RENEW / RENEW6; RENEW6 is multicast), ``-n`` rebinds,
    ``-k`` releases (SIGALRM: v4 RELEASE then hook STOP, v6 RELEASE6) and exits.
  * ``option a, b, c`` on one line is rejected by 9.4.1 ("unknown option"): one option per line.

ISC dhcrelay 4.4.3 (:class:`Dhcrelay`)
  * v4: ``dhcrelay -4 -d -id DOWN -iu UP SERVER`` sets giaddr to DOWN's address and delivers
    replies to clients with a raw socket; v6: ``dhcrelay -6 -d -I -l DOWN -u SERVER%UP`` (``-I``
    adds an Interface-Id option) sends Relay-forw by unicast to SERVER from UP's address, so Kea
    must listen on that global address (``AddressPlan.unicast6``).
"""

from __future__ import annotations

import dataclasses
import shlex
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from dhcpbridge.testing.hook_events import (
    HOOK_SCRIPT,
    REASONS_BOUND4,
    REASONS_BOUND6,
    REASONS_RENEW,
    HookEvent,
    Lease,
    lease_from_event,
    read_events,
)
from dhcpbridge.testing.netns import Namespace, NetnsError
from dhcpbridge.testing.process import BackgroundProcess, ProcessOwner


class ClientError(RuntimeError):
    """A client did not do what was asked in time (the message carries its log)."""


# --------------------------------------------------------------------------------------------
# drivers


class DhcpClient(ProcessOwner):
    """Common machinery: private work dir, hook, events, foreground process, waiting."""

    name = "client"
    family = 4
    configure_in_hook = True
    program = "client"

    def __init__(self, ns: Namespace, interface: str = "cli0", *, workdir: Path | None = None) -> None:
        self.ns = ns
        self.interface = interface
        base = workdir if workdir is not None else ns.workdir
        base.mkdir(parents=True, exist_ok=True)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.name}-", dir=base))
        self.events_dir = self.workdir / "events"
        self.events_dir.mkdir()
        self.hook = self.workdir / "hook"
        self.hook.write_text(
            HOOK_SCRIPT.replace("@EVENTS@", shlex.quote(str(self.events_dir))).replace(
                "@CONFIGURE@", "1" if self.configure_in_hook else "0"
            )
        )
        self.hook.chmod(0o755)
        self.proc: BackgroundProcess | None = None
        self._started_at = 0.0

    # -- what subclasses define ---------------------------------------------------------------
    def command(self, timeout: float) -> list[str]:
        raise NotImplementedError

    def satisfied(self, lease: Lease) -> bool:
        """True when ``lease`` holds everything this client asked for."""
        return lease.address is not None

    def trigger_renew(self) -> None:
        """Ask the running client to renew now (default: nothing, wait for T1)."""

    def send_release(self, timeout: float) -> None:
        raise NotImplementedError

    def release_sent(self) -> bool:
        raise NotImplementedError

    # -- common -------------------------------------------------------------------------------
    @property
    def events(self) -> list[HookEvent]:
        return read_events(self.events_dir)

    def running(self) -> bool:
        return self.alive()

    def start(self, timeout: float = 30.0) -> BackgroundProcess:
        if self.running():
            raise ClientError(f"{self.name} is already running")
        self._started_at = time.time()
        self.proc = self.ns.popen(
            self.command(timeout), name=self.name, log_path=self.workdir / f"{self.name}.log", clean_env=True
        )
        return self.proc

    def lease_since(self, since: float, reasons: Iterable[str] | None = None) -> Lease | None:
        """Merge the bound-type events newer than ``since`` (None if there are none)."""
        wanted = frozenset(reasons) if reasons is not None else (REASONS_BOUND4 | REASONS_BOUND6)
        lease: Lease | None = None
        for ev in self.events:
            if ev.time < since or ev.reason not in wanted:
                continue
            part = lease_from_event(self.name, ev)
            lease = part if lease is None else lease.merged(part)
        return lease

    @property
    def lease(self) -> Lease | None:
        """Everything obtained since the client was started (latest values win)."""
        return self.lease_since(self._started_at)

    def _wait(self, what: str, check: Callable[[], Lease | None], timeout: float) -> Lease:
        deadline = time.monotonic() + timeout
        while True:
            lease = check()
            if lease is not None and self.satisfied(lease):
                return dataclasses.replace(lease, log=self.log())
            if self.proc is not None and not self.proc.alive():
                raise ClientError(self._failure(f"{what}: {self.name} exited ({self.proc.returncode})"))
            if time.monotonic() >= deadline:
                raise ClientError(self._failure(f"{what}: nothing within {timeout} s"))
            time.sleep(0.05)

    def _failure(self, msg: str) -> str:
        reasons = [e.reason for e in self.events]
        return f"{msg}; hook reasons {reasons}\n--- {self.name} log ---\n{self.log()[-4000:]}"

    def obtain(self, timeout: float = 30.0) -> Lease:
        """Start the client and wait (at most ``timeout`` s) until it is bound."""
        self.start(timeout)
        since = self._started_at
        return self._wait("obtain", lambda: self.lease_since(since), timeout)

    def renew(self, timeout: float = 30.0) -> Lease:
        """Trigger (where the client can) or await a RENEW/REBIND; the renewed lease."""
        if not self.running():
            raise ClientError(f"{self.name} is not running")
        since = time.time()
        self.trigger_renew()
        return self._wait("renew", lambda: self.lease_since(since, REASONS_RENEW), timeout)

    def release(self, timeout: float = 15.0) -> bool:
        """Release the lease and stop the client; True if the client says it sent a release."""
        if not self.running():
            raise ClientError(f"{self.name} is not running")
        self.send_release(timeout)
        assert self.proc is not None
        if self.proc.wait(timeout) is None:
            self.proc.stop()
        return self.release_sent()

    def close(self, flush: bool = True) -> None:
        """Stop the client (without asking it to release) and flush the interface's addresses."""
        self.stop()
        if flush:
            self.ns.flush_addresses(self.interface)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} on {self.ns.name}/{self.interface}>"


DHCLIENT_MODES = {
    "4": ["-4"],
    "6": ["-6"],
    "6-pd": ["-6", "-P"],
    "6-napd": ["-6", "-N", "-P"],
}


class Dhclient(DhcpClient):
    """ISC dhclient; ``mode`` is ``"4"``, ``"6"`` (IA_NA), ``"6-pd"`` (IA_PD) or ``"6-napd"`` (both)."""

    program = "dhclient"

    def __init__(
        self, ns: Namespace, interface: str = "cli0", *, mode: str = "4", workdir: Path | None = None
    ) -> None:
        if mode not in DHCLIENT_MODES:
            raise ValueError(f"mode must be one of {list(DHCLIENT_MODES)}")
        self.mode = mode
        self.name = "dhclient" + mode.replace("-", "")
        self.family = 4 if mode == "4" else 6
        super().__init__(ns, interface, workdir=workdir)
        self.conf = self.workdir / "dhclient.conf"
        self.lease_file = self.workdir / "dhclient.leases"
        self.pid_file = self.workdir / "dhclient.pid"

    def _files(self) -> list[str]:
        return [
            "-cf",
            str(self.conf),
            "-lf",
            str(self.lease_file),
            "-pf",
            str(self.pid_file),
            "-sf",
            str(self.hook),
        ]

    def command(self, timeout: float) -> list[str]:
        self.conf.write_text(
            f"timeout {max(1, int(timeout))};\nretry 1;\n"
            "request subnet-mask, broadcast-address, routers, domain-name, domain-name-servers,\n"
            "        dhcp-lease-time, dhcp-renewal-time, dhcp-rebinding-time,\n"
            "        dhcp6.name-servers, dhcp6.domain-search;\n"
        )
        return ["dhclient", *DHCLIENT_MODES[self.mode], "-d", "-v", "-1", *self._files(), self.interface]

    def satisfied(self, lease: Lease) -> bool:
        if self.mode == "4":
            return lease.address is not None
        if self.mode == "6":
            return bool(lease.addresses6)
        if self.mode == "6-pd":
            return bool(lease.prefixes)
        return bool(lease.addresses6) and bool(lease.prefixes)

    def send_release(self, timeout: float) -> None:
        argv = ["dhclient", *DHCLIENT_MODES[self.mode], "-r", "-v", *self._files(), self.interface]
        try:
            out = self.ns.run(argv, timeout=timeout, check=False, clean_env=True)
            self._release_output = out.stdout + out.stderr
        except NetnsError as exc:
            self._release_output = str(exc)

    def release_sent(self) -> bool:
        text = getattr(self, "_release_output", "")
        return "DHCPRELEASE" in text or "Forming Release" in text

    def log(self) -> str:
        return super().log() + getattr(self, "_release_output", "")


class Udhcpc(DhcpClient):
    """busybox udhcpc (DHCPv4 only). ``release_on_exit`` adds ``-R`` (SIGTERM then releases)."""

    name = "udhcpc"
    program = "udhcpc"

    def __init__(
        self,
        ns: Namespace,
        interface: str = "cli0",
        *,
        release_on_exit: bool = True,
        workdir: Path | None = None,
    ) -> None:
        super().__init__(ns, interface, workdir=workdir)
        self.release_on_exit = release_on_exit
        self.pid_file = self.workdir / "udhcpc.pid"

    def command(self, timeout: float) -> list[str]:
        # -t 3 discovers 3 s apart, -A 1 s pause, -n exit if no lease: bounded by ~3 x (3 + 1) s
        tries = max(1, int(timeout // 4))
        argv = ["udhcpc", "-f", "-i", self.interface, "-s", str(self.hook), "-t", str(tries), "-T", "3"]
        argv += ["-A", "1", "-n", "-p", str(self.pid_file)]
        if self.release_on_exit:
            argv.append("-R")
        return argv

    def trigger_renew(self) -> None:
        if self.proc is not None:
            self.proc.signal(signal.SIGUSR1)

    def send_release(self, timeout: float) -> None:
        assert self.proc is not None
        self.proc.signal(signal.SIGUSR2)
        deadline = time.monotonic() + timeout
        while "entering released state" not in self.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.proc.signal(signal.SIGTERM)

    def release_sent(self) -> bool:
        return "sending release" in self.log()


class Dhcpcd(DhcpClient):
    """dhcpcd in one family; v6 asks IA_NA and/or IA_PD without waiting for an RA."""

    program = "dhcpcd"
    configure_in_hook = False  # dhcpcd configures addresses and routes itself

    def __init__(
        self,
        ns: Namespace,
        interface: str = "cli0",
        *,
        family: int = 4,
        ia_na: bool = True,
        ia_pd: bool = True,
        arp_probe: bool = True,
        workdir: Path | None = None,
        conf_lines: Sequence[str] = (),
    ) -> None:
        self.family = family
        self.conf_lines = tuple(conf_lines)  # more dhcpcd.conf lines (global, before any interface)
        self.name = f"dhcpcd{family}"
        super().__init__(ns, interface, workdir=workdir)
        self.ia_na, self.ia_pd, self.arp_probe = ia_na, ia_pd, arp_probe
        self.conf = self.workdir / "dhcpcd.conf"
        self.db_dir = self.workdir / "var-lib-dhcpcd"
        self.run_dir = self.workdir / "run-dhcpcd"
        self.db_dir.mkdir()
        self.run_dir.mkdir()
        self.wrapper = self.workdir / "private-dirs.sh"
        self.wrapper.write_text(
            "#!/bin/sh\n"
            "# run a command with private /var/lib/dhcpcd and /run/dhcpcd (mount namespace of ip netns exec)\n"
            "set -e\n"
            "[ -d /run/dhcpcd ] || mkdir -p /run/dhcpcd\n"
            f"mount --bind {shlex.quote(str(self.db_dir))} /var/lib/dhcpcd\n"
            f"mount --bind {shlex.quote(str(self.run_dir))} /run/dhcpcd\n"
            'exec "$@"\n'
        )
        self.wrapper.chmod(0o755)
        self._control_output = ""

    def _family_flag(self) -> str:
        return "-4" if self.family == 4 else "-6"

    def command(self, timeout: float) -> list[str]:
        lines = [
            f"allowinterfaces {self.interface}",
            "duid",
            "noipv4ll",
            "nohook resolv.conf, hostname, ntp, timesyncd",
            "option domain_name_servers",
            "option domain_name",
            "option domain_search",
            "option dhcp6_name_servers",
            "option dhcp6_domain_search",
            "noipv6rs",
        ]
        lines += self.conf_lines
        if not self.arp_probe:
            lines.append("noarp")
        if self.family == 6:
            lines.append(f"interface {self.interface}")
            if self.ia_na:
                lines.append("  ia_na 1")
            if self.ia_pd:
                lines.append("  ia_pd 2")
        self.conf.write_text("\n".join(lines) + "\n")
        return [str(self.wrapper), "dhcpcd", self._family_flag(), "-B", "-d", "-t", str(max(1, int(timeout))),
                "-f", str(self.conf), "-c", str(self.hook), self.interface]  # fmt: skip

    def satisfied(self, lease: Lease) -> bool:
        if self.family == 4:
            return lease.address is not None
        return (not self.ia_na or bool(lease.addresses6)) and (not self.ia_pd or bool(lease.prefixes))

    def control(self, flag: str, timeout: float = 10.0) -> str:
        """Run ``dhcpcd -4|-6 FLAG IF`` against the running instance (same private dirs)."""
        argv = [str(self.wrapper), "dhcpcd", self._family_flag(), flag, self.interface]
        try:
            out = self.ns.run(argv, timeout=timeout, check=False, clean_env=True)
            text = out.stdout + out.stderr
        except NetnsError as exc:
            text = str(exc)
        self._control_output += text
        return text

    def trigger_renew(self) -> None:
        self.control("-N")

    def rebind(self, timeout: float = 30.0) -> Lease:
        """``dhcpcd -n``: reload and rebind; waits for the next bound-type event."""
        since = time.time()
        self.control("-n")
        return self._wait("rebind", lambda: self.lease_since(since), timeout)

    def send_release(self, timeout: float) -> None:
        self.control("-k", timeout)

    def release_sent(self) -> bool:
        log = self.log()
        return "sending RELEASE" in log or "RELEASE6" in log

    def log(self) -> str:
        return super().log() + self._control_output


_DHCLIENT_NAMES = {"dhclient4": "4", "dhclient6": "6", "dhclient6pd": "6-pd", "dhclient6napd": "6-napd"}
CLIENT_NAMES = ("dhclient4", "dhclient6", "dhclient6pd", "dhclient6napd", "udhcpc", "dhcpcd4", "dhcpcd6")


def make_client(name: str, ns: Namespace, interface: str = "cli0", **kwargs: Any) -> DhcpClient:
    """A driver by name (see :data:`CLIENT_NAMES`); extra keyword flags go to the driver."""
    if name.startswith("dhclient"):
        mode = _DHCLIENT_NAMES.get(name)
        if mode is None:
            raise ValueError(f"unknown client {name!r}; one of {CLIENT_NAMES}")
        return Dhclient(ns, interface, mode=mode)
    if name == "udhcpc":
        return Udhcpc(ns, interface, **kwargs)
    if name in ("dhcpcd4", "dhcpcd6"):
        return Dhcpcd(ns, interface, family=int(name[-1]), **kwargs)
    raise ValueError(f"unknown client {name!r}; one of {CLIENT_NAMES}")


CLIENT_TOOLS = {
    "dhclient4": "dhclient",
    "dhclient6": "dhclient",
    "dhclient6pd": "dhclient",
    "dhclient6napd": "dhclient",
    "udhcpc": "udhcpc",
    "dhcpcd4": "dhcpcd",
    "dhcpcd6": "dhcpcd",
}
"""The executable each client name needs (for skip checks)."""


# --------------------------------------------------------------------------------------------
# relay


@dataclass
class Dhcrelay(ProcessOwner):
    """ISC dhcrelay in the relay namespace (v4: ``-id``/``-iu``; v6: ``-l``/``-u``, ``-I``).

    ``servers`` are the server addresses (v6: one, sent to via ``upstream``).  Use as a context
    manager or call :meth:`start` / :meth:`stop`.
    """

    ns: Namespace
    family: int = 4
    downstream: Sequence[str] = ("rly0",)
    upstream: Sequence[str] = ("rly1",)
    servers: Sequence[str] = ("10.68.0.1",)
    interface_id: bool = True
    agent_options: bool = False
    extra_args: Sequence[str] = ()
    workdir: Path | None = None
    proc: BackgroundProcess | None = field(default=None, init=False)

    def command(self, pid_file: Path) -> list[str]:
        argv = ["dhcrelay", f"-{self.family}", "-d", "-pf", str(pid_file)]
        if self.family == 4:
            for d in self.downstream:
                argv += ["-id", d]
            for u in self.upstream:
                argv += ["-iu", u]
            if self.agent_options:
                argv.append("-a")
            return [*argv, *self.extra_args, *self.servers]
        if self.interface_id:
            argv.append("-I")
        for d in self.downstream:
            argv += ["-l", d]
        for server in self.servers:
            for u in self.upstream:
                argv += ["-u", f"{server}%{u}"]
        return [*argv, *self.extra_args]

    def start(self, timeout: float = 10.0) -> Dhcrelay:
        base = self.workdir or self.ns.workdir
        work = Path(tempfile.mkdtemp(prefix=f"dhcrelay{self.family}-", dir=base))
        self.proc = self.ns.popen(
            self.command(work / "dhcrelay.pid"),
            name=f"dhcrelay{self.family}",
            log_path=work / "dhcrelay.log",
            clean_env=True,
        )
        wanted = [*self.downstream, *self.upstream]
        deadline = time.monotonic() + timeout
        while True:
            log = self.proc.log()
            listening = [line for line in log.splitlines() if line.startswith("Listening on")]
            if all(any(f"/{ifname}" in line for line in listening) for ifname in wanted):
                return self
            if not self.proc.alive() or time.monotonic() > deadline:
                self.proc.stop()
                raise ClientError(f"dhcrelay -{self.family} did not start:\n{log}")
            time.sleep(0.05)

    def __enter__(self) -> Self:
        self.start()
        return self


def relay_for(ns: Namespace, family: int, facts: Mapping[str, str]) -> Dhcrelay:
    """A :class:`Dhcrelay` wired for :func:`~dhcpbridge.testing.netns.relayed_topology` (its ``facts``)."""
    server = facts["server4"] if family == 4 else facts["server6"]
    return Dhcrelay(
        ns,
        family=family,
        downstream=(facts["relay_down_if"],),
        upstream=(facts["relay_up_if"],),
        servers=(server,),
    )


__all__ = [
    "CLIENT_NAMES",
    "CLIENT_TOOLS",
    "ClientError",
    "Dhclient",
    "DhcpClient",
    "Dhcpcd",
    "Dhcrelay",
    "HookEvent",
    "Lease",
    "Udhcpc",
    "lease_from_event",
    "make_client",
    "read_events",
    "relay_for",
]
