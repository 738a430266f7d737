"""Issue 13 §3 for DHCPv6: IA_NA pools kept for a class (vendor class, option 16) come first for
its clients and are closed to others; ``valid-lifetime`` / ``preferred-lifetime`` per class."""

from __future__ import annotations

import ipaddress
import struct
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine6, build_sources
from dhcpbridge.config.loader import ConfigError, from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v6.message import Message6, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, IAPD, ClientId, ElapsedTime, RawOption

NOW = 1_800_000_000.0
CONFIG: dict[str, Any] = {
    "leases": {"store": "memory://"},
    "subnet6": [
        {
            "subnet": "fd69::/64",
            "interface": "srv0",
            "pools": [{"range": "fd69::10-fd69::1f", "classes": ["lab"]}, "fd69::100-fd69::1ff"],
        }
    ],
    "class": [
        {"name": "lab", "match": {"vendor-class": "lab"}, "valid-lifetime": 900, "preferred-lifetime": 600}
    ],
}


def vendor_class(text: bytes) -> RawOption:
    return RawOption(16, struct.pack("!IH", 9, len(text)) + text)  # enterprise 9, one item


def solicit(mac: str, *extra: Any) -> tuple[int, int, int]:
    cfg = from_dict(CONFIG)
    srv = int(ipaddress.IPv6Address("fd69::1"))
    engine = build_engine6(cfg, MemoryStore(), HostInfo6({"srv0": (srv,)}), Stats(), build_sources(cfg))
    opts = [ClientId(Duid(Duid.ll(1, bytes.fromhex(mac)).raw)), IANA(1), ElapsedTime(0), *extra]
    meta = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
    out = run_inline(engine.process(encode6(Message6(1, 5, opts)), meta, NOW))
    assert out.data is not None, out.drop_reason
    reply = parse6(out.data)
    assert isinstance(reply, Message6)
    ia = reply.raw(3)  # IAID, T1, T2, then IAADDR (code, len, address, preferred, valid)
    assert ia is not None
    addr = int.from_bytes(ia[16:32], "big")
    preferred, valid = struct.unpack("!II", ia[32:40])
    return addr & 0xFFFF, preferred, valid


def test_class_pool_first_for_its_clients_and_closed_to_others() -> None:
    addr, preferred, valid = solicit("026900000001", vendor_class(b"lab-box"))
    assert 0x10 <= addr <= 0x1F
    assert (preferred, valid) == (600, 900)
    addr, preferred, valid = solicit("026900000002")
    assert 0x100 <= addr <= 0x1FF
    assert (preferred, valid) == (3600, 7200)


# --- prefix pools (IA_PD) kept for classes and for known clients ----------------------------------
PD_POOLS: list[dict[str, Any]] = [
    {"prefix": "fd69:1000::/48", "delegated-length": 56, "classes": ["lab"]},
    {"prefix": "fd69:3000::/48", "delegated-length": 60, "deny-unknown": True},
    {"prefix": "fd69:2000::/48", "delegated-length": 56},
]


def pd_engine(pd_pools: list[dict[str, Any]], static6: str | None = None) -> Any:
    cfg: dict[str, Any] = {**CONFIG, "subnet6": [{**CONFIG["subnet6"][0], "pd-pools": pd_pools}]}
    if static6 is not None:
        cfg["source"] = [{"type": "static6", "files": [static6]}, {"type": "pools"}]
    conf = from_dict(cfg)
    srv = int(ipaddress.IPv6Address("fd69::1"))
    return build_engine6(conf, MemoryStore(), HostInfo6({"srv0": (srv,)}), Stats(), build_sources(conf))


def ask_pd(engine: Any, mac: str, kind: int = 1, hint: bytes = b"", *extra: Any) -> bytes:
    """The IA_PD body of the reply to a SOLICIT (``kind`` 1), REQUEST (3) or RENEW (5) with one IA_PD."""
    duid = Duid(Duid.ll(1, bytes.fromhex(mac)).raw)
    opts = [ClientId(duid), RawOption(25, struct.pack("!III", 2, 0, 0) + hint), ElapsedTime(0), *extra]
    if kind in (3, 5):
        opts.append(RawOption(2, engine.env.server_duid))
    meta = Meta6("fe80::2", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "srv0")
    out = run_inline(engine.process(encode6(Message6(kind, 5, opts)), meta, NOW))
    assert out.data is not None, out.drop_reason
    reply = parse6(out.data)
    assert isinstance(reply, Message6)
    return reply.raw(25) or b""


