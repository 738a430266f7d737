"""``[dns]``: dynamic DNS updates (RFC 2136 with TSIG) that follow the leases.

A ``[[dns.zone]]`` is either a forward zone (names of hosts) or a reverse zone (its name ends in
``in-addr.arpa.`` or ``ip6.arpa.``); each names the primary server to send updates to and the TSIG
key to sign them with (a BIND ``key "name" { algorithm ...; secret "..."; };`` file, as
``tsig-keygen`` writes it). Without a ``[dns]`` table nothing is sent.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from dhcpbridge.config.values import Strict

REVERSE_SUFFIXES = ("in-addr.arpa.", "ip6.arpa.")


def _absolute(name: str) -> str:
    name = name.strip().lower()
    if not name or name == ".":
        raise ValueError("a zone or domain name must not be empty")
    if ".." in name or len(name.rstrip(".")) > 253:
        raise ValueError(f"{name!r} is not a valid domain name")
    return name if name.endswith(".") else name + "."


class DnsZoneConfig(Strict):
    """``[[dns.zone]]``: one zone we update, where its primary listens and how to sign."""

    name: str
    server: ipaddress.IPv4Address | ipaddress.IPv6Address
    port: Annotated[int, Field(ge=1, le=65535)] = 53
    key_file: str | None = None  # relative to the config file's directory
    key_name: str | None = None  # which key of the file (default: its only / first key)
    ttl: Annotated[int, Field(ge=0, le=604800)] | None = None  # default: [dns] ttl
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _absolute(value)

    @property
    def reverse(self) -> bool:
        return self.name.endswith(REVERSE_SUFFIXES)

    @model_validator(mode="after")
    def _networks_forward_only(self) -> DnsZoneConfig:
        if self.reverse and self.networks:
            raise ValueError(
                "networks = [...] picks the forward zone of a lease; a reverse zone is found by name"
            )
        return self


class DnsConfig(Strict):
    """``[dns]``: which names leases get and how updates are queued, retried and checked.

    ``conflict-resolution``: ``check-with-dhcid`` (RFC 4703 §5: a name is only taken over from the
    client that holds it, proven by its DHCID record) or ``no-check-with-dhcid`` (our update wins).
    ``name-clash``: what to do when a name is held by another client: ``skip`` (no forward records,
    counted as a conflict) or ``suffix-address`` (retry once as ``name-<address>``).
    ``override-client-update``: also write the A/AAAA record when the client said (flag S = 0)
    that it updates its forward record itself. ``generated-prefix``: a name for clients that
    give none (``prefix-10-0-0-5``); unset, they get no DNS records.
    """

    enabled: bool = True
    zone: list[DnsZoneConfig] = Field(default_factory=list)
    ttl: Annotated[int, Field(ge=0, le=604800)] = 300
    queue: str | None = None  # SQLite file of pending updates; default: next to the lease store
    conflict_resolution: Literal["check-with-dhcid", "no-check-with-dhcid"] = "check-with-dhcid"
    name_clash: Literal["skip", "suffix-address"] = "skip"
    override_client_update: bool = False
    generated_prefix: str | None = None
    transport: Literal["tcp", "udp"] = "tcp"
    timeout: Annotated[float, Field(gt=0, le=60)] = 3.0
    # updates in flight at once (each for another name and address: those of one keep their order)
    concurrency: Annotated[int, Field(ge=1, le=256)] = 16
    # jobs of one zone pair sent in one UPDATE message per step (1: one message per name)
    batch_size: Annotated[int, Field(ge=1, le=200)] = 50
    retry_min: Annotated[float, Field(gt=0, le=3600)] = 1.0
    retry_max: Annotated[float, Field(gt=0, le=86400)] = 60.0
    give_up_after: Annotated[float, Field(gt=0)] = 86400.0

    @model_validator(mode="after")
    def _zones(self) -> DnsConfig:
        names = [z.name for z in self.zone]
        if len(set(names)) != len(names):
            raise ValueError("each [[dns.zone]] name may appear once")
        if self.enabled and self.zone and not any(not z.reverse for z in self.zone):
            raise ValueError("[dns] needs at least one forward zone (a [[dns.zone]] not under .arpa)")
        if self.retry_min > self.retry_max:
            raise ValueError("retry-min must not exceed retry-max")
        return self
