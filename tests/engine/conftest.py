"""Fixtures for the engine tests: a DHCPv4 engine built from a config dict, driven with a fixed clock.

``v4(config)`` returns a ``V4`` harness: the engine from ``assemble.build_engine4`` over a
``MemoryStore``, a ``HostInfo`` with ``eth0`` = 10.67.0.1 and ``eth1`` = 10.68.0.1, and helpers
that build client messages and receive metadata the way the IO layer reports them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from dhcpbridge.assemble import build_engine4
from dhcpbridge.config.loader import from_dict
from dhcpbridge.engine.inline import run_inline
from dhcpbridge.engine.model import Lease, LeaseKind
from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.records import HostInfo, Meta4
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.engine import Engine4, Outcome4
from dhcpbridge.engine.v4.transaction import BROADCAST
from dhcpbridge.leases.embedded.memory import MemoryStore
from dhcpbridge.wire.v4.message import FLAG_BROADCAST, Message4, encode, ip4_int, parse

NOW = 1_700_000_000.0
SERVER = ip4_int("10.67.0.1")
SERVER1 = ip4_int("10.68.0.1")

BASE: dict[str, Any] = {
    "server": {"authoritative": False},
    "leases": {"store": "memory://"},
    "subnet4": [
        {
            "subnet": "10.67.0.0/24",
            "pools": ["10.67.0.100-10.67.0.199"],
            "interface": "eth0",
            "lease-time": 3600,
            "min-lease-time": 600,
            "max-lease-time": 7200,
            "options": {
                "routers": ["10.67.0.1"],
                "domain-name-servers": ["10.67.0.1", "10.67.0.2"],
                "domain-name": "lab.example",
                "ntp-servers": ["10.67.0.5"],
                "interface-mtu": 1500,
            },
        },
        {
            "subnet": "10.68.0.0/16",
            "pools": ["10.68.1.0-10.68.1.255"],
            "relay-addresses": ["10.68.0.2"],
            "lease-time": 1800,
            "options": {"routers": ["10.68.0.1"]},
        },
    ],
}


def ip(text: str) -> int:
    return ip4_int(text)


def u32(value: bytes) -> int:
    return int.from_bytes(value, "big")


class V4:
    """One engine over one store, plus client-side helpers. ``now`` is fixed unless a test moves it."""

    def __init__(
        self,
        config: dict[str, Any],
        *,
        addresses: dict[str, tuple[int, ...]] | None = None,
        served: frozenset[str] = frozenset(),
        extra: Sequence[Handler[Any]] = (),
    ) -> None:
        self.config = from_dict(config)
        self.store = MemoryStore()
        self.stats = Stats()
        if addresses is None:
            addresses = {"eth0": (SERVER,), "eth1": (SERVER1,), "lo": (ip("127.0.0.1"),)}
        self.host = HostInfo.build(addresses, served)
        self.engine: Engine4 = build_engine4(self.config, self.store, self.host, self.stats, extra)
        self.now = NOW
        self._xid = 0x1000

    # --- metadata ------------------------------------------------------------------------------
    @staticmethod
    def direct(ifname: str = "eth0", local: int = SERVER) -> Meta4:
        """A broadcast from a client without an address on ``ifname``."""
        return Meta4(0, 68, BROADCAST, local, 2, ifname)

    @staticmethod
    def relayed(giaddr: str, port: int = 67, ifname: str = "eth1", local: int = SERVER1) -> Meta4:
        """A relayed packet: unicast from the relay agent to our address."""
        return Meta4(ip(giaddr), port, local, local, 3, ifname)

    @staticmethod
    def unicast(src: str, ifname: str = "eth0", local: int = SERVER) -> Meta4:
        """A client with an address talking to us directly (RENEWING, INFORM, RELEASE)."""
        return Meta4(ip(src), 68, local, local, 2, ifname)

    # --- messages --------------------------------------------------------------------------------
    def msg(
        self,
        kind: int,
        mac: str = "02:67:00:00:00:02",
        *,
        xid: int | None = None,
        ciaddr: str = "0.0.0.0",
        giaddr: str = "0.0.0.0",
        broadcast: bool = False,
        options: dict[int, bytes] | None = None,
        client_id: bytes | None = None,
        requested: str | None = None,
        server_id: str | None = None,
        prl: bytes | None = None,
        htype: int = 1,
    ) -> Message4:
        if xid is None:
            self._xid += 1
            xid = self._xid
        mac_bytes = bytes.fromhex(mac.replace(":", ""))
        opts: dict[int, bytes] = {53: bytes((kind,))}
        if client_id is not None:
            opts[61] = client_id
        if requested is not None:
            opts[50] = ip(requested).to_bytes(4, "big")
        if server_id is not None:
            opts[54] = ip(server_id).to_bytes(4, "big")
        if prl is not None:
            opts[55] = prl
        opts.update(options or {})
        return Message4(
            xid=xid,
            htype=htype,
            hlen=len(mac_bytes),
            flags=FLAG_BROADCAST if broadcast else 0,
            ciaddr=ip(ciaddr),
            giaddr=ip(giaddr),
            hops=1 if giaddr != "0.0.0.0" else 0,
            chaddr=mac_bytes,
            options=opts,
        )

    def send(self, msg: Message4 | bytes, meta: Meta4 | None = None, now: float | None = None) -> Outcome4:
        data = msg if isinstance(msg, bytes) else encode(msg)
        if meta is None:
            giaddr = msg.giaddr if isinstance(msg, Message4) else 0
            meta = self.relayed(_text(giaddr)) if giaddr else self.direct()
        return run_inline(self.engine.process(data, meta, self.now if now is None else now))

    def reply(self, outcome: Outcome4) -> Message4:
        assert outcome.data is not None, f"no reply: {outcome.drop_reason} {outcome.drop_detail}"
        return parse(outcome.data)

    # --- whole exchanges -----------------------------------------------------------------------------
    def discover(self, mac: str = "02:67:00:00:00:02", meta: Meta4 | None = None, **kw: Any) -> Message4:
        return self.reply(self.send(self.msg(1, mac, **kw), meta))

    def dora(self, mac: str = "02:67:00:00:00:02", meta: Meta4 | None = None, **kw: Any) -> Message4:
        """DISCOVER, then REQUEST (SELECTING) for the offer; returns the ACK."""
        giaddr = kw.get("giaddr", "0.0.0.0")
        offer = self.discover(mac, meta, **kw)
        assert offer.msg_type == 2
        kw.pop("requested", None)
        req = self.msg(
            3,
            mac,
            xid=offer.xid,
            requested=_text(offer.yiaddr),
            server_id=_text(u32(offer.options[54])),
            **kw,
        )
        ack = self.reply(
            self.send(
                req, meta if meta is not None else (self.relayed(giaddr) if giaddr != "0.0.0.0" else None)
            )
        )
        assert ack.msg_type == 5, ack
        return ack

    def lease(self, address: str) -> Lease | None:
        return run_inline(self.store.get(LeaseKind.V4, ip(address)))


def _text(addr: int) -> str:
    return f"{addr >> 24}.{(addr >> 16) & 255}.{(addr >> 8) & 255}.{addr & 255}"


@pytest.fixture
def v4() -> Callable[..., V4]:
    """``v4(config=None, **kw)``: a fresh harness; ``config`` defaults to a deep copy of ``BASE``."""

    def make(config: dict[str, Any] | None = None, **kw: Any) -> V4:
        return V4(copy.deepcopy(BASE) if config is None else config, **kw)

    return make


@pytest.fixture
def base_config() -> dict[str, Any]:
    """A deep copy of the default two-subnet config, to edit before calling ``v4(config)``."""
    return copy.deepcopy(BASE)