def prefix_of(ia_pd: bytes) -> str:
    """The delegated prefix of an IA_PD body (IAID, T1, T2, then IAPREFIX: lifetimes, length, prefix)."""
    assert ia_pd[12:14] == b"\x00\x1a", ia_pd.hex()  # an IAPREFIX, not a status
    length, prefix = ia_pd[24], ia_pd[25:41]
    return f"{ipaddress.IPv6Address(prefix)}/{length}"


def iaprefix_hint(prefix: str) -> bytes:
    net = ipaddress.IPv6Network(prefix)
    body = struct.pack("!IIB", 0, 0, net.prefixlen) + net.network_address.packed
    return struct.pack("!HH", 26, len(body)) + body


def test_prefix_pool_kept_for_its_class_first_and_closed_to_others() -> None:
    engine = pd_engine(PD_POOLS)
    lab = prefix_of(ask_pd(engine, "026900000011", 1, b"", vendor_class(b"lab-box")))
    assert lab.startswith("fd69:1000:") and lab.endswith("/56")
    other = prefix_of(ask_pd(engine, "026900000012"))
    assert other.startswith("fd69:2000:") and other.endswith("/56")  # not the lab's, not deny-unknown's


def no_prefix(ia_pd: bytes) -> bool:
    """An IA_PD that carries only a NoPrefixAvail status."""
    return ia_pd[12:14] == b"\x00\x0d" and ia_pd[16:18] == b"\x00\x06"


def test_prefix_pool_only_for_a_class_leaves_others_without() -> None:
    engine = pd_engine([PD_POOLS[0]])
    assert ask_pd(engine, "026900000013") == b""  # an ADVERTISE with nothing: no IA at all
    assert no_prefix(ask_pd(engine, "026900000013", 3))
    # nor does naming a prefix of the class's pool get it
    assert no_prefix(ask_pd(engine, "026900000013", 3, iaprefix_hint("fd69:1000:0:100::/56")))
    granted = ask_pd(engine, "026900000014", 3, iaprefix_hint("fd69:1000:0:100::/56"), vendor_class(b"lab"))
    assert prefix_of(granted) == "fd69:1000:0:100::/56"


def test_deny_unknown_prefix_pool_only_for_known_clients(tmp_path: Path) -> None:
    table = tmp_path / "static6.csv"
    table.write_text("id,address,prefix\nduid:00:03:00:01:02:69:00:00:00:99,fd69::99,\n")
    engine = pd_engine([PD_POOLS[1]], str(table))
    known = prefix_of(ask_pd(engine, "026900000099"))  # its address is fixed, its prefix dynamic
    assert known.startswith("fd69:3000:") and known.endswith("/60")
    assert no_prefix(ask_pd(engine, "026900000015", 3))


def test_a_hinted_length_picks_among_the_pools_the_client_may_use() -> None:
    engine = pd_engine(PD_POOLS)
    hint = iaprefix_hint("::/60")  # only the deny-unknown pool delegates /60: not for this client
    assert prefix_of(ask_pd(engine, "026900000016", 1, hint)).endswith("/56")


def test_pd_pool_naming_an_unknown_class_is_a_config_error() -> None:
    cfg = {**CONFIG, "subnet6": [{**CONFIG["subnet6"][0], "pd-pools": [{**PD_POOLS[0], "classes": ["lba"]}]}]}
    with pytest.raises(ConfigError, match=r"subnet6\[0\]\.pd-pools\[0\]\.classes"):
        from_dict(cfg)


def test_renewing_a_prefix_of_a_pool_the_client_left_gets_lifetimes_zero() -> None:
    engine = pd_engine(PD_POOLS)
    granted = prefix_of(ask_pd(engine, "026900000017", 3, b"", vendor_class(b"lab")))
    assert granted.startswith("fd69:1000:")
    kept = ask_pd(engine, "026900000017", 5, iaprefix_hint(granted), vendor_class(b"lab"))  # RENEW
    assert prefix_of(kept) == granted and kept[16:20] != bytes(4)
    left = IAPD.from_wire(ask_pd(engine, "026900000017", 5, iaprefix_hint(granted)))  # left the class
    # withdrawn (as Kea: a new one only when it asks again, the lease being on this link)
    assert [(str(p.network), p.preferred, p.valid) for p in left.prefixes] == [(granted, 0, 0)]
