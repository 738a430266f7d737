"""Issue 13 §3, the rest: pools kept for classes (``pools = [{ range, classes }]``) and for known
clients (``deny-unknown``), lease times per class, and BOOTP clients (no option 53) answered on a
subnet with ``bootp = true`` (dropped and counted as ``bootp`` elsewhere)."""

from __future__ import annotations

from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4, build_sources
from dhcpbridge.config.loader import ConfigError, from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind, LeaseState
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, ip4_str, parse

NOW = 1_800_000_000.0
DIRECT = Meta4(0, 68, BROADCAST, ip4_int("10.69.0.1"), 2, "eth0")
PXE = b"PXEClient:Arch:00000:UNDI:002001"


def config(**subnet: Any) -> dict[str, Any]:
    return {
        "leases": {"store": "memory://"},
        "subnet4": [
            {
                "subnet": "10.69.0.0/24",
                "interface": "eth0",
                "pools": [
                    {"range": "10.69.0.10-10.69.0.19", "classes": ["pxe"]},
                    {"range": "10.69.0.20-10.69.0.29", "deny-unknown": True},
                    "10.69.0.100-10.69.0.199",
                ],
                **subnet,
            }
        ],
        "class": [
            {"name": "pxe", "match": {"vendor-class": "PXEClient"}, "lease-time": 600},
            {"name": "phones", "match": {"vendor-class": "phone"}, "lease-time": 120},
        ],
        "reservation": [{"mac": "02:69:00:00:00:99", "hostname": "known-box"}],
    }


class Server:
    def __init__(self, cfg: dict[str, Any]) -> None:
        conf = from_dict(cfg)
        self.store = MemoryStore()
        self.stats = Stats()
        host = HostInfo.build({"eth0": (ip4_int("10.69.0.1"),)})
        self.engine = build_engine4(conf, self.store, host, self.stats, sources=build_sources(conf))

    def send(self, mac: str, options: dict[int, bytes]) -> Any:
        msg = Message4(xid=7, htype=1, hlen=6, chaddr=bytes.fromhex(mac.replace(":", "")), options=options)
        return run_inline(self.engine.process(encode(msg), DIRECT, NOW))

    def offer(self, mac: str, **options: bytes) -> Message4:
        out = self.send(mac, {53: b"\x01", **{int(k[1:]): v for k, v in options.items()}})
        assert out.data is not None, out.drop_reason
        return parse(out.data)


def test_class_pool_only_for_its_class() -> None:
    server = Server(config())
    pxe = server.offer("02:69:00:00:00:01", o60=PXE)
    assert 10 <= pxe.yiaddr & 0xFF <= 19, ip4_str(pxe.yiaddr)
    plain = server.offer("02:69:00:00:00:02")
    assert 100 <= plain.yiaddr & 0xFF <= 199, ip4_str(plain.yiaddr)
    # the client asks for an address of a pool kept for others: it gets one of its own
    wish = server.offer("02:69:00:00:00:03", o50=bytes([10, 69, 0, 11]))
    assert 100 <= wish.yiaddr & 0xFF <= 199


def test_deny_unknown_pool_only_for_known_clients() -> None:
    cfg = config()
    cfg["subnet4"][0]["pools"] = [{"range": "10.69.0.20-10.69.0.29", "deny-unknown": True}]
    server = Server(cfg)
    known = server.offer("02:69:00:00:00:99")
    assert 20 <= known.yiaddr & 0xFF <= 29
    out = server.send("02:69:00:00:00:05", {53: b"\x01"})
    assert out.data is None and out.drop_reason == "no-pool"


def test_request_for_an_address_of_a_forbidden_pool_is_naked() -> None:
    server = Server(config(authoritative=True))
    out = server.send("02:69:00:00:00:06", {53: b"\x03", 50: bytes([10, 69, 0, 12])})
    reply = parse(out.data)
    assert reply.msg_type == 6, "NAK: 10.69.0.12 is in the pxe class's pool"
    ok = server.send("02:69:00:00:00:07", {53: b"\x03", 50: bytes([10, 69, 0, 12]), 60: PXE})
    assert parse(ok.data).msg_type == 5


def test_lease_time_per_class_first_class_wins() -> None:
    server = Server(config())
    assert int.from_bytes(server.offer("02:69:00:00:00:08", o60=PXE).options[51], "big") == 600
    assert int.from_bytes(server.offer("02:69:00:00:00:09", o60=b"phone-x").options[51], "big") == 120
    assert int.from_bytes(server.offer("02:69:00:00:00:0a").options[51], "big") == 3600


