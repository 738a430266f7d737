"""Reconfigure (RFC 8415 §18.2.11 with the Reconfigure Key authentication of §20.4) and FORCERENEW
(RFC 3203 with the Forcerenew Nonce authentication of RFC 6704): the key / nonce goes out in the
REPLY / ACK of a client that accepts them, its lease is marked, and the signed RECONFIGURE /
FORCERENEW verifies under that key. The digests are checked here with ``hmac`` directly."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import struct
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.assemble import AssemblyError, build_engine4, build_engine6, build_sources
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import LeaseKind
from dhcpbridge.engine.reconfigure import verify
from dhcpbridge.engine.records import HostInfo, HostInfo6, Meta4, Meta6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.forcerenew import forcerenew
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.engine.v6.reconfigure import reconfigure
from dhcpbridge.engine.v6.relay_record import relayed
from dhcpbridge.leases import MemoryStore
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.v4.message import Message4, encode, ip4_int, parse
from dhcpbridge.wire.v6.message import Message6, RelayMessage6, RelayMsg, encode6, parse6
from dhcpbridge.wire.v6.options import IANA, ClientId, ElapsedTime, RapidCommit, RawOption
from dhcpbridge.wire.v6.relay_chain import parse_chain, wrap

NOW = 1_800_000_000.0
SECRET = b"0123456789abcdef-lab-secret"
MAC = bytes.fromhex("027500000001")
DUID = Duid.ll(1, MAC).raw


def config(tmp_path: Path, **extra: Any) -> Any:
    key = tmp_path / "reconfigure.key"
    key.write_bytes(SECRET + b"\n")
    cfg: dict[str, Any] = {
        "server": {"reconfigure-key-file": str(key)},
        "leases": {"store": "memory://"},
        "subnet4": [{"subnet": "10.75.0.0/24", "interface": "eth0", "pools": ["10.75.0.100-10.75.0.199"]}],
        "subnet6": [
            {
                "subnet": "fd75::/64",
                "interface": "eth0",
                "pools": ["fd75::100-fd75::1ff"],
                "rapid-commit": True,
            }
        ],
        **extra,
    }
    return from_dict(cfg)


def auth_fields(body: bytes) -> tuple[int, int, int, int, int, bytes]:
    """protocol, algorithm, RDM, replay detection, info type, value (RFC 3118 / RFC 8415 §21.11)."""
    protocol, algorithm, rdm, replay, kind = struct.unpack_from("!BBBQB", body)
    return protocol, algorithm, rdm, replay, kind, body[12:]


# --- DHCPv6 ------------------------------------------------------------------------------------
def v6_lab(tmp_path: Path, accept: bool) -> tuple[Any, Message6]:
    conf = config(tmp_path)
    engine = build_engine6(
        conf,
        MemoryStore(),
        HostInfo6({"eth0": (int(ipaddress.IPv6Address("fd75::1")),)}),
        Stats(),
        build_sources(conf),
    )
    opts: list[Any] = [ClientId(Duid(DUID)), IANA(1), ElapsedTime(0), RapidCommit()]
    if accept:
        opts.append(RawOption(20, b""))  # Reconfigure Accept
    meta = Meta6("fe80::75:1", 546, ipaddress.IPv6Address("ff02::1:2").packed, 2, "eth0")
    out = run_inline(engine.process(encode6(Message6(1, 7, opts)), meta, NOW))
    reply = parse6(out.data or b"")
    assert isinstance(reply, Message6) and reply.msg_type == 7
    return engine, reply


def test_v6_reply_gives_the_key_to_a_client_that_accepts_reconfigure(tmp_path: Path) -> None:
    engine, reply = v6_lab(tmp_path, accept=True)
    assert reply.has(20)  # the server says it will send Reconfigure
    auth = reply.raw(11)
    assert auth is not None
    protocol, algorithm, rdm, replay, kind, key = auth_fields(auth)
    assert (protocol, algorithm, rdm, kind, len(key)) == (3, 1, 0, 1, 16)
    assert replay == int(NOW * 1000)
    assert key == hmac.new(SECRET, b"\x06" + DUID, hashlib.sha256).digest()[:16]
    (lease,) = run_inline(engine.env.store.leases(LeaseKind.NA))
    assert lease.info == {"reconfigure": True}
    # the RECONFIGURE: type 10, transaction-id 0, our id, its id, Reconfigure Message = RENEW (5)
    data = reconfigure(engine.env, DUID, NOW + 60)
    msg = parse6(data)
    assert isinstance(msg, Message6) and msg.msg_type == 10 and msg.transaction_id == 0
    assert msg.raw(1) == DUID and msg.raw(2) == engine.env.server_duid and msg.raw(19) == b"\x05"
    sig = msg.raw(11)
    assert sig is not None
    protocol, algorithm, rdm, replay, kind, digest = auth_fields(sig)
    assert (protocol, algorithm, rdm, kind, replay) == (3, 1, 0, 2, int((NOW + 60) * 1000))
    zeroed = data.replace(digest, bytes(16))
    assert hmac.new(key, zeroed, hashlib.md5).digest() == digest  # RFC 8415 §20.4.2
    assert verify(data, key) and not verify(data, bytes(16))


def test_v6_no_key_without_reconfigure_accept(tmp_path: Path) -> None:
    engine, reply = v6_lab(tmp_path, accept=False)
    assert not reply.has(11) and not reply.has(20)
    (lease,) = run_inline(engine.env.store.leases(LeaseKind.NA))
    assert not lease.info


# --- DHCPv4 ------------------------------------------------------------------------------------
def v4_ack(tmp_path: Path, capable: bytes | None) -> tuple[Any, Message4]:
    conf = config(tmp_path)
    host = HostInfo.build({"eth0": (ip4_int("10.75.0.1"),)})
    engine = build_engine4(conf, MemoryStore(), host, Stats(), sources=build_sources(conf))
    direct = Meta4(0, 68, BROADCAST, ip4_int("10.75.0.1"), 2, "eth0")
    extra = {145: capable} if capable is not None else {}
    offer = parse(
        run_inline(
            engine.process(encode(Message4(xid=1, chaddr=MAC, options={53: b"\x01", **extra})), direct, NOW)
        ).data
        or b""
    )
    assert 90 not in offer.options  # the nonce goes with the ACK only
    req = {
        53: b"\x03",
        50: offer.yiaddr.to_bytes(4, "big"),
        54: ip4_int("10.75.0.1").to_bytes(4, "big"),
        **extra,
    }
    ack = parse(
        run_inline(engine.process(encode(Message4(xid=2, chaddr=MAC, options=req)), direct, NOW)).data or b""
    )
    assert ack.msg_type == 5
    return engine, ack


def test_v4_ack_gives_the_nonce_to_a_forcerenew_capable_client(tmp_path: Path) -> None:
    engine, ack = v4_ack(tmp_path, capable=b"\x01")  # option 145: HMAC-MD5
    protocol, algorithm, rdm, replay, kind, nonce = auth_fields(ack.options[90])
    assert (protocol, algorithm, rdm, kind, len(nonce), replay) == (3, 1, 0, 1, 16, int(NOW * 1000))
    assert nonce == hmac.new(SECRET, b"\x04\x01" + MAC, hashlib.sha256).digest()[:16]  # htype + MAC
    (lease,) = run_inline(engine.env.store.leases(LeaseKind.V4))
    assert lease.info == {"reconfigure": True, "forcerenew-xid": 2}
    data = forcerenew(engine.env, lease, NOW + 60)
    msg = parse(data)
    assert msg.msg_type == 9 and msg.chaddr[:6] == MAC and msg.ciaddr == ack.yiaddr
    # the xid of the REQUEST that bound the lease: dhcpcd drops a FORCERENEW with any other xid
    assert msg.xid == ack.xid == 2
    assert msg.options[54] == ip4_int("10.75.0.1").to_bytes(4, "big")
    protocol, algorithm, rdm, replay, kind, digest = auth_fields(msg.options[90])
    assert (protocol, algorithm, rdm, kind) == (3, 1, 0, 2)
    assert msg.hops == 0 and msg.giaddr == 0  # RFC 3118 §5: the MAC covers them as zero
    zeroed = data.replace(digest, bytes(16))
    assert hmac.new(nonce, zeroed, hashlib.md5).digest() == digest  # RFC 6704 §3.2.2


@pytest.mark.parametrize("capable", [None, b"\x02"])  # not capable, or not of HMAC-MD5
def test_v4_no_nonce_for_other_clients(tmp_path: Path, capable: bytes | None) -> None:
    engine, ack = v4_ack(tmp_path, capable)
    assert 90 not in ack.options
    (lease,) = run_inline(engine.env.store.leases(LeaseKind.V4))
    assert not lease.info


def test_a_short_or_missing_secret_is_refused(tmp_path: Path) -> None:
    conf = config(tmp_path)
    (tmp_path / "reconfigure.key").write_bytes(b"short")
    with pytest.raises(AssemblyError, match="fewer than 16 bytes"):
        build_engine4(conf, MemoryStore(), HostInfo.build({}), Stats(), sources=build_sources(conf))
    (tmp_path / "reconfigure.key").unlink()
    with pytest.raises(AssemblyError, match="reconfigure-key-file"):
        build_engine4(conf, MemoryStore(), HostInfo.build({}), Stats(), sources=build_sources(conf))


# --- a relayed DHCPv6 client: its lease keeps the relay chain ---------------------------------
def relayed_lab(tmp_path: Path, accept: bool, **extra: Any) -> Any:
    """A SOLICIT with Rapid Commit relayed by fd75::1 (Interface-ID "port7") through a second
    relay at 2001:db8::9 with an RFC 8357 Relay Source Port; the lease record of its IA_NA."""
    conf = config(tmp_path, **extra)
    engine = build_engine6(conf, MemoryStore(), HostInfo6({}), Stats(), build_sources(conf))
    opts: list[Any] = [ClientId(Duid(DUID)), IANA(1), ElapsedTime(0), RapidCommit()]
    if accept:
        opts.append(RawOption(20, b""))
    inner = RelayMessage6(
        12,
        0,
        ipaddress.IPv6Address("fd75::1"),
        ipaddress.IPv6Address("fe80::75:1"),
        [RawOption(18, b"port7"), RelayMsg(Message6(1, 7, opts))],
    )
    outer = RelayMessage6(
        12,
        1,
        ipaddress.IPv6Address("::"),
        ipaddress.IPv6Address("fd75::1"),
        [RawOption(135, b"\x00\x00"), RelayMsg(inner)],
    )
    meta = Meta6("2001:db8::9", 10547, ipaddress.IPv6Address("2001:db8::5").packed, 3, "eth1")
    out = run_inline(engine.process(encode6(outer), meta, NOW))
    assert out.data is not None and out.data[0] == 13
    (lease,) = run_inline(engine.env.store.leases(LeaseKind.NA))
    return engine, lease


def test_a_relayed_client_that_accepts_reconfigure_keeps_its_relay_chain(tmp_path: Path) -> None:
    engine, lease = relayed_lab(tmp_path, accept=True)
    via = relayed(lease)
    assert via is not None and (via.peer, via.port, via.scope) == ("2001:db8::9", 10547, 0)
    layers = parse_chain(via.chain)
    assert [str(layer.peer_address) for layer in layers] == ["fd75::1", "fe80::75:1"]
    assert layers[1].raw(18) == b"port7" and layers[0].has(135)
    # the RECONFIGURE in RELAY-REPLs along that chain, the signed message unchanged inside
    message = reconfigure(engine.env, DUID, NOW + 60)
    repl = parse6(wrap(message, via.chain))
    assert isinstance(repl, RelayMessage6) and repl.msg_type == 13
    inner = repl.message
    assert isinstance(inner, RelayMessage6) and inner.raw(18) == b"port7"
    assert isinstance(inner.message, Message6) and encode6(inner.message) == message


def test_no_relay_chain_kept_when_nothing_uses_it(tmp_path: Path) -> None:
    _, lease = relayed_lab(tmp_path, accept=False)
    assert relayed(lease) is None and not lease.info


def test_the_relay_chain_is_kept_for_leasequery(tmp_path: Path) -> None:
    _, lease = relayed_lab(tmp_path, accept=False, server6={"leasequery-requesters": ["2001:db8::2"]})
    via = relayed(lease)
    assert via is not None and via.port == 10547 and set(lease.info or {}) == {"relayed"}
