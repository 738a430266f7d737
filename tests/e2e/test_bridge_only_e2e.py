"""Bridge-only mode end to end (issue 13 §1): ``dhcpbridge serve`` with no subnets at all - only
``[server]``, ``[server6]``, ``[leases] store = "none"`` and one ``[[source]] type = "http"`` -
and ``dhcpbridge answer --dir`` as the whole truth, both in the server namespace; real clients
(busybox udhcpc, ISC dhclient -4 and -6) on the lab link get exactly what the answer files say,
renew (the server keeps nothing: each renewal asks again through the cache), and an answer off
the client's link is refused by the check-subnet guard.

Lab topology (``lab_topology``): cli(cli0 02:67:00:00:00:02) <-> srv(srv0 10.67.0.1/24, fd67::1/64).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.control import call
from dhcpbridge.testing.clients import ClientError, Dhclient, Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import BackgroundProcess, Namespace, Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN
from dhcpbridge.testing.server import DhcpbridgeServer, default_dhcpbridge_exe, to_toml, wait_for

pytestmark = pytest.mark.e2e

EXE = str(default_dhcpbridge_exe())
ANSWER_PORT = 8167
CACHE_TTL = 1  # seconds the server reuses an answer
CLIENT_MAC = "02:67:00:00:00:02"  # cli0 in the lab topology
ANSWER: dict[str, Any] = {
    "client_ip": "10.67.0.50",
    "subnet_mask": "255.255.255.0",
    "router": ["10.67.0.1"],
    "dns_servers": ["10.67.0.53", "fd67::53"],
    "domain_name": "bridge.test",
    "domain_search": ["bridge.test"],
    "lease_time": 20,
    "addresses": [{"address": "fd67::50", "preferred_lifetime": 20, "valid_lifetime": 30}],
    "prefixes": [{"prefix": "fd67:1000::", "length": 56, "preferred_lifetime": 20, "valid_lifetime": 30}],
}


@pytest.fixture(scope="module")
def lab() -> Iterator[Topology]:
    require_e2e("udhcpc", "dhclient", "ss")
    with lab_topology() as topo:
        yield topo


class AnswerService:
    """``dhcpbridge answer --dir`` on 127.0.0.1:ANSWER_PORT of the server namespace."""

    def __init__(self, ns: Namespace, work: Path) -> None:
        self.ns = ns
        self.dir = work / "hosts"
        self.dir.mkdir(parents=True)
        self.log_path = work / "answer.log"
        self.proc: BackgroundProcess | None = None

    def write(self, key: str, answer: dict[str, Any]) -> None:
        tmp = self.dir / f".{key}.tmp"
        tmp.write_text(json.dumps(answer))
        os.replace(tmp, self.dir / f"{key}.json")

    def start(self) -> AnswerService:
        argv = [EXE, "answer", "--dir", str(self.dir), "--listen", f"127.0.0.1:{ANSWER_PORT}"]
        argv += ["--poll-interval", "0.5", "--log-format", "json"]
        self.proc = proc = self.ns.popen(argv, name="answer", log_path=self.log_path)

        def listening() -> bool:
            out = self.ns.run(["ss", "-H", "-ltn", f"sport = :{ANSWER_PORT}"], timeout=10, check=False)
            return bool(out.stdout.strip())

        assert wait_for(lambda: not proc.alive() or listening(), 30.0, 0.1) and proc.alive(), self.log()
        return self

    def questions(self) -> list[dict[str, Any]]:
        """The answer service's log line per question (``answer`` events)."""
        out = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                doc = json.loads(line)
                if doc.get("event") == "answer":
                    out.append(doc)
        return out

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


class BridgeOnlyServer(DhcpbridgeServer):
    """The README's bridge-only config: no subnets, store "none", one HTTP source."""

    ports = (67, 547)

    def __init__(self, ns: Namespace, workdir: Path) -> None:
        super().__init__(ns, workdir, LAB_PLAN, cpu=None, extra_args=["--log-format", "json"])
        self.control_path = self.workdir / "control.sock"

    def write_config(self) -> Path:
        doc = {
            "server": {"interfaces": ["srv0"], "control-socket": str(self.control_path)},
            "server6": {"interfaces": ["srv0"]},
            "leases": {"store": "none"},
            "class": [
                {
                    "name": "pxe",
                    "match": {"vendor-class": "PXEClient"},
                    "next-server": "10.67.0.5",
                    "boot-file-name": "undionly.kpxe",
                    "options": {"tftp-server-name": "boot.lab"},
                }
            ],
            "source": [
                {
                    "type": "http",
                    "url": f"http://127.0.0.1:{ANSWER_PORT}/v1/question",
                    "cache-ttl": CACHE_TTL,
                    "timeout": 2.0,
                }
            ],
        }
        self.config_path.write_text(to_toml(doc))
        return self.config_path

    def off_link(self) -> int:
        """DHCPv4 requests dropped by the check-subnet guard so far."""
        stats = asyncio.run(call(self.control_path, {"cmd": "stats"}, timeout=10.0))
        return int(stats["v4"]["drops"].get("answer-off-link", 0))


