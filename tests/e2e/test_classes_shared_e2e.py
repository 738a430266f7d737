"""Issue 13 §3/§4 with real clients in namespaces: a dhclient and a udhcpc that send a vendor
class get an address from the pool kept for their class (and the class's lease time), a client
without it gets one from the open pool; in a ``[[shared-network]]`` whose first subnet's pool is
full (one address, held by a first udhcpc) the next client gets an address, mask and router of the
second subnet."""

from __future__ import annotations

import importlib.util
import ipaddress
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from dhcpbridge.testing.clients import Dhclient, Udhcpc
from dhcpbridge.testing.e2e import require_e2e
from dhcpbridge.testing.netns import Topology, lab_topology
from dhcpbridge.testing.plan import LAB_PLAN


def _helpers() -> ModuleType:
    """tests/e2e/v4_helpers.py (test modules cannot import each other under --import-mode=importlib)."""
    name = "dhcpbridge_e2e_v4_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("v4_helpers.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


h = _helpers()
pytestmark = pytest.mark.e2e

VENDOR = "dhcpbridge-lab-box"
CLASS_POOL = ipaddress.ip_network("10.67.0.16/28")  # 10.67.0.16-31, for class "lab"
SECOND = ipaddress.ip_network("10.77.0.0/24")


class ClassServer(h.V4Server):  # type: ignore[misc, name-defined]
    """The lab's srv0 subnet with its pools written as tables, and a second subnet that shares
    the link (``shared``) or not."""

    def __init__(self, *args: Any, shared: bool, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.shared = shared

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = super().document()
        doc["subnet4"] = [s for s in doc["subnet4"] if s["subnet"] == "10.67.0.0/24"]
        first = doc["subnet4"][0]
        first["options"]["routers"] = ["10.67.0.1"]
        if self.shared:
            first["pools"] = ["10.67.0.100-10.67.0.100"]  # one address: full after one client
            doc["subnet4"].append(
                {
                    "subnet": str(SECOND),
                    "pools": ["10.77.0.10-10.77.0.20"],
                    "options": {"routers": ["10.77.0.1"]},
                }
            )
            doc["shared-network"] = [{"name": "cli-link", "subnets": ["10.67.0.0/24", str(SECOND)]}]
        else:
            first["pools"] = [
                {"range": f"{CLASS_POOL[0]}-{CLASS_POOL[-1]}", "classes": ["lab"]},
                "10.67.0.100-10.67.0.199",
            ]
            doc["class"] = [{"name": "lab", "match": {"vendor-class": "dhcpbridge-lab"}, "lease-time": 40}]
        return doc


class VendorDhclient(Dhclient):
    """dhclient -4 sending a vendor class identifier (option 60)."""

    def command(self, timeout: float) -> list[str]:
        argv = super().command(timeout)
        self.conf.write_text(self.conf.read_text() + f'send vendor-class-identifier "{VENDOR}";\n')
        return argv


class VendorUdhcpc(Udhcpc):
    def command(self, timeout: float) -> list[str]:
        return [*super().command(timeout), "-V", VENDOR]


class OtherUdhcpc(Udhcpc):
    """udhcpc with a client identifier of its own: another client on the same interface."""

    def command(self, timeout: float) -> list[str]:
        return [*super().command(timeout), "-x", "0x3d:ff00000001000102030405"]


@pytest.fixture(scope="module")
def lab() -> Iterator[Topology]:
    require_e2e("dhclient", "udhcpc")
    with lab_topology() as topo:
        yield topo


def _serve(lab: Topology, name: str, shared: bool) -> Any:
    return ClassServer(lab["srv"], lab.workdir / name, LAB_PLAN, shared=shared)


def test_clients_with_a_vendor_class_get_the_class_pool(lab: Topology) -> None:
    with _serve(lab, "classes", shared=False) as server:
        for client in (VendorDhclient(lab["cli"], mode="4"), VendorUdhcpc(lab["cli"], release_on_exit=False)):
            with client:
                lease = client.obtain(timeout=30)
                assert lease.address is not None and lease.address.ip in CLASS_POOL, lease
                assert lease.lease_time == 40  # the class's lease-time
        with Udhcpc(lab["cli"], release_on_exit=False) as plain:
            lease = plain.obtain(timeout=30)
            assert lease.address is not None and lease.address.ip not in CLASS_POOL
            assert lease.lease_time == LAB_PLAN.lifetimes.valid4
        assert server.alive(), server.log()[-3000:]


def test_shared_network_second_subnet_when_the_first_is_full(lab: Topology) -> None:
    with _serve(lab, "shared", shared=True) as server:
        with OtherUdhcpc(lab["cli"], release_on_exit=False) as first:
            held = first.obtain(timeout=30)
            assert held.address is not None and str(held.address.ip) == "10.67.0.100"
        with Udhcpc(lab["cli"], release_on_exit=False) as second:
            lease = second.obtain(timeout=30)
            assert lease.address is not None and lease.address.network == SECOND, lease
            assert lease.routers == (ipaddress.ip_address("10.77.0.1"),)
        stats = server.stats()
        assert stats["drops"].get("pool-exhausted", 0) == 0
        assert server.alive(), server.log()[-3000:]
