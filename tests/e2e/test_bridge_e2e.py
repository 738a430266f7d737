"""The HTTP bridge end to end (issue 4): real DHCPv4 clients (busybox udhcpc, ISC dhclient) in their
own network namespaces get their address and options from ``dhcpbridge serve`` asking an answer
service over HTTP - ``dhcpbridge answer --dir`` or a deliberately misbehaving service
(``bridge_service.py``) - on 127.0.0.1 of the server namespace.

Topology (built here): ``srv`` holds a bridge ``br0`` (10.67.0.1/24) with two veth ports; client A
(udhcpc) sits in ``cla`` and client B (dhclient or udhcpc) in ``clb``, both on ``cli0``. The server
asks the ``http`` source (named ``inventory``; small cache-ttl, long stale-grace) first and then a
``pools`` source (10.67.0.100-199) for clients the service does not answer or cannot be reached for.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.control import call
from dhcpbridge.leases.embedded.sqlite import path_from_url, read_rows
from dhcpbridge.testing.clients import Dhclient, DhcpClient, Lease, Udhcpc, lease_from_event
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import BackgroundProcess, Namespace, Topology, TopologySpec, Veth
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import DhcpbridgeServer, default_dhcpbridge_exe, to_toml, wait_for

pytestmark = pytest.mark.e2e

EXE = str(default_dhcpbridge_exe())
FAKE_SERVICE = Path(__file__).with_name("bridge_service.py")

SERVER_IP = "10.67.0.1"
SUBNET = ipaddress.ip_network("10.67.0.0/24")
POOL_FIRST, POOL_LAST = ipaddress.IPv4Address("10.67.0.100"), ipaddress.IPv4Address("10.67.0.199")
MAC_A = "02:6b:00:00:0a:02"  # client A, namespace cla
MAC_B = "02:6b:00:00:0b:02"  # client B, namespace clb
SOURCE = "inventory"  # the http source's configured name: what leases it answered record
ANSWER_PORT = 8067
CACHE_TTL = 2.0  # seconds the server reuses an answer; stale-grace is an hour
BOUND = 1  # LeaseState.BOUND in the SQLite store

# what the subnet gives (a pool client gets these) - distinct from every bridge answer
POOL_OPTIONS = {"routers": [SERVER_IP], "domain-name-servers": [SERVER_IP], "domain-name": "pool.test"}


# --------------------------------------------------------------------------------------------
# the lab


def bridged_spec() -> TopologySpec:
    """srv(srva, srvb -> br0 10.67.0.1/24) <-> cla(cli0) and <-> clb(cli0); br0 is added after."""
    return TopologySpec(
        roles=("srv", "cla", "clb"),
        veths=(
            Veth("srv", "srva", "02:6b:00:00:00:0a", "cla", "cli0", MAC_A),
            Veth("srv", "srvb", "02:6b:00:00:00:0b", "clb", "cli0", MAC_B),
        ),
        description="cla(cli0) <-> srv(srva, srvb in br0 10.67.0.1/24) <-> clb(cli0)",
    )


@pytest.fixture(scope="module")
def lab() -> Iterator[Topology]:
    require_e2e("udhcpc", "dhclient", "ss")
    with Topology(bridged_spec()) as topo:
        srv = topo["srv"]
        srv.ip("link", "add", "name", "br0", "address", "02:6b:00:00:00:01", "type", "bridge")
        for port in ("srva", "srvb"):
            srv.ip("link", "set", port, "master", "br0")
        srv.ip("addr", "add", f"{SERVER_IP}/24", "dev", "br0")
        srv.ip("link", "set", "br0", "up")
        yield topo


_tests = itertools.count(1)


@pytest.fixture
def work(lab: Topology) -> Path:
    """A fresh directory for one test, with a short path (the control socket's must fit 108 bytes)."""
    path = lab.workdir / f"t{next(_tests)}"
    path.mkdir()
    return path


# --------------------------------------------------------------------------------------------
# the server


class BridgeServer(DhcpbridgeServer):
    """``dhcpbridge serve`` on br0: ``[[source]] http`` (name ``inventory``) then ``pools``."""

    def __init__(self, ns: Namespace, workdir: Path, port: int, **source: Any) -> None:
        super().__init__(ns, workdir, LAB_PLAN, cpu=None, extra_args=["--log-format", "json"])
        base = f"http://127.0.0.1:{port}"
        self.source: dict[str, Any] = {
            "type": "http",
            "name": SOURCE,
            "url": f"{base}/v1/question",
            "on-commit": f"{base}/v1/commit",
            "timeout": 1.5,
            "cache-ttl": CACHE_TTL,
            "stale-grace": 3600,
            "on-error": "next",
            "breaker-failures": 100,  # these tests count every failure; the breaker stays closed
            **source,
        }
        self.control_path = self.workdir / "control.sock"

    def start(self, timeout: float = 30.0) -> BridgeServer:
        """Started when it serves the control socket too (UDP 67 is bound before it)."""
        super().start(timeout)
        up = wait_for(lambda: self.control_path.exists() or not self.alive(), timeout, 0.05)
        if not (up and self.alive()):
            self.stop()
            raise AssertionError(f"dhcpbridge serve did not start:\n{self.log()[-3000:]}")
        return self

    def write_config(self) -> Path:
        doc = {
            "server": {"interfaces": ["br0"], "port": 67, "control-socket": str(self.control_path)},
            "leases": {"store": self.lease_store},
            "subnet4": [
                {
                    "subnet": str(SUBNET),
                    "pools": [f"{POOL_FIRST}-{POOL_LAST}"],
                    "lease-time": 600,
                    "options": POOL_OPTIONS,
                }
            ],
            "source": [self.source, {"type": "pools"}],
        }
        self.config_path.write_text(to_toml(doc))
        return self.config_path

    def control(self, cmd: str) -> Any:
        """One request to the running server's control socket (a Unix socket: no namespace)."""
        return asyncio.run(call(self.control_path, {"cmd": cmd}, timeout=10.0))

    def store_rows(self) -> list[dict[str, Any]]:
        """The v4 lease records of the SQLite store (file and journal), read-only."""
        rows = read_rows(path_from_url(self.lease_store))
        return [
            {
                **{k: r[k] for k in ("address", "state", "source", "subnet")},
                "hwaddr": bytes(r["hwaddr"]).hex(":"),
            }
            for r in rows
            if r["kind"] == 4
        ]

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The server's JSON log lines (``event`` to filter by message)."""
        out = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(json.JSONDecodeError):
                    doc = json.loads(line)
                    if event is None or doc.get("event") == event:
                        out.append(doc)
        return out

    def bridge_failures(self) -> list[dict[str, Any]]:
        """The log lines of failed questions (``reason``, ``client``, ...), in order."""
        return [e for e in self.events() if str(e.get("event", "")).startswith("bridge failed")]

    def failures(self, client_mac: str) -> list[str]:
        """Reasons of the bridge failures the server logged for one client, in order."""
        return [e["reason"] for e in self.bridge_failures() if e.get("client") == client_mac]

    def stale_served(self, client_mac: str) -> int:
        return len(
            [e for e in self.events("bridge failed; serving the cached answer") if e["client"] == client_mac]
        )


# --------------------------------------------------------------------------------------------
# answer services in the server namespace


def tcp_listening(ns: Namespace, port: int) -> bool:
    out = ns.run(["ss", "-H", "-ltn", f"sport = :{port}"], timeout=10, check=False).stdout
    return bool(out.strip())


class Service:
    """A process answering the bridge contract on 127.0.0.1:``port`` in the server namespace."""

    def __init__(self, ns: Namespace, argv: list[str], port: int, log_path: Path) -> None:
        self.ns, self.argv, self.port, self.log_path = ns, argv, port, log_path
        self.proc: BackgroundProcess | None = None

    def start(self) -> Service:
        self.proc = self.ns.popen(self.argv, name=Path(self.argv[1]).name, log_path=self.log_path)
        proc = self.proc
        up = wait_for(lambda: not proc.alive() or tcp_listening(self.ns, self.port), 30.0, 0.1)
        if not (up and proc.alive()):
            proc.stop()
            raise AssertionError(f"{self.argv} did not listen on {self.port}:\n{self.log()[-3000:]}")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


NOTIFY_HOOK = """#!/bin/sh
# --notify-hook of dhcpbridge answer: keep each notification (stdin) and its DHCP_EVENT
f="{directory}/$(date +%s%N)-$$"
cat > "$f.tmp"
env > "$f.env"
mv "$f.tmp" "$f.json"
"""


class FilesAnswer(Service):
    """``dhcpbridge answer --dir`` with a ``--notify-hook`` that keeps every notification."""

    def __init__(self, ns: Namespace, work: Path) -> None:
        self.dir = work / "hosts"
        self.notified = work / "notified"
        self.dir.mkdir()
        self.notified.mkdir()
        hook = work / "notify-hook"
        hook.write_text(NOTIFY_HOOK.format(directory=self.notified))
        hook.chmod(0o755)
        argv = [EXE, "answer", "--dir", str(self.dir), "--listen", f"127.0.0.1:{ANSWER_PORT}"]
        argv += ["--poll-interval", "0.5", "--notify-hook", str(hook), "--log-format", "json"]
        super().__init__(ns, argv, ANSWER_PORT, work / "answer.log")

    def write(self, key: str, answer: Mapping[str, Any]) -> None:
        """Replace (atomically) the file for ``key`` and wait until the service has loaded it."""
        name = f"{key.replace(':', '-')}.json"
        before = self.loads(name)
        tmp = self.dir / f".{name}.tmp"
        tmp.write_text(json.dumps(answer))
        os.replace(tmp, self.dir / name)
        if self.proc is not None and self.proc.alive():
            assert wait_for(lambda: self.loads(name) > before, 20.0, 0.1), self.log()[-3000:]

    def loads(self, name: str) -> int:
        """How often the service logged loading file ``name``."""
        return sum(
            1
            for doc in json_lines(self.log())
            if doc.get("event") == "file loaded" and doc.get("path") == name
        )

    def notifications(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.notified.glob("*.json"))]

    def notify_environments(self) -> list[dict[str, str]]:
        """The environment the notify hook ran with, per notification."""
        out = []
        for path in sorted(self.notified.glob("*.json")):
            lines = path.with_suffix(".env").read_text().splitlines()
            out.append(dict(line.split("=", 1) for line in lines if "=" in line))
        return out

    def questions(self, client_mac: str) -> int:
        return len(
            [
                d
                for d in json_lines(self.log())
                if d.get("event") == "answer" and d.get("client_mac") == client_mac
            ]
        )


