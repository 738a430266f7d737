"""A real BOOTP client (issue 13 §3): klibc's ``ipconfig`` (Debian ``klibc-utils``, the network
configurator of initramfs images) with ``-c bootp`` against ``dhcpbridge serve`` on a subnet with
``bootp = true``.

klibc 2.0.12 sends a bare 236-byte BOOTREQUEST: no ``vend`` field at all, so no RFC 1048 magic
cookie and no option 53 (its option list is never handed to the send call). The server must take
that as an RFC 951 BOOTP request, bind an infinite lease (``bootp-lease-time`` unset) and answer
with a 300-byte BOOTREPLY whose ``vend`` field is all zeros (no cookie to a client that sent none);
ipconfig configures the address (its netmask is the classful guess, as no option 1 comes back).

ipconfig writes ``/run/net-IFACE.conf``: it runs with a private directory bound over ``/run``
inside the mount namespace ``ip netns exec`` creates, so the host's ``/run`` is never touched and
the test reads what the client recorded.

Lab topology (``lab_topology``): cli(cli0 02:67:00:00:00:02) <-> srv(srv0 10.67.0.1/24).
"""

from __future__ import annotations

import ipaddress
import shlex
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import v4_helpers as h  # tests/e2e/v4_helpers.py ([tool.pytest.ini_options] pythonpath)

from dhcpbridge.testing.capture import Capture
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Namespace, Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN

pytestmark = pytest.mark.e2e

IPCONFIG = "/usr/lib/klibc/bin/ipconfig"  # klibc-utils (not on PATH)
CLIENT_MAC = "02:67:00:00:00:02"
POOL = (ipaddress.ip_address("10.67.0.100"), ipaddress.ip_address("10.67.0.199"))
NEXT_SERVER = "10.67.0.1"
BOOT_FILE = "pxelinux.0"
INFINITE = 0xFFFFFFFF


class BootpServer(h.V4Server):  # type: ignore[misc, name-defined]
    """The lab plan with ``bootp = true``, a next server and a boot file on the srv0 subnet."""

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = super().document()
        for subnet in doc["subnet4"]:
            if subnet["subnet"] == "10.67.0.0/24":
                subnet.update({"bootp": True, "next-server": NEXT_SERVER, "boot-file-name": BOOT_FILE})
        return doc


@pytest.fixture(scope="module")
def lab() -> Iterator[Topology]:
    require_e2e(IPCONFIG, "tshark")
    with lab_topology() as topo:
        yield topo


def ipconfig_bootp(
    ns: Namespace, work: Path, interface: str = "cli0", timeout: int = 10
) -> tuple[str, dict[str, str]]:
    """Run ``ipconfig -c bootp -t TIMEOUT IFACE`` in ``ns`` with a private ``/run``; its output
    and the ``net-IFACE.conf`` it wrote (KEY='value' lines) as a dict."""
    run_dir = work / f"run-{time.monotonic_ns()}"
    run_dir.mkdir(parents=True)
    script = (
        f"mount --bind {shlex.quote(str(run_dir))} /run && "
        f"exec {IPCONFIG} -c bootp -t {timeout} {shlex.quote(interface)}"
    )
    out = ns.run(["sh", "-c", script], timeout=timeout + 15, check=False, clean_env=True)
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    conf: dict[str, str] = {}
    path = run_dir / f"net-{interface}.conf"
    assert path.exists(), text
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            conf[key] = value.strip("'")
    return text, conf


def test_klibc_ipconfig_bootp_gets_an_infinite_lease(lab: Topology) -> None:
    with BootpServer(lab["srv"], lab.workdir / "bootp", LAB_PLAN) as server:
        with Capture(lab["srv"], "srv0") as cap:
            text, conf = ipconfig_bootp(lab["cli"], lab.workdir / "ipconfig")
        assert "complete (bootp from" in text, text
        assert conf["PROTO"] == "bootp", conf
        address = ipaddress.ip_address(conf["IPV4ADDR"])
        assert POOL[0] <= address <= POOL[1], conf
        assert conf["ROOTSERVER"] == NEXT_SERVER and conf["filename"] == BOOT_FILE, conf
        configured = [a.ip for a in lab["cli"].addresses("cli0") if a.version == 4]
        assert configured == [address], configured  # the client put it on its interface

        # the lease: bound to cli0's MAC, infinite (RFC 2131's 0xffffffff as the BOOTP default)
        lease = server.control_leases()[str(address)]
        assert lease["state"] == "bound" and lease["hwaddr"] == CLIENT_MAC, lease
        assert lease["subnet"] == "10.67.0.0/24"
        assert abs(lease["expires"] - lease["starts"] - INFINITE) < 2, lease
        stats = server.stats()
        assert stats["received"].get("BOOTP") == 1 and not stats["drops"], stats
        assert stats["sent"] == {"BOOTREPLY": 1}, stats  # no option 53 in it: not a DHCPACK

        # on the wire: a 236-byte request without a cookie, a 300-byte reply without one
        rows = cap.fields(
            "dhcp.type",
            "udp.length",
            "dhcp.ip.your",
            "dhcp.file",
            "udp.payload",
            display_filter="udp.port == 67",
        )
        assert [(r[0], r[1]) for r in rows] == [("1", str(8 + 236)), ("2", str(8 + 300))], rows
        reply = bytes.fromhex(rows[1][4].replace(":", ""))
        assert reply[236:] == bytes(64), "the reply's vend field carries no cookie, no option"
        assert rows[1][2] == str(address) and rows[1][3] == BOOT_FILE, rows

        # the client boots again: the same address, still one lease
        lab["cli"].flush_addresses("cli0")
        _, again = ipconfig_bootp(lab["cli"], lab.workdir / "ipconfig")
        assert again["IPV4ADDR"] == str(address), again
        assert list(server.control_leases()) == [str(address)]
        assert server.alive(), server.log()[-3000:]
