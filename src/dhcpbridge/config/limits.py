"""``[limits]``: what one sender, one relay or one flood can cost the server — datagram size caps,
packets waiting for the bridge, per-client and per-relay token buckets, the log rate limiter and
its queue. Every default is one that a real client or relay never notices."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from dhcpbridge.config.values import Strict


class LimitsConfig(Strict):
    """``[limits]``; see the module docstring and the README's "Limits" section."""

    # datagram size caps (bytes): longer datagrams are dropped unread and counted (``oversize``).
    # v4: a client's message fits one Ethernet frame (1472 bytes of UDP payload) and a relay adds
    # at most one 255-byte option 82, so 2048 leaves room; v6: relays nest (RFC 8415 allows 32
    # hops, each adding its header and options), so 4096. Parsing costs at most ~0.3-0.6 ms each.
    max_datagram4: Annotated[int, Field(ge=576, le=65535)] = 2048
    max_datagram6: Annotated[int, Field(ge=1280, le=65535)] = 4096
    # packets of one family waiting for IO (the HTTP bridge, an async store or handler); more are
    # dropped and counted (``overload``) instead of becoming unbounded tasks
    max_pending: Annotated[int, Field(ge=1, le=1_000_000)] = 4096
    # token buckets before the engine (0 = off): per client (v4 chaddr, v6 DUID, found inside relay
    # messages too) and per relay (v4 giaddr, v6 outermost link-address; direct traffic by interface)
    client_rate: Annotated[float, Field(ge=0)] = 2.0
    client_burst: Annotated[int, Field(ge=1)] = 16
    relay_rate: Annotated[float, Field(ge=0)] = 0.0
    relay_burst: Annotated[int, Field(ge=1)] = 1000
    # per relay circuit: giaddr + option 82 circuit-id (v4), relay link-address + Interface-ID (v6)
    circuit_rate: Annotated[float, Field(ge=0)] = 0.0
    circuit_burst: Annotated[int, Field(ge=1)] = 100
    max_buckets: Annotated[int, Field(ge=16)] = 65536  # per kind; the oldest bucket goes first
    # clients holding a dynamic lease, per relay circuit and per MAC prefix (0 = no cap): a
    # DISCOVER / SOLICIT for a new lease beyond the cap is dropped (``lease-cap-circuit`` /
    # ``lease-cap-mac-prefix``); clients that hold a lease renew as always
    leases_per_circuit: Annotated[int, Field(ge=0)] = 0
    leases_per_mac_prefix: Annotated[int, Field(ge=0)] = 0
    mac_prefix_length: Annotated[int, Field(ge=1, le=6)] = 3  # bytes: 3 = the OUI
    # lines about NAKs, lease events and bridge failures: at most a burst per kind and window at
    # info/warning, the rest counted and summed up; lines go through a bounded queue to a thread
    log_burst: Annotated[int, Field(ge=1)] = 10
    log_window: Annotated[float, Field(gt=0)] = 10.0
    log_queue: Annotated[int, Field(ge=16)] = 10_000