class FakeAnswer(Service):
    """``bridge_service.py``: answers as its control file says, records what reached it."""

    def __init__(self, ns: Namespace, work: Path, port: int = 8068) -> None:
        self.control = work / "mode.json"
        self.record = work / "record"
        self.hosts: dict[str, dict[str, Any]] = {}
        self.set_mode("ok")
        argv = [sys.executable, str(FAKE_SERVICE), "--listen", f"127.0.0.1:{port}"]
        argv += ["--control", str(self.control), "--record", str(self.record)]
        super().__init__(ns, argv, port, work / "fake-service.log")

    def set_mode(self, mode: str, delay: float = 6.0) -> None:
        tmp = self.control.with_suffix(".tmp")
        tmp.write_text(json.dumps({"mode": mode, "delay": delay, "hosts": self.hosts}))
        os.replace(tmp, self.control)

    def assign(self, mac: str, answer: Mapping[str, Any]) -> None:
        self.hosts[mac] = {"action": "assign", **answer}
        self.set_mode(json.loads(self.control.read_text())["mode"])

    def recorded(self, name: str) -> list[dict[str, Any]]:
        path = self.record / f"{name}.jsonl"
        return json_lines(path.read_text()) if path.exists() else []


def log_time(line: Mapping[str, Any]) -> float:
    """A structlog line's ``timestamp`` (ISO 8601, UTC) as seconds since the epoch."""
    return datetime.fromisoformat(line["timestamp"]).timestamp()


