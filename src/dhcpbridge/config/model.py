"""The configuration file's shape (pydantic v2), with every rule a config must follow.

Keys are spelled with hyphens in TOML (``lease-time``); unknown keys are errors, so a typo never
silently does nothing. Cross-field rules (pools inside their subnet, no overlaps, reservations in
a subnet, options that exist) live here too, so ``check-config`` reports them all with paths.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from dhcpbridge.config.api import ApiConfig
from dhcpbridge.config.classes import ClassConfig, PoolConfig, pool_text
from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.config.glass import LookingGlassConfig
from dhcpbridge.config.limits import LimitsConfig
from dhcpbridge.config.model6 import HandlerConfig, Server6Config, Static6Config, Subnet6Config
from dhcpbridge.config.shared import SharedNetworkConfig
from dhcpbridge.config.values import HostPort, OptionTable, PoolText, Strict, TlsFiles
from dhcpbridge.config.values import parse_range as parse_range  # the CLI counts pool addresses with it
from dhcpbridge.logs import LogFile
from dhcpbridge.wire import values


class ServerConfig(Strict):
    """``[server]``: sockets, identity and protocol-wide behaviour."""

    interfaces: list[str] = Field(default_factory=list)
    address: ipaddress.IPv4Address = ipaddress.IPv4Address("0.0.0.0")
    port: Annotated[int, Field(ge=1, le=65535)] = 67
    client_port: Annotated[int, Field(ge=1, le=65535)] = 68
    relay_port: Annotated[int, Field(ge=1, le=65535)] = 67
    server_id: ipaddress.IPv4Address | None = None
    authoritative: bool = False
    raw_socket: bool = True
    offer_hold: Annotated[int, Field(ge=1, le=3600)] = 30
    decline_probation: Annotated[int, Field(ge=0)] = 86400
    receive_buffer: Annotated[int, Field(ge=65536)] = 8 * 1024 * 1024
    control_socket: str | None = None
    metrics: HostPort | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    log_file: Path | None = None  # else stderr; SIGUSR1 (or SIGHUP) reopens it (logs.py)
    log_rotate: Literal["none", "size", "daily"] = "none"  # none: logrotate (or nothing) moves it
    log_max_bytes: Annotated[int, Field(ge=4096)] = 10 * 1024 * 1024  # log-rotate = "size"
    log_keep: Annotated[int, Field(ge=1, le=1000)] = 7  # old files kept by "size" and "daily"

    # --- hardening (issue 9): relay trust and DECLINE limits (v4 and v6) -------------------------
    trusted_relays: list[ipaddress.IPv4Network] = Field(default_factory=list)  # empty: any relay
    decline_rate: Annotated[float, Field(gt=0)] = 10.0  # DECLINEs accepted per second, server-wide
    decline_burst: Annotated[int, Field(ge=1)] = 100
    decline_client_burst: Annotated[int, Field(ge=1)] = 4  # DECLINEs one client may send at once
    decline_client_interval: Annotated[float, Field(gt=0)] = 60.0  # ... and one more per interval

    # RFC 4388 leasequery: who may ask (addresses or networks; empty: leasequery is off)
    leasequery_requesters: list[ipaddress.IPv4Network] = Field(default_factory=list)
    # Reconfigure / FORCERENEW (RFC 8415 §18.2.11, RFC 3203 + 6704): a secret of >= 16 bytes the
    # clients' keys are derived from; unset: no keys are handed out, `dhcpbridge reconfigure` refuses
    reconfigure_key_file: Path | None = None

    @field_validator("trusted_relays", "leasequery_requesters", mode="before")
    @classmethod
    def _relay_networks(cls, value: object) -> object:
        """Addresses or networks: ``"192.0.2.1"`` means that host (``strict``: no host bits)."""
        if isinstance(value, list):
            return [ipaddress.IPv4Network(v, strict=True) if isinstance(v, str) else v for v in value]
        return value

    # --- hardening (issue 9, local) ---
    control_group: str | None = None  # besides root and the server's user, who may use the control socket
    user: str | None = None  # run as this user once the sockets are bound (needs root at start)
    group: str | None = None  # ... and this group (default: the user's primary group)

    # --- many servers on one store (issue 10) ---
    workers: Annotated[int, Field(ge=1, le=256)] = (
        1  # processes sharing the sockets; > 1 needs a shared store
    )


class LeasesConfig(Strict):
    """``[leases]``: where leases live."""

    store: str = "sqlite:///var/lib/dhcpbridge/leases.db"
    reap_interval: Annotated[float, Field(gt=0, le=3600)] = 10.0
    expired_retention: Annotated[int, Field(ge=0)] = 86400

    # --- hardening (issue 9, local): when a failing store makes the server unhealthy ---
    unhealthy_after: Annotated[float, Field(ge=0)] = 10.0  # seconds of failing flushes before /healthz is 503
    exit_when_unhealthy: bool = False  # then also stop with exit status 3 (a supervisor restarts it)

    # --- many servers on one store (issue 10) ---
    renew_from_cache: bool = False  # shared store down: known clients renew their unchanged lease locally

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        from dhcpbridge.leases.registry import check_url

        check_url(value)
        return value


class Subnet4Config(Strict):
    """``[[subnet4]]``: one IPv4 network, its pools and options."""

    id: int | None = None
    subnet: ipaddress.IPv4Network
    pools: list[PoolText | PoolConfig] = Field(default_factory=list)  # "a-b" / CIDR, or a table
    lease_time: Annotated[int, Field(ge=10)] = 3600
    min_lease_time: Annotated[int, Field(ge=10)] | None = None
    max_lease_time: Annotated[int, Field(ge=10)] | None = None
    renew_timer: Annotated[int, Field(ge=1)] | None = None
    rebind_timer: Annotated[int, Field(ge=1)] | None = None
    interface: str | None = None
    relay_addresses: list[ipaddress.IPv4Address] = Field(default_factory=list)
    server_id: ipaddress.IPv4Address | None = None
    authoritative: bool | None = None
    next_server: ipaddress.IPv4Address | None = None
    boot_file_name: str | None = None
    server_hostname: str | None = None
    options: OptionTable = Field(default_factory=dict)
    # BOOTP clients (no option 53) get a BOOTREPLY and a lease of bootp-lease-time (none: infinite)
    bootp: bool = False
    bootp_lease_time: Annotated[int, Field(ge=10)] | None = None

    @property
    def pool_ranges(self) -> list[str]:
        """Every pool's range text, however the pool was written."""
        return [pool_text(p) for p in self.pools]

    @model_validator(mode="after")
    def _times(self) -> Subnet4Config:
        low = self.min_lease_time or self.lease_time
        high = self.max_lease_time or self.lease_time
        if not low <= self.lease_time <= high:
            raise ValueError("min-lease-time <= lease-time <= max-lease-time does not hold")
        if self.renew_timer and self.rebind_timer and self.renew_timer > self.rebind_timer:
            raise ValueError("renew-timer must not exceed rebind-timer")
        if self.rebind_timer and self.rebind_timer > self.lease_time:
            raise ValueError("rebind-timer must not exceed lease-time")
        if self.renew_timer and self.renew_timer > self.lease_time:
            raise ValueError("renew-timer must not exceed lease-time")
        return self


