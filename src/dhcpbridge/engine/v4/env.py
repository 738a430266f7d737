"""Everything the v4 handlers share: subnets, sources, the store, host info, settings, counters.

One ``Env4`` is built per loaded config; a reload builds a new one and the engine swaps it in
(the lease store and counters carry over).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.classes import ClientClass
from dhcpbridge.engine.limits import DeclineLimiter, LeaseCaps
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.engine.records import HostInfo
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v4.subnet import SubnetIndex


@dataclass(slots=True)
class Env4:
    subnets: SubnetIndex
    sources: SourceChain
    store: LeaseStore
    host: HostInfo
    stats: Stats
    server_id: int | None = None
    server_ids: frozenset[int] = frozenset()  # every configured server id (for option 54 checks)
    offer_hold: int = 30
    decline_probation: int = 86400
    client_port: int = 68
    relay_port: int = 67
    reserved: frozenset[int] = frozenset()
    # --- hardening (issue 9): relay trust and DECLINE limits -----------------------------------
    declines: DeclineLimiter = field(default_factory=DeclineLimiter)
    trusted_relays: tuple[tuple[int, int], ...] = ()  # (network, mask); empty: any relay
    caps: LeaseCaps = field(default_factory=LeaseCaps)  # dynamic leases per relay circuit / MAC prefix
    # --- bridge-only mode (issue 13): no subnets; the answer says address, mask and options ----
    answer_links: bool = False  # a request on an unconfigured link still asks the sources
    check_link: bool = True  # the answer's address must be on the request's link (check-subnet)
    link_options: dict[int, bytes] = field(default_factory=dict)  # global options for such links
    link_lease_time: int = 3600  # lease time when the answer gives none
    authoritative: bool = False
    # store = "none": RELEASE/DECLINE become events for this source's on-commit hook ("": none
    # has one, they are dropped as release-not-kept / decline-not-kept); None: the store keeps leases
    unkept_source: str | None = None
    leasequery_requesters: tuple[tuple[int, int], ...] = ()  # (network, mask); empty: RFC 4388 off
    reconfigure_secret: bytes = b""  # [server] reconfigure-key-file: FORCERENEW nonces (RFC 6704)
    classes: tuple[ClientClass, ...] = ()  # ClientClass of [[class]] (issue 13 §3), in file order
    class_lease_times: dict[str, int] = field(default_factory=dict)  # class name -> its lease-time
    bootp: bool = False  # some subnet answers BOOTP clients (``bootp = true``)