def test_unknown_pool_class_is_a_config_error() -> None:
    cfg = config()
    cfg["subnet4"][0]["pools"][0]["classes"] = ["pxee"]
    with pytest.raises(
        ConfigError, match=r"subnet4\[0\]\.pools\[0\]\.classes: no \[\[class\]\] is named 'pxee'"
    ):
        from_dict(cfg)


def test_bootp_dropped_and_counted_by_default() -> None:
    server = Server(config())
    out = server.send("02:69:00:00:00:0b", {})
    assert out.data is None and out.drop_reason == "bootp"


def test_bootp_answered_with_an_infinite_bound_lease() -> None:
    server = Server(config(bootp=True, **{"next-server": "10.69.0.5", "boot-file-name": "pxelinux.0"}))
    out = server.send("02:69:00:00:00:0c", {})
    assert out.data is not None, out.drop_reason
    reply = parse(out.data)
    assert reply.op == 2 and reply.yiaddr and reply.siaddr == ip4_int("10.69.0.5")
    assert reply.file.rstrip(b"\0") == b"pxelinux.0"
    assert not {53, 54, 51, 58, 59} & set(reply.options), "a BOOTREPLY carries no DHCP-only option"
    assert 1 in reply.options  # the subnet mask still goes out
    lease = run_inline(server.store.get(LeaseKind.V4, reply.yiaddr))
    assert lease is not None and lease.state == LeaseState.BOUND
    assert lease.expires == NOW + 0xFFFFFFFF
    # the same client asks again (a reboot): the same address
    again = parse(server.send("02:69:00:00:00:0c", {}).data)
    assert again.yiaddr == reply.yiaddr
    assert server.stats.sent == {"BOOTREPLY": 2}  # no option 53: not a DHCPACK


def test_bootp_lease_time_and_class_pool() -> None:
    server = Server(config(bootp=True, **{"bootp-lease-time": 86400}))
    out = server.send("02:69:00:00:00:0d", {60: PXE})
    reply = parse(out.data)
    assert 10 <= reply.yiaddr & 0xFF <= 19
    lease = run_inline(server.store.get(LeaseKind.V4, reply.yiaddr))
    assert lease is not None and lease.expires == NOW + 86400


def rfc951_request(mac: str, vend: bytes) -> bytes:
    """A BOOTREQUEST with no RFC 1048 cookie: 236 header bytes and ``vend`` (64 bytes, or none)."""
    msg = Message4(xid=8, htype=1, hlen=6, chaddr=bytes.fromhex(mac.replace(":", "")), cookie=False)
    return encode(msg)[:236] + vend


@pytest.mark.parametrize(
    "vend", [bytes(64), b"CMU\0" + bytes(range(60)), b""], ids=["zeros", "vendor-data", "no-vend-klibc"]
)
def test_bootp_without_cookie_answered_without_options(vend: bytes) -> None:
    """RFC 951 clients (no magic cookie): a BOOTREPLY with address, next server and boot file,
    and a vend field of zeros (no RFC 1048 options: the client did not ask for that format)."""
    server = Server(config(bootp=True, **{"next-server": "10.69.0.5", "boot-file-name": "pxelinux.0"}))
    out = run_inline(server.engine.process(rfc951_request("02:69:00:00:00:0e", vend), DIRECT, NOW))
    assert out.data is not None, out.drop_reason
    assert len(out.data) == 300 and out.data[236:] == bytes(64)
    reply = parse(out.data)
    assert reply.op == 2 and reply.cookie is False and reply.options == {}
    assert 100 <= reply.yiaddr & 0xFF <= 199 and reply.siaddr == ip4_int("10.69.0.5")
    assert reply.xid == 8 and reply.file.rstrip(b"\0") == b"pxelinux.0"
    lease = run_inline(server.store.get(LeaseKind.V4, reply.yiaddr))
    assert lease is not None and lease.state == LeaseState.BOUND and lease.expires == NOW + 0xFFFFFFFF
    assert lease.hwaddr == bytes.fromhex("02690000000e")
    assert server.stats.received == {"BOOTP": 1} and server.stats.sent == {"BOOTREPLY": 1}


def test_bootp_without_cookie_dropped_as_bootp_where_not_allowed() -> None:
    server = Server(config())
    out = run_inline(server.engine.process(rfc951_request("02:69:00:00:00:0f", bytes(64)), DIRECT, NOW))
    assert out.data is None and out.drop_reason == "bootp"