class ReservationConfig(Strict):
    """``[[reservation]]``: a fixed answer for one client, keyed by exactly one identifier."""

    mac: str | None = None
    client_id: str | None = None
    circuit_id: str | None = None
    remote_id: str | None = None
    ip: ipaddress.IPv4Address | None = None
    hostname: str | None = None
    lease_time: Annotated[int, Field(ge=10)] | None = None
    next_server: ipaddress.IPv4Address | None = None
    boot_file_name: str | None = None
    options: OptionTable = Field(default_factory=dict)
    deny: bool = False

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is not None and len(values.parse_hex(value)) != 6:
            raise ValueError(f"{value!r} is not a 6-byte MAC address")
        return value

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        if value is not None and not values.parse_hex(value):
            raise ValueError("client-id must be non-empty hex")
        return value

    @model_validator(mode="after")
    def _one_key(self) -> ReservationConfig:
        keys = [k for k in ("mac", "client_id", "circuit_id", "remote_id") if getattr(self, k) is not None]
        if len(keys) != 1:
            raise ValueError("a reservation needs exactly one of mac, client-id, circuit-id, remote-id")
        effects = (self.ip, self.hostname, self.lease_time, self.next_server, self.boot_file_name)
        if all(e is None for e in effects) and not self.options and not self.deny:
            raise ValueError(
                "a reservation without ip, hostname, lease-time, boot settings, options or deny does nothing"
            )
        return self


class SourceConfig(Strict):
    """``[[source]]``: one link of the answer chain, asked in file order."""

    type: Literal["reservations", "pools", "static6"]
    files: list[str] = Field(default_factory=list)  # reservations: CSV/JSON; static6: CSV or SQLite


