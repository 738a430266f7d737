"""The DHCPv6 half of the configuration file: ``[server6]``, ``[[subnet6]]``, ``[[static6]]`` and
``[[handler]]`` (user handlers, both families), plus the static-assignment id syntax.

Static assignments are keyed the way dhcpkit's CSV files are (one syntax for the config, the CSV
and the SQLite table built from it):

* ``duid:HEX`` - the client's DUID (option 1);
* ``interface-id:HEX`` / ``interface-id-str:TEXT`` - the Interface-ID a relay added (option 18);
* ``remote-id:ENTERPRISE:HEX`` / ``remote-id-str:ENTERPRISE:TEXT`` - the Remote-ID a relay added
  (option 37, RFC 4649: enterprise number + opaque id).

:func:`parse_static_id` turns one into a lookup key; :func:`canonical_static_id` into the one
spelling stored in SQLite (``duid:0001...``, ``interface-id:...``, ``remote-id:9:...``).
"""

from __future__ import annotations

import ipaddress
import struct
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from dhcpbridge.config.classes import Pool6Config, pool_text
from dhcpbridge.config.values import DuidText, Option6Table, Pool6Text, Strict
from dhcpbridge.config.values import parse_range6 as parse_range6  # the CLI counts pool addresses with it
from dhcpbridge.wire import values
from dhcpbridge.wire.duid import parse_duid_text

KEY_DUID = b"d"
KEY_INTERFACE_ID = b"i"
KEY_REMOTE_ID = b"r"
_U32 = struct.Struct("!I")


# --- static assignment ids --------------------------------------------------------------------


def parse_static_id(text: str) -> bytes:
    """A lookup key for a dhcpkit-style id (see the module docstring); ``ValueError`` says why not."""
    kind, sep, rest = text.strip().partition(":")
    kind = kind.strip().lower()
    if not sep or not rest:
        raise ValueError(
            f"{text!r}: expected duid:HEX, interface-id:HEX, interface-id-str:TEXT, "
            "remote-id:ENTERPRISE:HEX or remote-id-str:ENTERPRISE:TEXT"
        )
    if kind == "duid":
        try:
            return KEY_DUID + parse_duid_text(rest).raw
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
    if kind == "interface-id":
        return KEY_INTERFACE_ID + _nonempty_hex(rest, text)
    if kind == "interface-id-str":
        return KEY_INTERFACE_ID + rest.encode("utf-8")
    if kind in ("remote-id", "remote-id-str"):
        ent_text, sep2, ident = rest.partition(":")
        if not sep2 or not ident:
            raise ValueError(
                f"{text!r}: expected {kind}:ENTERPRISE:{'HEX' if kind == 'remote-id' else 'TEXT'}"
            )
        try:
            enterprise = int(ent_text.strip(), 0)
        except ValueError:
            raise ValueError(f"{text!r}: enterprise number {ent_text!r} is not an integer") from None
        if not 0 <= enterprise <= 0xFFFFFFFF:
            raise ValueError(f"{text!r}: enterprise number {enterprise} does not fit in 32 bits")
        body = _nonempty_hex(ident, text) if kind == "remote-id" else ident.encode("utf-8")
        return KEY_REMOTE_ID + _U32.pack(enterprise) + body
    raise ValueError(
        f"{text!r}: unknown id type {kind!r} (duid, interface-id, interface-id-str, remote-id, remote-id-str)"
    )


def _nonempty_hex(text: str, whole: str) -> bytes:
    return values.parse_id(text, repr(whole))


def canonical_static_id(key: bytes) -> str:
    """The one text form of a lookup key (what ``build-sqlite`` stores and what logs show)."""
    kind, body = key[:1], key[1:]
    if kind == KEY_DUID:
        return "duid:" + body.hex()
    if kind == KEY_INTERFACE_ID:
        return "interface-id:" + body.hex()
    if kind == KEY_REMOTE_ID and len(body) >= 4:
        return f"remote-id:{_U32.unpack_from(body)[0]}:{body[4:].hex()}"
    raise ValueError(f"not a static assignment key: {key!r}")


# --- values -----------------------------------------------------------------------------------


# --- sections ---------------------------------------------------------------------------------


