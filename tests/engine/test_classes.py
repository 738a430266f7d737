"""Client classes in config (issue 13 §3): each match kind, boolean combinations, precedence
(answer > classes in order > subnet), the classes in the bridge question, and the standard
PXE / UEFI / iPXE boot chain with the real client-architecture values (RFC 4578 §2.1: 0 BIOS,
7 x64 UEFI, 16 x64 UEFI HTTP; iPXE sends user class "iPXE"), DHCPv4 and DHCPv6 (bootfile-url)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4, build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.classes import Facts, Match
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.leases import MemoryStore
from dhcpbridge.sources.question import question
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, ip4_str, parse
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, OptionRequest, RawOption

NOW = 1_800_000_000.0
SCRIPT = "http://10.67.0.5/boot.ipxe"
PXE_CLASSES: list[dict[str, Any]] = [
    {"name": "ipxe", "match": {"user-class": "iPXE"}, "boot-file-name": SCRIPT},
    {"name": "bios", "match": {"client-arch": [0]}, "boot-file-name": "undionly.kpxe"},
    {
        "name": "uefi-x64",
        "match": {"client-arch": [7, 9], "not": {"user-class": "iPXE"}},
        "boot-file-name": "ipxe.efi",
    },
    {"name": "pxe", "match": {"vendor-class": "PXEClient"}, "next-server": "10.67.0.5"},
    {
        "name": "uefi-http6",
        "match": {"client-arch": [16]},
        "options6": {"bootfile-url": "http://[fd67::5]/ipxe.efi"},
    },
]
CONFIG: dict[str, Any] = {
    "leases": {"store": "memory://"},
    "subnet4": [
        {
            "subnet": "10.67.0.0/24",
            "pools": ["10.67.0.100-10.67.0.199"],
            "interface": "eth0",
            "boot-file-name": "subnet.0",
        }
    ],
    "subnet6": [{"subnet": "fd67::/64", "pools": ["fd67::100:0/120"], "interface": "srv0"}],
    "class": PXE_CLASSES,
}
DIRECT = Meta4(0, 68, BROADCAST, ip4_int("10.67.0.1"), 2, "eth0")


def offer(options: dict[int, bytes], config: dict[str, Any] = CONFIG) -> tuple[Message4, Any]:
    cfg = from_dict(config)
    host = HostInfo.build({"eth0": (ip4_int("10.67.0.1"),)})
    engine = build_engine4(cfg, MemoryStore(), host, Stats(), sources=build_sources(cfg))
    msg = Message4(
        xid=9, htype=1, hlen=6, chaddr=bytes.fromhex("026700000002"), options={53: b"\x01", **options}
    )
    out = run_inline(engine.process(encode(msg), DIRECT, NOW))
    assert out.data is not None, out.drop_reason
    return parse(out.data), out.tx


def arch(*codes: int) -> bytes:
    return b"".join(c.to_bytes(2, "big") for c in codes)


PXE = b"PXEClient:Arch:00000:UNDI:002001"
PRL = bytes([1, 3, 6, 66, 67])


@pytest.mark.parametrize(
    ("options", "boot_file", "classes"),
    [
        ({60: PXE, 93: arch(0), 55: PRL}, "undionly.kpxe", ["bios", "pxe"]),  # BIOS PXE ROM
        ({60: b"PXEClient:Arch:00007:UNDI:003016", 93: arch(7), 55: PRL}, "ipxe.efi", ["uefi-x64", "pxe"]),
        ({60: b"PXEClient:Arch:00007", 93: arch(7), 77: b"iPXE", 55: PRL}, SCRIPT, ["ipxe", "pxe"]),
        ({55: PRL}, "subnet.0", []),  # no class: the subnet's boot file
    ],
)
def test_the_pxe_uefi_ipxe_chain(options: dict[int, bytes], boot_file: str, classes: list[str]) -> None:
    reply, tx = offer(options)
    assert reply.file.rstrip(b"\0").decode() == boot_file
    assert list(tx.classes) == classes
    if "pxe" in classes:
        assert ip4_str(reply.siaddr) == "10.67.0.5"
        assert question(tx)["classes"] == classes  # a bridge sees them
    else:
        assert "classes" not in question(tx)


def test_class_options_go_out_when_asked_and_the_first_class_wins() -> None:
    config = {
        **CONFIG,
        "class": [
            {"name": "a", "match": {"mac-prefix": "02:67:00"}, "options": {"tftp-server-name": "a.example"}},
            {"name": "b", "match": {"mac-prefix": "02:67"}, "options": {"tftp-server-name": "b.example"}},
            {"name": "c", "match": {"mac-prefix": "02:99"}, "options": {"domain-name": "c.example"}},
        ],
    }
    reply, tx = offer({55: bytes([1, 3, 66, 15])}, config)
    assert tx.classes == ("a", "b")
    assert reply.options[66] == b"a.example"
    assert 15 not in reply.options  # class c did not match
    reply, _ = offer({55: bytes([1, 3])}, config)
    assert 66 not in reply.options  # not asked for


def test_v6_bootfile_url_for_uefi_http_clients() -> None:
    cfg = from_dict(CONFIG)
    srv = int(ipaddress.IPv6Address("fd67::1"))
    engine = build_engine6(cfg, MemoryStore(), HostInfo6({"srv0": (srv,)}), Stats(), build_sources(cfg))
    opts = [
        ClientId(Duid(Duid.ll(1, bytes.fromhex("026700000002")).raw)),
        IANA(1),
        RawOption(61, arch(16)),
        OptionRequest([23, 59]),
        ElapsedTime(0),
    ]
    meta = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
    out = run_inline(engine.process(encode6(Message6(1, 5, opts)), meta, NOW))
    assert out.data is not None, out.drop_reason
    reply = parse6(out.data)
    assert isinstance(reply, Message6)
    assert reply.raw(59) == b"http://[fd67::5]/ipxe.efi"
    assert out.tx is not None and out.tx.classes == ("uefi-http6",)


def facts(**kw: Any) -> Facts:
    f = Facts(kw.pop("family", 4))
    for key, value in kw.items():
        setattr(f, key, value)
    return f


@pytest.mark.parametrize(
    ("match", "yes", "no"),
    [
        (
            Match(vendor_prefix="PXEClient"),
            facts(vendor_class="PXEClient:Arch:0"),
            facts(vendor_class="MSFT"),
        ),
        (
            Match(vendor_regex=r"Arch:0000[79]"),
            facts(vendor_class="PXEClient:Arch:00007"),
            facts(vendor_class="x"),
        ),
        (Match(user_class="iPXE"), facts(user_classes=["lab", "iPXE"]), facts(user_classes=["ipxe"])),
        (Match(arch=[7, 9]), facts(arch=[9]), facts(arch=[0])),
        (
            Match(mac_prefix=b"\x02\x67\x00"),
            facts(mac=bytes.fromhex("026700000002")),
            facts(mac=b"\x02\x68\x00\x00"),
        ),
        (Match(circuit_id=b"port-7"), facts(circuit_id=b"port-7"), facts(circuit_id=b"port-8")),
        (Match(remote_id=b"\x0a\x0b"), facts(remote_id=b"\x0a\x0b"), facts()),
        (Match(subscriber_id=b"sub-1"), facts(subscriber_id=b"sub-1"), facts(subscriber_id=b"sub-2")),
        (Match(duid_type=3), facts(duid_type=3), facts(duid_type=1)),
        (
            Match(relays=[(4, ip4_int("10.68.0.0"), 16)]),
            facts(relay=ip4_int("10.68.0.2")),
            facts(relay=ip4_int("10.69.0.2")),
        ),
        (
            Match(relays=[(6, int(ipaddress.IPv6Address("fd69::")), 64)]),
            facts(family=6, relay=int(ipaddress.IPv6Address("fd69::1"))),
            facts(family=6, relay=0),
        ),
        (Match(hostname_regex=r"^printer-\d+$"), facts(hostname="printer-7"), facts(hostname="laptop")),
        (
            Match(any_=[Match(arch=[0]), Match(user_class="iPXE")]),
            facts(user_classes=["iPXE"]),
            facts(arch=[7]),
        ),
        (
            Match(all_=[Match(arch=[7]), Match(vendor_prefix="PXE")]),
            facts(arch=[7], vendor_class="PXEClient"),
            facts(arch=[7], vendor_class="HTTPClient"),
        ),
        (Match(not_=Match(user_class="iPXE")), facts(), facts(user_classes=["iPXE"])),
    ],
)
def test_each_match_kind(match: Match, yes: Facts, no: Facts) -> None:
    assert match.test(yes)
    assert not match.test(no)


def test_an_empty_match_is_a_config_error() -> None:
    with pytest.raises(Exception, match="empty match"):
        from_dict({"class": [{"name": "x", "match": {}}]})