@pytest.fixture(scope="module")
def bridge(lab: Topology) -> Iterator[tuple[BridgeOnlyServer, AnswerService]]:
    work = lab.workdir / "bridge-only"
    service = AnswerService(lab["srv"], work)
    service.write(CLIENT_MAC.replace(":", "-"), ANSWER)
    service.start()
    server = BridgeOnlyServer(lab["srv"], work / "server")
    try:
        with server:
            yield server, service
    finally:
        service.stop()


def test_udhcpc_gets_and_renews_what_the_answer_says(
    lab: Topology, bridge: tuple[BridgeOnlyServer, AnswerService]
) -> None:
    server, service = bridge
    with Udhcpc(lab["cli"]) as client:
        lease = client.obtain(timeout=30)
        assert str(lease.address) == "10.67.0.50/24"
        assert [str(r) for r in lease.routers] == ["10.67.0.1"]
        assert [str(d) for d in lease.dns_servers] == ["10.67.0.53"]
        assert lease.domain_name == "bridge.test"
        assert lease.lease_time == 20
        assert str(lease.server_id) == "10.67.0.1"  # the address the request arrived on
        asked = len(service.questions())
        time.sleep(CACHE_TTL + 0.5)  # past the server's cache: the renewal must ask the service
        renewed = client.renew(timeout=30)
        assert str(renewed.address) == "10.67.0.50/24"
        assert wait_for(lambda: len(service.questions()) > asked, 10.0), service.log()[-2000:]
    assert server.alive(), server.log()[-3000:]


def test_dhclient_v4_and_v6_get_addresses_and_prefix_from_the_answer(
    lab: Topology, bridge: tuple[BridgeOnlyServer, AnswerService]
) -> None:
    server, _ = bridge
    with Dhclient(lab["cli"], mode="4") as client4:
        lease = client4.obtain(timeout=30)
        assert str(lease.address) == "10.67.0.50/24"
        assert (lease.t1, lease.t2) == (10, 17)  # from the lease time: 50 % / 87.5 %
    with Dhclient(lab["cli"], mode="6-napd") as client6:
        lease6 = client6.obtain(timeout=40)
        assert [str(a.ip) for a in lease6.addresses6] == ["fd67::50"]
        assert [str(p) for p in lease6.prefixes] == ["fd67:1000::/56"]
        assert (lease6.preferred_lifetime, lease6.valid_lifetime) == (20, 30)
        assert lease6.dns_servers == (ipaddress.ip_address("fd67::53"),)
        renewed = client6.renew(timeout=40)
        assert [str(a.ip) for a in renewed.addresses6] == ["fd67::50"]
    assert server.alive(), server.log()[-3000:]


def test_an_answer_off_the_clients_link_is_refused(
    lab: Topology, bridge: tuple[BridgeOnlyServer, AnswerService]
) -> None:
    server, service = bridge
    before = server.off_link()
    service.write(CLIENT_MAC.replace(":", "-"), {**ANSWER, "client_ip": "10.99.0.50"})
    try:
        # the service reloads the file within a second and the server's cache lasts one: the
        # next attempts get no lease, and the server counts why
        assert wait_for(lambda: not _obtains(lab) and server.off_link() > before, 90.0, 1.0), server.log()[
            -3000:
        ]
    finally:
        service.write(CLIENT_MAC.replace(":", "-"), ANSWER)


class PxeUdhcpc(Udhcpc):
    """udhcpc sending a PXE ROM's vendor class and asking for options 66 and 67."""

    def command(self, timeout: float) -> list[str]:
        return [*super().command(timeout), "-V", "PXEClient:Arch:00000:UNDI:002001", "-O", "66", "-O", "67"]


def test_a_client_in_a_class_gets_the_class_boot_settings_on_top_of_the_answer(
    lab: Topology, bridge: tuple[BridgeOnlyServer, AnswerService]
) -> None:
    server, _ = bridge
    with PxeUdhcpc(lab["cli"]) as client:
        lease = client.obtain(timeout=30)
        assert str(lease.address) == "10.67.0.50/24"  # the answer's address ...
        bound = [e for e in client.events if e.args.startswith("bound")][-1]
        assert bound.get("siaddr") == "10.67.0.5"  # ... and the class's boot settings
        assert bound.get("boot_file") == "undionly.kpxe"
        assert bound.get("tftp") == "boot.lab"
    assert server.alive(), server.log()[-3000:]


def _obtains(lab: Topology) -> bool:
    """One short udhcpc attempt; True when it got a lease."""
    with Udhcpc(lab["cli"]) as client:
        try:
            client.obtain(timeout=8)
        except ClientError:
            return False
    return True
