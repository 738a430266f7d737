"""Everything the v6 handlers share: links, sources, the store, host info, the server DUID, settings.

One ``Env6`` is built per loaded config (``dhcpbridge.assemble.v6``); a reload builds a new one and
the runtime swaps the engine (the lease store, the sources and the counters carry over). The
server identifier is encoded once here, with its option header, for every reply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dhcpbridge.engine.chain import SourceChain
from dhcpbridge.engine.classes import ClientClass
from dhcpbridge.engine.limits import DeclineLimiter, LeaseCaps
from dhcpbridge.engine.ports import LeaseStore
from dhcpbridge.engine.records import HostInfo6
from dhcpbridge.engine.stats import Stats
from dhcpbridge.engine.v6.subnet import OptionSet, Subnet6Index
from dhcpbridge.wire.v6.options import Encoded


@dataclass(slots=True)
class Env6:
    subnets: Subnet6Index
    sources: SourceChain
    store: LeaseStore
    host: HostInfo6
    stats: Stats
    server_duid: bytes
    options: OptionSet = field(default_factory=dict)  # [server6] options (when no subnet applies)
    offer_hold: int = 30
    decline_probation: int = 86400
    client_port: int = 546
    relay_port: int = 547
    reserved: frozenset[int] = frozenset()
    # --- hardening (issue 9): IA caps and DECLINE limits ----------------------------------------
    max_ia_na: int = 8  # IA_NA (and IA_TA) options one message may carry; more: dropped, counted
    max_ia_pd: int = 8  # IA_PD options one message may carry
    max_leases_per_duid: int = 16  # addresses + prefixes held by one DUID (all its IAs together)
    declines: DeclineLimiter = field(default_factory=DeclineLimiter)
    caps: LeaseCaps = field(default_factory=LeaseCaps)  # dynamic leases per relay circuit / MAC prefix
    # --- bridge-only mode (issue 13): no links configured; the answer's addresses make the link
    answer_links: bool = False
    check_link: bool = True  # the answer's addresses must be on the request's link (check-subnet)
    unkept_source: str | None = None  # store = "none": see Env4.unkept_source
    multicast: bool = True  # [server6] multicast = false: direct multicast messages are dropped
    link_lease_time: int = 7200  # valid lifetime when the answer gives none
    classes: tuple[ClientClass, ...] = ()  # ClientClass of [[class]] (issue 13 §3), in file order
    class_lifetimes: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (valid, preferred)
    leasequery_requesters: tuple[tuple[int, int], ...] = ()  # (network, mask); empty: RFC 5007 off
    reconfigure_secret: bytes = b""  # [server] reconfigure-key-file: Reconfigure keys (RFC 8415 §20.4)
    server_id: Encoded = field(init=False)

    def __post_init__(self) -> None:
        self.server_id = Encoded(2, self.server_duid)