class Server6Config(Strict):
    """``[server6]``: the DHCPv6 listener and server-wide v6 settings (all optional)."""

    interfaces: list[str] | None = None  # default: [server] interfaces
    address: ipaddress.IPv6Address = ipaddress.IPv6Address("::")
    port: Annotated[int, Field(ge=1, le=65535)] = 547
    client_port: Annotated[int, Field(ge=1, le=65535)] = 546
    relay_port: Annotated[int, Field(ge=1, le=65535)] = 547
    server_duid: DuidText | None = None  # default: DUID-LL of the first served interface
    options: Option6Table = Field(default_factory=dict)
    multicast: bool = True  # false: relay-only (no ff02::1:2 join; relayed and unicast messages only)

    # --- hardening (issue 9): what one client may hold ------------------------------------------
    max_ia_na: Annotated[int, Field(ge=1, le=256)] = 8  # IA_NA + IA_TA per message; more: dropped
    max_ia_pd: Annotated[int, Field(ge=1, le=256)] = 8  # IA_PD per message; more: dropped
    max_leases_per_duid: Annotated[int, Field(ge=1, le=4096)] = 16  # addresses + prefixes per DUID

    # RFC 5007 leasequery: who may ask (addresses or networks; empty: leasequery is off)
    leasequery_requesters: list[ipaddress.IPv6Network] = Field(default_factory=list)

    @field_validator("leasequery_requesters", mode="before")
    @classmethod
    def _requesters(cls, value: object) -> object:
        """Addresses or networks: ``"2001:db8::2"`` means that host (``strict``: no host bits)."""
        if isinstance(value, list):
            return [ipaddress.IPv6Network(v, strict=True) if isinstance(v, str) else v for v in value]
        return value


class PdPoolConfig(Strict):
    """One prefix-delegation pool: ``{prefix = "2001:db8:1000::/40", delegated-length = 56}``;
    ``classes`` / ``deny-unknown`` keep it for some clients, as for the address pools."""

    prefix: ipaddress.IPv6Network
    delegated_length: Annotated[int, Field(ge=1, le=128)]
    classes: list[str] = Field(default_factory=list)
    deny_unknown: bool = False  # only clients a source knows (a reservation, a bridge answer)

    @model_validator(mode="after")
    def _lengths(self) -> PdPoolConfig:
        if self.delegated_length < self.prefix.prefixlen:
            raise ValueError(
                f"delegated-length {self.delegated_length} is shorter than the pool's /{self.prefix.prefixlen}"
            )
        return self

    @property
    def count(self) -> int:
        return 1 << (self.delegated_length - self.prefix.prefixlen)


class Subnet6Config(Strict):
    """``[[subnet6]]``: one IPv6 link, its address and prefix pools, lifetimes and options."""

    id: int | None = None
    subnet: ipaddress.IPv6Network
    pools: list[Pool6Text | Pool6Config] = Field(default_factory=list)  # a range / CIDR, or a table
    pd_pools: list[PdPoolConfig] = Field(default_factory=list)
    interface: str | None = None
    relay_link_addresses: list[ipaddress.IPv6Address] = Field(default_factory=list)
    preferred_lifetime: Annotated[int, Field(ge=10)] = 3600
    valid_lifetime: Annotated[int, Field(ge=10)] = 7200
    renew_timer: Annotated[int, Field(ge=0)] | None = None
    rebind_timer: Annotated[int, Field(ge=0)] | None = None
    rapid_commit: bool = False
    options: Option6Table = Field(default_factory=dict)

    @property
    def pool_ranges(self) -> list[str]:
        """Every address pool's range text, however the pool was written."""
        return [pool_text(p) for p in self.pools]

    @model_validator(mode="after")
    def _times(self) -> Subnet6Config:
        if self.preferred_lifetime > self.valid_lifetime:
            raise ValueError("preferred-lifetime must not exceed valid-lifetime")
        if (
            self.renew_timer is not None
            and self.rebind_timer is not None
            and self.renew_timer > self.rebind_timer
        ):
            raise ValueError("renew-timer must not exceed rebind-timer")
        if self.rebind_timer is not None and self.rebind_timer > self.valid_lifetime:
            raise ValueError("rebind-timer must not exceed valid-lifetime")
        return self


class Static6Config(Strict):
    """``[[static6]]``: a fixed address and/or delegated prefix for one client, line or DUID."""

    id: str
    address: ipaddress.IPv6Address | None = None
    prefix: ipaddress.IPv6Network | None = None
    options: Option6Table = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        parse_static_id(value)
        return value

    @model_validator(mode="after")
    def _something(self) -> Static6Config:
        if self.address is None and self.prefix is None and not self.options:
            raise ValueError("a static6 entry without address, prefix or options does nothing")
        return self


class HandlerConfig(Strict):
    """``[[handler]]``: a user handler class from a Python module (``package.module:ClassName``).

    ``options`` become the class's keyword arguments; ``family`` limits it to DHCPv4 or DHCPv6
    (default: both); ``position`` runs it before or after (default) the built-in handlers of each
    phase; ``search-path`` (relative to the config file) is added to ``sys.path`` first.
    """

    path: Annotated[str, Field(min_length=3)]
    family: Literal[4, 6] | None = None
    position: Literal["before", "after"] = "after"
    options: dict[str, Any] = Field(default_factory=dict)
    search_path: str | None = None

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        module, _, attr = value.partition(":")
        if not attr:
            module, _, attr = value.rpartition(".")
        if not module or not attr or not attr.isidentifier():
            raise ValueError(f"{value!r} must be 'package.module:ClassName'")
        return value
