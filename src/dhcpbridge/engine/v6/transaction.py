"""The DHCPv6 transaction: one client message (unwrapped from its relays), what the handlers learnt
about it, and the reply they built (dhcpkit's "transaction bundle")."""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
from typing import Any, Final

from dhcpbridge.engine.core import Dest, Transaction
from dhcpbridge.engine.model import Lease, LeaseKind
from dhcpbridge.engine.records import HostInfo6, Meta6
from dhcpbridge.engine.v6.subnet import Subnet6
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import Message6, RelayMessage6
from dhcpbridge.wire.v6.options import IANA, IAPD, ClientFqdn, MessageType6, Option6

_U32 = struct.Struct("!I")
_U16 = struct.Struct("!H")
_IAADDR_HINT = struct.Struct("!16s")

#: ``SOLICIT``-style names (the bridge contract spells INFORMATION-REQUEST with a hyphen); Final:
#: compiled, a C static, not a lookup in the module's dict per message
MESSAGE_NAMES6: Final[dict[int, str]] = {int(t): t.name.replace("_", "-") for t in MessageType6}


def message_name6(code: int) -> str:
    return MESSAGE_NAMES6.get(code) or f"TYPE-{code}"


def ip6_str(addr: int) -> str:
    return str(ipaddress.IPv6Address(addr))


@dataclass(slots=True, repr=False, eq=False, init=False)
class IaRequest:
    """One IA_NA / IA_PD of the request, as the engine uses it: its store key (IAID + DUID) and
    the addresses / prefixes the client named (``(address, 128)`` or ``(prefix, length)``; a
    prefix of 0 is a length hint)."""

    kind: LeaseKind
    code: int
    iaid: int
    key: bytes
    hints: list[tuple[int, int]]

    # written out (not the dataclass's generated one) so mypyc compiles it: one per IA per message
    def __init__(
        self, kind: LeaseKind, code: int, iaid: int, key: bytes, hints: list[tuple[int, int]]
    ) -> None:
        self.kind = kind
        self.code = code
        self.iaid = iaid
        self.key = key
        self.hints = hints

    def __repr__(self) -> str:
        return f"IaRequest({self.kind.name}, iaid={self.iaid}, hints={self.hints})"