def json_lines(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.startswith("{"):
            with contextlib.suppress(json.JSONDecodeError):
                out.append(json.loads(line))
    return out


# --------------------------------------------------------------------------------------------
# clients


def latest(client: DhcpClient, since: float) -> Lease | None:
    """The lease of the client's latest bound/renew hook call after ``since`` (each is complete)."""
    found = None
    for ev in client.events:
        if ev.time >= since and ev.reason in ("bound", "renew", "BOUND", "RENEW", "REBIND", "REBOOT"):
            found = lease_from_event(client.name, ev)
    return found


def wait_lease(client: DhcpClient, since: float, wanted: Callable[[Lease], bool], timeout: float) -> Lease:
    """Wait until the client's latest lease after ``since`` is ``wanted``; fail with its log."""
    deadline = time.monotonic() + timeout
    while True:
        lease = latest(client, since)
        if lease is not None and wanted(lease):
            return lease
        if not client.running() or time.monotonic() > deadline:
            reasons = [e.reason for e in client.events if e.time >= since]
            raise AssertionError(
                f"{client.name}: no wanted lease (running={client.running()}, latest={lease}, "
                f"hook reasons since {reasons})\n{client.log()[-3000:]}"
            )
        time.sleep(0.1)


def renew_udhcpc(client: DhcpClient, wanted: Callable[[Lease], bool], timeout: float = 40.0) -> Lease:
    """SIGUSR1: udhcpc sends a unicast REQUEST (renewing) now; wait for the lease it ends with."""
    since = time.time()
    client.trigger_renew()
    return wait_lease(client, since, wanted, timeout)


def in_pool(lease: Lease) -> bool:
    return lease.address is not None and POOL_FIRST <= lease.address.ip <= POOL_LAST


def address_is(text: str) -> Callable[[Lease], bool]:
    return lambda lease: lease.address is not None and str(lease.address.ip) == text


def configured(ns: Namespace) -> list[str]:
    return [str(a) for a in ns.addresses("cli0") if a.version == 4]


def row(server: BridgeServer, address: str) -> dict[str, Any]:
    rows = {r["address"]: r for r in server.store_rows()}
    assert address in rows, rows
    return rows[address]


# --------------------------------------------------------------------------------------------
# answers from a directory of files


A_FIRST = {"client_ip": "10.67.0.50", "router": ["10.67.0.254"], "dns_servers": ["10.67.0.53"]}
B_FIRST = {"client_ip": "10.67.0.51", "router": ["10.67.0.254"], "dns_servers": ["10.67.0.53"]}
DEFAULT_LAYER = {
    "subnet_mask": "255.255.255.0",
    "lease_time": 600,
    "renewal_time": 4,
    "domain_name": "bridge.test",
}


def test_clients_get_answers_from_files_and_the_next_renewal_gets_a_changed_file(
    lab: Topology, work: Path
) -> None:
    """udhcpc (renewal on SIGUSR1) and dhclient (renewal at T1 = the answer's 4 s) get address and
    options from ``dhcpbridge answer --dir``; leases are stored with the source's name and the
    on-commit notifications reach the service's notify hook. Changing a client's file: the next
    renewal brings new options (ACK), or a new address (NAK, then DISCOVER of the new one)."""
    require_e2e("udhcpc", "dhclient")
    answer = FilesAnswer(lab["srv"], work)
    answer.write("default", DEFAULT_LAYER)
    answer.write(MAC_A, A_FIRST)
    answer.write(MAC_B, B_FIRST)
    server = BridgeServer(lab["srv"], work / "srv", ANSWER_PORT)
    with answer, server, Udhcpc(lab["cla"]) as a, Dhclient(lab["clb"]) as b:
        lease_a = a.obtain(timeout=40)
        lease_b = b.obtain(timeout=40)
        for lease, address in ((lease_a, "10.67.0.50"), (lease_b, "10.67.0.51")):
            assert lease.address == ipaddress.IPv4Interface(f"{address}/24")
            assert lease.routers == (ipaddress.IPv4Address("10.67.0.254"),)
            assert lease.dns_servers == (ipaddress.IPv4Address("10.67.0.53"),)
            assert lease.domain_name == "bridge.test"
            assert lease.lease_time == 600
            assert lease.server_id == SERVER_IP
        assert lease_a.t1 == 4 and lease_b.t1 == 4
        assert "10.67.0.50/24" in configured(lab["cla"])
        for address, mac in (("10.67.0.50", MAC_A), ("10.67.0.51", MAC_B)):
            stored = row(server, address)
            assert (stored["state"], stored["source"], stored["hwaddr"]) == (BOUND, SOURCE, mac)
        running = {lease["address"]: lease for lease in server.control("leases")}  # the server's view
        assert (running["10.67.0.50"]["state"], running["10.67.0.50"]["source"]) == ("bound", SOURCE)

        def notified(address: str, mac: str) -> bool:
            return any(
                n["event"] == "commit" and n["lease"].get("client_ip") == address
                and n["lease"].get("client_mac") == mac and n["lease"].get("subnet") == str(SUBNET)
                for n in answer.notifications()
            )  # fmt: skip

        assert wait_for(lambda: notified("10.67.0.50", MAC_A), 20.0), answer.notifications()
        assert wait_for(lambda: notified("10.67.0.51", MAC_B), 20.0), answer.notifications()

        # 1. A's file changes its options: the next renewal is ACKed with them
        answer.write(
            MAC_A, {**A_FIRST, "router": ["10.67.0.253"], "dns_servers": ["10.67.0.54", "10.67.0.55"]}
        )
        time.sleep(CACHE_TTL + 0.5)  # the server's cached answer for A is stale by now
        renewed = renew_udhcpc(a, lambda lease: lease.routers == (ipaddress.IPv4Address("10.67.0.253"),))
        assert renewed.reason == "renew" and str(renewed.address) == "10.67.0.50/24", server.log()[-6000:]
        assert renewed.dns_servers == (
            ipaddress.IPv4Address("10.67.0.54"),
            ipaddress.IPv4Address("10.67.0.55"),
        )

        # 2. A's and B's files move them to new addresses: their next renewal is NAKed and they
        #    end up bound to the new address (udhcpc at once on SIGUSR1, dhclient at T1)
        since_b = time.time()
        answer.write(MAC_A, {**A_FIRST, "client_ip": "10.67.0.60", "domain_name": "moved.test"})
        answer.write(MAC_B, {**B_FIRST, "client_ip": "10.67.0.61"})
        time.sleep(CACHE_TTL + 0.5)
        moved_a = renew_udhcpc(a, address_is("10.67.0.60"))
        moved_b = wait_lease(b, since_b, address_is("10.67.0.61"), timeout=60)
        assert moved_a.reason == "bound" and moved_a.domain_name == "moved.test"
        assert moved_a.routers == (ipaddress.IPv4Address("10.67.0.254"),)
        assert moved_b.routers == (ipaddress.IPv4Address("10.67.0.254"),)
        assert configured(lab["cla"]) == ["10.67.0.60/24"]
        assert configured(lab["clb"]) == ["10.67.0.61/24"]
        naks = {e.get("message") for e in a.events if e.reason == "nak"}  # option 56 of the NAK
        assert naks == {f"{SOURCE} assigns 10.67.0.60, not 10.67.0.50"}, naks
        assert "DHCPNAK from 10.67.0.1" in b.log()
        for address, mac in (("10.67.0.60", MAC_A), ("10.67.0.61", MAC_B)):
            stored = row(server, address)
            assert (stored["state"], stored["source"], stored["hwaddr"]) == (BOUND, SOURCE, mac)
        assert wait_for(lambda: notified("10.67.0.60", MAC_A), 20.0), answer.notifications()
        assert server.alive()


# --------------------------------------------------------------------------------------------
# the service stops or misbehaves


def assert_stale_renewal(server: BridgeServer, renewed: Lease, reason: str) -> None:
    """A's renewal was ACKed from the cached answer after failures of kind ``reason`` (one, or more
    when a loaded machine made udhcpc retransmit)."""
    assert renewed.reason == "renew" and str(renewed.address) == "10.67.0.50/24"
    assert renewed.routers == (ipaddress.IPv4Address("10.67.0.254"),)
    assert renewed.dns_servers == (ipaddress.IPv4Address("10.67.0.53"),)
    failures = server.failures(MAC_A)
    assert failures and set(failures) == {reason}, server.log()[-3000:]
    assert server.stale_served(MAC_A) == len(failures)


def assert_pool_fallback(server: BridgeServer, lease: Lease, reason: str) -> None:
    """B got a pool address with the subnet's options; every question for it failed with ``reason``."""
    assert in_pool(lease), lease
    assert lease.routers == (ipaddress.IPv4Address(SERVER_IP),)
    assert lease.domain_name == "pool.test"
    failures = server.failures(MAC_B)
    assert failures and set(failures) == {reason}, server.log()[-3000:]
    assert server.stale_served(MAC_B) == 0
    assert lease.address is not None
    stored = row(server, str(lease.address.ip))
    assert (stored["state"], stored["source"], stored["hwaddr"]) == (BOUND, "pools", MAC_B)
    assert row(server, "10.67.0.50")["source"] == SOURCE


def test_answer_service_stopped_known_client_renews_new_client_gets_the_pool(
    lab: Topology, work: Path
) -> None:
    """``dhcpbridge answer`` is stopped mid-test: A (answered before) renews within the grace time
    from the server's cache, B (never answered) gets a pool address, the server stays up and logs
    each failure. When the service is back, B's next renewal moves it to its answer."""
    require_e2e("udhcpc")
    answer = FilesAnswer(lab["srv"], work)
    answer.write("default", DEFAULT_LAYER)
    answer.write(MAC_A, A_FIRST)
    answer.write(MAC_B, B_FIRST)
    server = BridgeServer(lab["srv"], work / "srv", ANSWER_PORT)
    with answer, server, Udhcpc(lab["cla"]) as a, Udhcpc(lab["clb"]) as b:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"
        answer.stop()
        assert answer.proc is not None and not answer.proc.alive()
        time.sleep(CACHE_TTL + 0.5)
        assert_stale_renewal(server, renew_udhcpc(a, lambda lease: True), "connection")
        assert_pool_fallback(server, b.obtain(timeout=40), "connection")
        assert server.alive()

        answer.start()
        asked = answer.questions(MAC_B)
        moved = renew_udhcpc(b, address_is("10.67.0.51"))
        assert moved.routers == (ipaddress.IPv4Address("10.67.0.254"),) and moved.domain_name == "bridge.test"
        assert answer.questions(MAC_B) > asked
        assert configured(lab["clb"]) == ["10.67.0.51/24"]
        assert row(server, "10.67.0.51")["source"] == SOURCE
        assert server.alive()


# mode of bridge_service.py -> the failure reason the server logs (and counts) for it
MISBEHAVIOUR = {
    "slow": "timeout",
    "garbage": "bad-json",
    "not-http": "http",
    "status-500": "status-5xx",
    "invalid": "invalid-answer",
}


def fake_with_hosts(lab: Topology, work: Path) -> FakeAnswer:
    fake = FakeAnswer(lab["srv"], work)
    fake.assign(MAC_A, {**A_FIRST, "lease_time": 600, "domain_name": "bridge.test"})
    fake.assign(MAC_B, {**B_FIRST, "lease_time": 600, "domain_name": "bridge.test"})
    return fake


@pytest.mark.parametrize("mode", list(MISBEHAVIOUR))
def test_misbehaving_service_known_client_renews_new_client_gets_the_pool(
    lab: Topology, work: Path, mode: str
) -> None:
    """The service answers slowly / with garbage / with bytes that are not HTTP / with HTTP 500 /
    with a schema-invalid answer: handled like a stopped service, each failure logged by reason."""
    require_e2e("udhcpc")
    fake = fake_with_hosts(lab, work)
    server = BridgeServer(lab["srv"], work / "srv", fake.port)
    with fake, server, Udhcpc(lab["cla"]) as a, Udhcpc(lab["clb"]) as b:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"
        fake.set_mode(mode)
        time.sleep(CACHE_TTL + 0.5)
        assert_stale_renewal(server, renew_udhcpc(a, lambda lease: True), MISBEHAVIOUR[mode])
        assert_pool_fallback(server, b.obtain(timeout=40), MISBEHAVIOUR[mode])
        assert server.alive()
        # the service was asked each time (no silent skipping), in the failing mode
        asked = {(q["mode"], q["question"]["client_mac"]) for q in fake.recorded("questions")}
        assert {(mode, MAC_A), (mode, MAC_B)} <= asked
        # notifications: A's commits (source inventory), never B's pool lease
        assert wait_for(lambda: len(fake.recorded("commits")) >= 2, 20.0), fake.recorded("commits")
        commits = fake.recorded("commits")
        assert all(c["lease"]["client_mac"] == MAC_A and c["event"] == "commit" for c in commits), commits


def test_after_the_stale_grace_a_known_client_moves_to_the_pool(lab: Topology, work: Path) -> None:
    """The grace is bounded: once the cached answer is older than cache-ttl + stale-grace, a known
    client's renewal is NAKed (its address is in no pool) and it gets a pool address - never a guess."""
    require_e2e("udhcpc")
    fake = fake_with_hosts(lab, work)
    grace = 2.0
    server = BridgeServer(lab["srv"], work / "srv", fake.port, **{"stale-grace": grace})
    with fake, server, Udhcpc(lab["cla"]) as a:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"
        fake.set_mode("status-500")
        time.sleep(CACHE_TTL + grace + 1.0)
        moved = renew_udhcpc(a, in_pool)
        assert moved.routers == (ipaddress.IPv4Address(SERVER_IP),) and moved.domain_name == "pool.test"
        naks = {e.get("message") for e in a.events if e.reason == "nak"}
        assert naks == {f"10.67.0.50 is not in a pool of {SUBNET}"}, naks
        assert server.stale_served(MAC_A) == 0
        assert set(server.failures(MAC_A)) == {"status-5xx"}
        assert moved.address is not None
        assert row(server, str(moved.address.ip))["source"] == "pools"
        assert server.alive()


def test_on_error_drop_a_new_client_gets_no_offer_a_known_one_keeps_its_answer(
    lab: Topology, work: Path
) -> None:
    """``on-error = "drop"``: with the service failing, a client without a cached answer is not
    answered at all (no pool address), while a client with one still renews from the cache."""
    require_e2e("udhcpc")
    fake = fake_with_hosts(lab, work)
    server = BridgeServer(lab["srv"], work / "srv", fake.port, **{"on-error": "drop"})
    with fake, server, Udhcpc(lab["cla"]) as a, Udhcpc(lab["clb"]) as b:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"
        fake.set_mode("status-500")
        time.sleep(CACHE_TTL + 0.5)
        assert_stale_renewal(server, renew_udhcpc(a, lambda lease: True), "status-5xx")

        b.start(timeout=40)

        def dropped() -> list[dict[str, Any]]:
            return [e for e in server.events("drop") if e.get("client") == MAC_B]

        assert wait_for(lambda: bool(dropped()), 30.0), server.log()[-3000:]
        assert {(e["reason"], e["type"], e["detail"]) for e in dropped()} == {
            ("ignored-by-source", "DHCPDISCOVER", SOURCE)
        }
        assert set(server.failures(MAC_B)) == {"status-5xx"}
        assert MAC_B not in {r["hwaddr"] for r in server.store_rows()}
        assert latest(b, 0.0) is None  # no OFFER, so nothing to be bound to
        assert server.alive()


def test_circuit_breaker_stops_asking_a_failing_service_then_probes_it(lab: Topology, work: Path) -> None:
    """After ``breaker-failures`` failures in a row the service is not asked (the client still gets
    the pool); after ``breaker-reset`` one probe asks again, and a good answer closes the circuit."""
    require_e2e("udhcpc")
    fake = fake_with_hosts(lab, work)
    reset = 10.0
    server = BridgeServer(
        lab["srv"], work / "srv", fake.port, **{"breaker-failures": 2, "breaker-reset": reset}
    )
    with fake, server, Udhcpc(lab["clb"]) as b:
        fake.set_mode("status-500")
        assert in_pool(b.obtain(timeout=40))  # DISCOVER + REQUEST: two failures, the circuit opens
        assert wait_for(lambda: bool(server.events("bridge circuit open")), 10.0), server.log()[-3000:]
        renewed = renew_udhcpc(b, lambda lease: True)
        assert in_pool(renewed) and renewed.reason == "renew"
        # on the server's own clock: the failures after the one that opened the circuit and well
        # within breaker-reset of it (the renewal's, unless the machine stalled for seconds) are
        # breaker-open; those never reach the service
        lines = server.events()
        at = next(i for i, e in enumerate(lines) if e.get("event") == "bridge circuit open")
        opened = log_time(lines[at])
        failed = [e for e in server.bridge_failures() if e["client"] == MAC_B]
        later = [e for e in lines[at:] if str(e.get("event")).startswith("bridge failed")][1:]
        while_open = [e["reason"] for e in later if log_time(e) - opened < reset - 2.0]
        assert set(while_open) <= {"breaker-open"}, later
        assert failed[-1]["reason"] == "breaker-open" or log_time(failed[-1]) - opened >= reset - 2.0
        asked = [q for q in fake.recorded("questions") if q["question"]["client_mac"] == MAC_B]
        assert len(asked) == len([e for e in failed if e["reason"] != "breaker-open"]), (asked, failed)

        fake.set_mode("ok")
        time.sleep(reset + 0.5)
        moved = renew_udhcpc(b, address_is("10.67.0.51"))  # the probe gets B's answer: NAK, then .51
        assert moved.domain_name == "bridge.test"
        assert server.events("bridge service is answering again")
        assert row(server, "10.67.0.51")["source"] == SOURCE
        assert server.alive()


# --------------------------------------------------------------------------------------------
# server bugs these tests found (fixed): per-source counters, moved addresses, notifications, NAK logs


def test_control_socket_stats_count_bridge_answers_and_failures(lab: Topology, work: Path) -> None:
    require_e2e("udhcpc")
    fake = fake_with_hosts(lab, work)
    server = BridgeServer(lab["srv"], work / "srv", fake.port)
    with fake, server, Udhcpc(lab["cla"]) as a, Udhcpc(lab["clb"]) as b:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"
        fake.set_mode("status-500")
        time.sleep(CACHE_TTL + 0.5)
        assert_stale_renewal(server, renew_udhcpc(a, lambda lease: True), "status-5xx")
        assert_pool_fallback(server, b.obtain(timeout=40), "status-5xx")
        failed = len(server.failures(MAC_A) + server.failures(MAC_B))
        answered = len([q for q in fake.recorded("questions") if q["mode"] == "ok"])
        stats = server.control("stats")
        assert "sources" in stats, sorted(stats)
        counters = stats["sources"][SOURCE]
        assert counters["failures"] == {"status-5xx": failed}
        assert counters["answers"]["assign"] == answered
        assert counters["answers"]["stale"] == server.stale_served(MAC_A)


def test_address_moved_to_another_client_goes_to_it_after_the_old_holder_moved(
    lab: Topology, work: Path
) -> None:
    require_e2e("udhcpc")
    fake = fake_with_hosts(lab, work)
    server = BridgeServer(lab["srv"], work / "srv", fake.port)
    with fake, server, Udhcpc(lab["cla"]) as a, Udhcpc(lab["clb"]) as b:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"
        assert str(b.obtain(timeout=40).address) == "10.67.0.51/24"
        # the inventory renumbers: A gets .60, and A's old .50 goes to B
        fake.assign(MAC_A, {**A_FIRST, "client_ip": "10.67.0.60"})
        fake.assign(MAC_B, {**B_FIRST, "client_ip": "10.67.0.50"})
        time.sleep(CACHE_TTL + 0.5)
        renew_udhcpc(a, address_is("10.67.0.60"))
        since = time.time()
        b.trigger_renew()

        def settled() -> bool:
            lease = latest(b, since)
            dropped = [e for e in server.events("drop") if e.get("reason") == "address-in-use"]
            return (lease is not None and str(lease.address) == "10.67.0.50/24") or bool(dropped)

        assert wait_for(settled, 40.0)
        assert [e["detail"] for e in server.events("drop") if e.get("reason") == "address-in-use"] == []
        assert str(wait_lease(b, since, address_is("10.67.0.50"), 40.0).address) == "10.67.0.50/24"


def test_commit_notification_carries_the_question(lab: Topology, work: Path) -> None:
    require_e2e("udhcpc")
    answer = FilesAnswer(lab["srv"], work)
    answer.write(MAC_A, A_FIRST)
    server = BridgeServer(lab["srv"], work / "srv", ANSWER_PORT)
    with answer, server, Udhcpc(lab["cla"]) as a:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"  # the subnet's mask
        assert wait_for(lambda: len(answer.notifications()) >= 1, 20.0)
        notification = answer.notifications()[0]
        assert notification["event"] == "commit" and notification["lease"]["client_ip"] == "10.67.0.50"
        assert answer.notify_environments()[0]["DHCP_EVENT"] == "commit"
        question = notification.get("question")
        assert question is not None, notification
        assert (question["msg_type"], question["client_mac"]) == ("DHCPREQUEST", MAC_A)
        assert answer.notify_environments()[0].get("DHCP_CLIENT_MAC") == MAC_A


def test_nak_log_line_says_why(lab: Topology, work: Path) -> None:
    require_e2e("udhcpc")
    fake = fake_with_hosts(lab, work)
    server = BridgeServer(lab["srv"], work / "srv", fake.port)
    with fake, server, Udhcpc(lab["cla"]) as a:
        assert str(a.obtain(timeout=40).address) == "10.67.0.50/24"
        fake.assign(MAC_A, {**A_FIRST, "client_ip": "10.67.0.60"})
        time.sleep(CACHE_TTL + 0.5)
        renew_udhcpc(a, address_is("10.67.0.60"))
        why = f"{SOURCE} assigns 10.67.0.60, not 10.67.0.50"
        assert {e.get("message") for e in a.events if e.reason == "nak"} == {why}
        assert {e["why"] for e in server.events("nak")} == {why}