class HttpSourceConfig(TlsFiles):
    """``[[source]] type = "http"``: ask another service over HTTP/JSON (the bridge contract)."""

    type: Literal["http"]
    name: str = "http"
    url: Annotated[str, Field(pattern=r"^https?://")]
    on_commit: Annotated[str, Field(pattern=r"^https?://")] | None = None
    timeout: Annotated[float, Field(gt=0, le=30)] = 0.5
    max_concurrency: Annotated[int, Field(ge=1, le=10000)] = 64
    cache_ttl: Annotated[float, Field(ge=0)] = 60.0
    cache_size: Annotated[int, Field(ge=1)] = 100_000
    stale_grace: Annotated[float, Field(ge=0)] = 3600.0
    on_error: Literal["next", "drop"] = "next"
    check_subnet: bool = True
    breaker_failures: Annotated[int, Field(ge=1)] = 5
    breaker_reset: Annotated[float, Field(gt=0)] = 5.0
    token_file: str | None = None
    token_env: str | None = None
    basic_auth_file: str | None = None
    tls_ca: str | None = None
    commit_retries: Annotated[int, Field(ge=0, le=20)] = 3

    # --- hardening (issue 9, local): credentials per URL, none inside a URL ---
    on_commit_token_file: str | None = (
        None  # bearer token for on-commit (else the bridge's, same origin only)
    )

    @field_validator("url", "on_commit")
    @classmethod
    def _no_userinfo(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is not None and "@" in urlsplit(value).netloc:
            raise ValueError(
                "a URL must not carry user:password@ (it would be logged and is not sent): "
                "use basic-auth-file or token-file"
            )
        return value

    @model_validator(mode="after")
    def _auth(self) -> HttpSourceConfig:
        if sum(x is not None for x in (self.token_file, self.token_env, self.basic_auth_file)) > 1:
            raise ValueError("give at most one of token-file, token-env, basic-auth-file")
        self.check_tls()
        return self


AnySource = Annotated[SourceConfig | HttpSourceConfig, Field(discriminator="type")]


class Config(Strict):
    """The whole file."""

    server: ServerConfig = Field(default_factory=ServerConfig)
    leases: LeasesConfig = Field(default_factory=LeasesConfig)
    subnet4: list[Subnet4Config] = Field(default_factory=list)
    reservation: list[ReservationConfig] = Field(default_factory=list)
    source: list[AnySource] = Field(
        default_factory=lambda: list[AnySource](
            [SourceConfig(type="reservations"), SourceConfig(type="static6"), SourceConfig(type="pools")]
        )
    )
    options: OptionTable = Field(default_factory=dict)
    server6: Server6Config = Field(default_factory=Server6Config)
    subnet6: list[Subnet6Config] = Field(default_factory=list)
    static6: list[Static6Config] = Field(default_factory=list)
    handler: list[HandlerConfig] = Field(default_factory=list)
    # issue 9 (bounds): the [limits] section
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    dns: DnsConfig | None = None  # [dns]: RFC 2136 updates (config/dns.py); absent = off
    api: ApiConfig = Field(default_factory=ApiConfig)  # [api]: the HTTP management API (config/api.py)
    looking_glass: LookingGlassConfig = Field(default_factory=LookingGlassConfig)  # config/glass.py
    # issue 13 §3: [[class]] client classes (config/classes.py)
    class_: list[ClassConfig] = Field(default_factory=list, alias="class")
    # issue 13 §4: [[shared-network]] subnets on one link (config/shared.py)
    shared_network: list[SharedNetworkConfig] = Field(default_factory=list)

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    def resolve_path(self, path: str) -> Path:
        """A path from the file, relative to the directory the config file is in."""
        return (self._base_dir / path).resolve()

    def with_base_dir(self, base: Path) -> Config:
        self._base_dir = base
        return self

    def log_target(self) -> LogFile | None:
        """``[server] log-file`` (relative to the config file) and its rotation, if set."""
        srv = self.server
        if srv.log_file is None:
            return None
        path = self.resolve_path(str(srv.log_file))
        return LogFile(path, srv.log_rotate, srv.log_max_bytes, srv.log_keep)

    @model_validator(mode="after")
    def _workers_need_a_shared_store(self) -> Config:
        """[server] workers > 1 with a store that has one writer (issue 10; other stores are
        checked at start, by what the opened store is)."""
        scheme = self.leases.store.split(":", 1)[0]
        if self.server.workers > 1 and self.server.log_file and self.server.log_rotate != "none":
            raise ValueError(
                'server.log-rotate must be "none" with workers > 1 (each process would rotate '
                "the one file); rotate it with logrotate, whose SIGHUP makes every process reopen it"
            )
        if self.server.workers > 1 and scheme in ("memory", "sqlite"):
            raise ValueError(
                f"server.workers = {self.server.workers} needs a shared lease store (redis://, "
                f"postgresql://); leases.store {scheme}:// has a single writer"
            )
        return self