class Transaction6(Transaction):
    """Mutable bundle passed through the v6 pipeline.

    ``request`` is the client's message, ``relays`` the RELAY-FORW layers around it (outermost
    first). Handlers fill in who the client is (``duid``, ``ias``; ``ia_na`` / ``ia_pd`` decode
    the IA options on demand), where it is
    (``subnet``, ``link_address``, ``interface_id`` (= ``circuit_id``), ``remote_id``), what the sources say
    (``answer``), then the reply: ``reply_type``, ``reply_ias`` (encoded IA options in request
    order), ``status`` (a top-level Status Code) and finally ``reply`` (a ``Message6`` that post
    handlers - including user handlers - may still change). Attributes of the ``Query`` protocol
    are filled in or computed on demand so sources can read them directly.
    """

    __slots__ = (
        "_mac",
        "client_option",
        "duid",
        "duid_held",
        "duid_room",
        "host",
        "ia_raw",
        "ias",
        "leases",
        "link_address",
        "meta",
        "oro",
        "rapid_commit",
        "relays",
        "remote_enterprise",
        "reply",
        "reply_ias",
        "request",
        "server_id",
        "status",
        "subnet",
        "subscriber_id",
        "unicast",
    )

    def __init__(
        self, request: Message6, relays: list[RelayMessage6], meta: Meta6, now: float, io_ok: bool = False
    ) -> None:
        super().__init__(6, request.msg_type, now, io_ok)
        self.request = request
        self.relays = relays
        self.meta = meta
        self.duid = b""
        self.client_option: Option6 | None = None
        self.server_id: bytes | None = None
        self.ias: list[IaRequest] = []
        self.ia_raw: list[tuple[int, bytes]] = []  # (option code, body) of each IA_NA / IA_PD / IA_TA
        self._mac: bytes | None = None
        self.oro = b""
        self.rapid_commit = False
        self.remote_enterprise: int | None = None
        self.subscriber_id = b""
        self.link_address = 0
        self.unicast = not relays and meta.dst[:1] != b"\xff"
        self.subnet: Subnet6 | None = None
        self.reply_ias: list[Option6] = []
        self.status: tuple[int, str] | None = None
        self.reply: Message6 | None = None
        self.leases: list[Lease] = []
        self.duid_held = -1  # leases the DUID holds (max-leases-per-duid), -1 until counted
        self.duid_room = False  # the message cannot reach that cap: no per-IA check
        self.host: HostInfo6 | None = None  # the host's view, set when sources are awaited (``server_ip``)

    def log_fields(self, dest: Dest | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"duid": self.duid.hex(":"), "type": message_name6(self.msg_type_code)}
        if self.relays:
            fields["relays"] = len(self.relays)
        if self.reply is not None:
            fields["reply"] = message_name6(self.reply_type)
            fields["leases"] = [lease.as_dict()["address"] for lease in self.leases]
            if dest is not None:
                fields["dest"] = f"[{dest[0]}]:{dest[1]}"
        if self.status is not None:
            fields["status"] = self.status[1]
        if self.state:
            fields["state"] = self.state
        return fields

    # --- Query protocol (derived fields, computed only when a source asks) ------------------
    @property
    def msg_type(self) -> str:
        return message_name6(self.msg_type_code)

    @property
    def client_id(self) -> bytes:
        """The client's DUID (v6 has no other client identifier)."""
        return self.duid

    @property
    def interface_id(self) -> bytes:
        """The Interface-ID of the relay closest to the client: the v6 analogue of a v4
        circuit-id, kept as ``circuit_id``."""
        return self.circuit_id

    @interface_id.setter
    def interface_id(self, value: bytes) -> None:
        self.circuit_id = value

    @property
    def ia_na(self) -> list[IANA]:
        """The IA_NA options, decoded (``FormError`` if one is malformed deeper than the engine looks)."""
        return [IANA.from_wire(body) for code, body in self.ia_raw if code == 3]

    @property
    def ia_pd(self) -> list[IAPD]:
        """The IA_PD options, decoded."""
        return [IAPD.from_wire(body) for code, body in self.ia_raw if code == 25]

    @property
    def client_mac(self) -> bytes:
        """RFC 6939 Client Link-Layer Address from the first relay, else the DUID's (LL/LLT)."""
        mac = self._mac
        if mac is None:
            mac = self._mac = self._find_mac()
        return mac

    def _find_mac(self) -> bytes:
        if self.relays:
            raw = self.relays[-1].raw(79)
            if raw is not None and len(raw) > 2:
                return raw[2:]
        duid = self.duid
        if len(duid) > 4:
            kind = duid[0] << 8 | duid[1]  # the DUID type (compiled: no struct call, no tuple)
            if kind == 3:
                return duid[4:]
            if kind == 1 and len(duid) > 8:
                return duid[8:]
        return b""

    @property
    def fqdn(self) -> str:
        """The Client FQDN option's name (RFC 4704), "" when absent or malformed."""
        raw = self.request.raw(39)
        if not raw:
            return ""
        try:
            return ClientFqdn.from_wire(raw).name
        except FormError:
            return ""

    @property
    def hostname(self) -> str:
        return self.fqdn.rstrip(".")

    @property
    def relay_ip(self) -> str:
        """The link-address that chose the subnet (relayed requests), else ""."""
        return ip6_str(self.link_address) if self.relays and self.link_address else ""

    @property
    def client_ip(self) -> str:
        """The client's own (usually link-local) address: the first relay's peer, or the sender."""
        return str(self.relays[-1].peer_address) if self.relays else self.meta.src

    @property
    def requested_ip(self) -> int:
        """The first address the client asked for in an IA_NA (0 when none)."""
        for ia in self.ias:
            if ia.code == 3 and ia.hints:
                return ia.hints[0][0]
        return 0

    @property
    def requested_options(self) -> list[int]:
        oro = self.oro
        return [c for (c,) in _U16.iter_unpack(oro[: len(oro) & ~1])]

    @property
    def interface(self) -> str:
        return self.meta.ifname

    @property
    def server_ip(self) -> str:
        """Our address the request came to (a relay's unicast), else our first global address on
        the receiving interface (a client's multicast; known once the sources were awaited);
        "" when there is none."""
        dst = self.meta.dst
        if dst[:1] != b"\xff" and len(dst) == 16:
            return ip6_str(int.from_bytes(dst, "big"))
        host = self.host
        addrs = host.addresses.get(self.meta.ifname, ()) if host is not None else ()
        return ip6_str(addrs[0]) if addrs else ""

    @property
    def vendor_class_enterprise(self) -> int | None:
        raw = self.request.raw(16)
        return _U32.unpack_from(raw)[0] if raw is not None and len(raw) >= 4 else None
