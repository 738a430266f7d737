"""The engine's value types: leases, answers from sources, and effects for the edges to carry out.

Addresses are ints (IPv4 or IPv6 by ``kind``) so pool arithmetic and comparisons stay cheap on the
hot path; text forms are made only for people (logs, API, CLI).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from typing import Any, Final


class LeaseKind(IntEnum):
    """What a binding holds: an IPv4 address, an IPv6 address (IA_NA) or a delegated prefix (IA_PD)."""

    V4 = 4
    NA = 6
    PD = 7


class LeaseState(IntEnum):
    OFFERED = 0  # held for a client between OFFER/ADVERTISE and REQUEST; never written to disk
    BOUND = 1
    RELEASED = 2
    DECLINED = 3  # quarantined until ``expires``
    EXPIRED = 4


ACTIVE_STATES: Final = frozenset({LeaseState.OFFERED, LeaseState.BOUND, LeaseState.DECLINED})


@dataclass(slots=True, init=False)
class Lease:
    """One binding of an address (or prefix) to a client.

    ``client`` is the client key: for v4 the client identifier (option 61) or htype+chaddr; for v6
    the DUID + IA type + IAID. ``relay``, ``circuit_id`` and ``remote_id`` record where the client
    was seen (giaddr / relay link-address, option 82 or v6 interface-id / remote-id) and ``source``
    which source answered, for operators, DNS and the looking glass. ``info`` holds anything else
    (JSON-friendly), e.g. what a bridge answer asked to keep.
    """

    address: int
    client: bytes
    state: LeaseState
    starts: float
    expires: float
    kind: LeaseKind = LeaseKind.V4
    prefix_len: int = 32
    hwaddr: bytes = b""
    hostname: str = ""
    subnet: str = ""
    source: str = ""
    relay: str = ""
    circuit_id: bytes = b""
    remote_id: bytes = b""
    info: dict[str, Any] | None = None

    # written out (not the dataclass's generated one) so mypyc compiles it: building a lease
    # (every allocation, every row a restart loads) costs a native call, not an interpreted one
    def __init__(
        self,
        address: int,
        client: bytes,
        state: LeaseState,
        starts: float,
        expires: float,
        kind: LeaseKind = LeaseKind.V4,
        prefix_len: int = 32,
        hwaddr: bytes = b"",
        hostname: str = "",
        subnet: str = "",
        source: str = "",
        relay: str = "",
        circuit_id: bytes = b"",
        remote_id: bytes = b"",
        info: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.client = client
        self.state = state
        self.starts = starts
        self.expires = expires
        self.kind = kind
        self.prefix_len = prefix_len
        self.hwaddr = hwaddr
        self.hostname = hostname
        self.subnet = subnet
        self.source = source
        self.relay = relay
        self.circuit_id = circuit_id
        self.remote_id = remote_id
        self.info = info

    def is_free_for(self, client: bytes, now: float) -> bool:
        """Whether ``client`` may take this address now (it is its own, or nobody's any more)."""
        if self.client == client and self.state != LeaseState.DECLINED:
            return True
        return self.state in (LeaseState.RELEASED, LeaseState.EXPIRED) or self.expires <= now

    @property
    def address_text(self) -> str:
        if self.kind == LeaseKind.V4:
            return str(ipaddress.IPv4Address(self.address))
        return str(ipaddress.IPv6Address(self.address))

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view for the CLI, the API and logs."""
        addr = self.address_text
        if self.kind == LeaseKind.PD:
            addr = f"{addr}/{self.prefix_len}"
        return {
            "kind": self.kind.name.lower(),
            "address": addr,
            "client": self.client.hex(":"),
            "hwaddr": self.hwaddr.hex(":"),
            "state": self.state.name.lower(),
            "starts": self.starts,
            "expires": self.expires,
            "hostname": self.hostname,
            "subnet": self.subnet,
            "source": self.source,
            "relay": self.relay,
            "circuit_id": self.circuit_id.hex(":"),
            "remote_id": self.remote_id.hex(":"),
            "info": dict(self.info) if self.info else {},
        }


class Action(Enum):
    ASSIGN = "assign"
    NONE = "none"  # no answer: ask the next source
    IGNORE = "ignore"  # drop the request silently
    DENY = "deny"  # NAK / NoAddrsAvail


@dataclass(frozen=True, slots=True)
class Answer:
    """What a source says about one request.

    ``ASSIGN`` with ``address`` set is a fixed assignment; with ``dynamic`` the engine allocates from
    the selected subnet's pools through the lease store. ``options`` are encoded option values
    (code -> bytes) that override the subnet's; ``lease_time`` overrides the subnet's.
    """

    action: Action
    source: str = ""
    address: int | None = None
    dynamic: bool = False
    options: dict[int, bytes] = field(default_factory=dict)
    lease_time: int | None = None
    hostname: str | None = None
    next_server: int | None = None
    boot_file: bytes | None = None
    server_name: bytes | None = None
    prefixes: tuple[tuple[int, int], ...] = ()  # v6: (prefix, length) fixed delegations
    renewal_time: int | None = None  # T1 override
    rebinding_time: int | None = None  # T2 override
    message: str | None = None  # for DENY: the NAK's option 56 / the v6 status message
    addresses6: tuple[int, ...] = ()  # v6: fixed IA_NA addresses
    preferred_lifetime: int | None = None  # v6: of the answer's addresses / prefixes
    valid_lifetime: int | None = None
    known: bool = True  # the source knows this client (a reservation, a bridge); pools: False


NO_ANSWER = Answer(Action.NONE)
IGNORE = Answer(Action.IGNORE)
DENY = Answer(Action.DENY)


@dataclass(slots=True, init=False)
class LeaseEvent:
    """Effect: a lease changed in the store (for DNS, the bridge's on_commit hook, the looking glass).
    Read-only by convention: not a frozen dataclass, whose ``__init__`` stays interpreted under
    mypyc and costs several times a compiled one (one event per granted lease)."""

    event: str  # "commit" | "release" | "decline" | "expire"
    lease: Lease
    query: Any  # the transaction that caused it (None for expiries and admin actions)

    def __init__(self, event: str, lease: Lease, query: Any = None) -> None:
        self.event = event
        self.lease = lease
        self.query = query
