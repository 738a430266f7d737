"""``[[class]]``: client classes in config (issue 13 §3). A class has a name and a match on what a
client says (vendor class, user class, client architecture, MAC prefix, relay agent ids, DUID
type, the relay, hostname) or boolean combinations of matches, and gives options, ``next-server``
and ``boot-file-name`` to the clients in it. A client may be in several classes (file order: the
first class that gives a value wins), lease times, and may restrict pools to its clients
(``pools = [{ range = "...", classes = ["..."] }]``, ``deny-unknown``: ``PoolConfig``)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Protocol

from pydantic import Field, field_validator, model_validator

from dhcpbridge.config.values import Option6Table, OptionTable, Pool6Text, PoolText, Strict

U16 = Annotated[int, Field(ge=0, le=0xFFFF)]


class MatchConfig(Strict):
    """Every key given must hold (AND); ``any`` / ``all`` / ``not`` combine nested matches."""

    vendor_class: str | None = None  # prefix of option 60 / the first item of v6 option 16
    vendor_class_regex: str | None = None
    user_class: str | None = None  # one of the client's user classes (77 / v6 15), exactly
    client_arch: list[U16] | None = None  # any of these (93 / v6 61): 0 BIOS, 7 x64 UEFI, 16 HTTP
    mac_prefix: str | None = None  # "02:67:00" (an OUI) or longer, any separator
    circuit_id: str | None = None  # option 82 ids, v6 interface-id / remote-id / subscriber-id:
    remote_id: str | None = None  # text, or hex written 0x...
    subscriber_id: str | None = None
    duid_type: U16 | None = None  # 1 LLT, 2 EN, 3 LL, 4 UUID (v4: inside an RFC 4361 client id)
    relay: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None  # giaddr / link-address
    hostname_regex: str | None = None
    any: list[MatchConfig] | None = None
    all: list[MatchConfig] | None = None
    not_: MatchConfig | None = Field(default=None, alias="not")

    @field_validator("vendor_class_regex", "hostname_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("mac_prefix")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is not None:
            digits = re.sub(r"[:.\-]", "", value)
            if not digits or len(digits) % 2 or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError(f"{value!r} is not a MAC prefix (hex octets)")
        return value

    @model_validator(mode="after")
    def _something(self) -> MatchConfig:
        if not any(getattr(self, name) is not None for name in type(self).model_fields):
            raise ValueError("an empty match (give at least one key)")
        return self


class ClassConfig(Strict):
    """``[[class]]``: name, match, and what its clients get."""

    name: Annotated[str, Field(min_length=1)]
    match: MatchConfig
    options: OptionTable = Field(default_factory=dict)  # DHCPv4, sent when the client asks
    options6: Option6Table = Field(default_factory=dict)  # DHCPv6 (e.g. bootfile-url)
    next_server: ipaddress.IPv4Address | None = None
    boot_file_name: str | None = None
    # what a class changes besides options: lease times (v4 lease-time, v6 lifetimes)
    lease_time: Annotated[int, Field(ge=10)] | None = None
    valid_lifetime: Annotated[int, Field(ge=10)] | None = None
    preferred_lifetime: Annotated[int, Field(ge=10)] | None = None

    @model_validator(mode="after")
    def _lifetimes(self) -> ClassConfig:
        if self.valid_lifetime and self.preferred_lifetime and self.preferred_lifetime > self.valid_lifetime:
            raise ValueError("preferred-lifetime must not exceed valid-lifetime")
        return self


class PoolConfig(Strict):
    """A ``[[subnet4]]`` pool written as a table: its range and who may take addresses from it."""

    range: PoolText
    classes: list[str] = Field(default_factory=list)  # only clients in one of these classes
    deny_unknown: bool = False  # only clients a source knows (a reservation, a bridge answer)


class Pool6Config(Strict):
    """A ``[[subnet6]]`` pool written as a table (same keys as ``PoolConfig``)."""

    range: Pool6Text
    classes: list[str] = Field(default_factory=list)
    deny_unknown: bool = False


def pool_text(pool: str | PoolConfig | Pool6Config) -> str:
    """The range of a pool, whichever way it was written."""
    return pool if isinstance(pool, str) else pool.range


class Restricts(Protocol):
    """A pool table that may keep its pool for some clients (address or prefix pools)."""

    classes: list[str]
    deny_unknown: bool


def pool_access(pool: str | Restricts) -> tuple[frozenset[str], bool]:
    """Who may use a pool: (its classes, deny-unknown); a pool written as text is open."""
    return (frozenset(), False) if isinstance(pool, str) else (frozenset(pool.classes), pool.deny_unknown)
