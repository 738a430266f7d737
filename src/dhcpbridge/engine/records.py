"""What the IO layer hands the engine with each datagram (``Meta4``/``Meta6``) and the host's view
of its interfaces (``HostInfo``/``HostInfo6``): plain records, the only engine types ``io`` imports."""

from __future__ import annotations

from dataclasses import dataclass, field

from dhcpbridge.wire.v4.message import ip4_str


class Meta4:
    """What the IO layer knows about a received datagram (read-only by convention: a plain class
    because a frozen dataclass costs four times as much to create, once per packet)."""

    __slots__ = ("dst_ip", "ifindex", "ifname", "local_ip", "src_ip", "src_port")

    def __init__(
        self, src_ip: int, src_port: int, dst_ip: int, local_ip: int, ifindex: int, ifname: str
    ) -> None:
        self.src_ip = src_ip
        self.src_port = src_port
        self.dst_ip = dst_ip  # the packet's destination (255.255.255.255 for broadcasts)
        self.local_ip = local_ip  # our address on the receiving interface (IP_PKTINFO ipi_spec_dst)
        self.ifindex = ifindex
        self.ifname = ifname

    def __repr__(self) -> str:
        return (
            f"Meta4({ip4_str(self.src_ip)}:{self.src_port} -> {ip4_str(self.dst_ip)},"
            f" local {ip4_str(self.local_ip)}, {self.ifindex}, {self.ifname!r})"
        )

    def log_fields(self) -> dict[str, str]:
        return {"src": f"{ip4_str(self.src_ip)}:{self.src_port}", "interface": self.ifname}


@dataclass(frozen=True, slots=True)
class HostInfo:
    """The server host's view of its interfaces (refreshed by the runtime, read by handlers)."""

    addresses: dict[str, tuple[int, ...]]
    served: frozenset[str]  # interfaces whose broadcast traffic we answer; empty = all
    local: frozenset[int]  # every address of the host
    # interface -> its IPv4 networks (network, prefix length): the links a bridge-only server
    # judges an answer's address against (``check-subnet``)
    networks: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        addresses: dict[str, tuple[int, ...]],
        served: frozenset[str] = frozenset(),
        networks: dict[str, tuple[tuple[int, int], ...]] | None = None,
    ) -> HostInfo:
        local = frozenset(a for addrs in addresses.values() for a in addrs)
        return cls(addresses, served, local, networks or {})


class Meta6:
    """What the IO layer knows about a received datagram (read-only by convention: a plain class
    because a frozen dataclass costs four times as much to create, once per packet)."""

    __slots__ = ("dst", "ifindex", "ifname", "src", "src_port")

    def __init__(self, src: str, src_port: int, dst: bytes, ifindex: int, ifname: str) -> None:
        self.src = src  # the sender's address as text, no zone (a client's link-local, or a relay)
        self.src_port = src_port
        self.dst = dst  # the packet's destination (16 bytes; ff02::1:2 for a client's multicast)
        self.ifindex = ifindex
        self.ifname = ifname

    @property
    def multicast(self) -> bool:
        return self.dst[:1] == b"\xff"

    def log_fields(self) -> dict[str, str]:
        return {"src": f"[{self.src}]:{self.src_port}", "interface": self.ifname}

    def __repr__(self) -> str:
        return f"Meta6({self.src!r}, {self.src_port}, {self.dst.hex()}, {self.ifindex}, {self.ifname!r})"


@dataclass(frozen=True, slots=True)
class HostInfo6:
    """The server host's interfaces as DHCPv6 needs them: global addresses (for choosing a
    subnet by receiving interface), link-layer addresses (for a default server DUID), and the
    interfaces whose multicast traffic we answer (empty = all)."""

    addresses: dict[str, tuple[int, ...]]
    served: frozenset[str] = frozenset()
    macs: dict[str, bytes] = field(default_factory=dict)
    # interface -> its global IPv6 networks (network, prefix length), as ``HostInfo.networks``
    networks: dict[str, tuple[tuple[int, int], ...]] = field(default_factory=dict)
