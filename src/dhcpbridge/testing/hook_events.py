"""What real DHCP clients report through their hook script: the hook itself, its stored calls
(:class:`HookEvent`) and the :class:`Lease` read from them.

One job: turn the environment a client passes to its hook (dhclient, dhcpcd, busybox udhcpc; the
keys each uses are listed in :mod:`dhcpbridge.testing.clients`) into one structured lease.
The generated hook stores each call's environment (``env -0``) as one file in ``events/`` and, for
dhclient and udhcpc, configures the interface like a real script would, inside the namespace only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

REASONS_BOUND4 = frozenset({"BOUND", "RENEW", "REBIND", "REBOOT", "bound", "renew"})
REASONS_BOUND6 = frozenset({"BOUND6", "RENEW6", "REBIND6", "REBOOT6"})
REASONS_RENEW = frozenset({"RENEW", "REBIND", "RENEW6", "REBIND6", "renew"})


@dataclass(frozen=True)
class HookEvent:
    """One call of the hook script: the reason and the environment the client passed."""

    reason: str
    env: Mapping[str, str]
    time: float
    args: str = ""

    def get(self, key: str) -> str | None:
        value = self.env.get(key)
        return value if value else None


@dataclass(frozen=True)
class Lease:
    """What a client obtained (fields a client does not report are None / empty)."""

    client: str
    reason: str
    address: ipaddress.IPv4Interface | None = None
    routers: tuple[ipaddress.IPv4Address, ...] = ()
    dns_servers: tuple[IPAddress, ...] = ()
    domain_name: str | None = None
    domain_search: tuple[str, ...] = ()
    lease_time: int | None = None
    server_id: str | None = None  # v4: address; v6: server DUID as plain hex
    t1: int | None = None
    t2: int | None = None
    addresses6: tuple[ipaddress.IPv6Interface, ...] = ()
    prefixes: tuple[ipaddress.IPv6Network, ...] = ()
    preferred_lifetime: int | None = None
    valid_lifetime: int | None = None
    time: float = 0.0
    log: str = field(default="", repr=False, compare=False)  # the client's log when returned

    @property
    def address6(self) -> ipaddress.IPv6Interface | None:
        return self.addresses6[0] if self.addresses6 else None

    @property
    def prefix(self) -> ipaddress.IPv6Network | None:
        return self.prefixes[0] if self.prefixes else None

    def merged(self, other: Lease) -> Lease:
        """``other`` layered over ``self`` (dhclient -6 reports each IA in its own hook call)."""
        values: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if name == "log":
                continue
            if name in ("addresses6", "prefixes"):
                values[name] = tuple(dict.fromkeys((*mine, *theirs)))
            elif theirs not in (None, (), "", 0.0):
                values[name] = theirs
            else:
                values[name] = mine
        return dataclasses.replace(self, **values)


# --------------------------------------------------------------------------------------------
# parsing hook environments


def _ints(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _hex_int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value, 16)
    except ValueError:
        return None


def _addrs(value: str | None) -> tuple[IPAddress, ...]:
    out: list[IPAddress] = []
    for word in (value or "").split():
        with contextlib.suppress(ValueError):
            out.append(ipaddress.ip_address(word))
    return tuple(out)


def _v4addrs(value: str | None) -> tuple[ipaddress.IPv4Address, ...]:
    return tuple(a for a in _addrs(value) if isinstance(a, ipaddress.IPv4Address))


def _duid_hex(value: str | None) -> str | None:
    """A DUID as plain lower-case hex (dhclient prints ``0:1:0:1:32:99...``, dhcpcd ``00010001...``)."""
    if not value:
        return None
    if ":" in value:
        return "".join(part.zfill(2) for part in value.split(":")).lower()
    return value.lower()


def _domains(value: str | None) -> tuple[str, ...]:
    return tuple(d.rstrip(".") for d in (value or "").split() if d.rstrip("."))


@dataclass(frozen=True)
class _Keys4:
    """Where a v4 client's hook environment keeps each lease field."""

    address: str
    prefix_lengths: tuple[str, ...]  # the first one set wins; default /32
    routers: str
    dns: str
    domain: str
    search: str | None
    lease_time: str
    server_id: str
    t1: str
    t2: str
    timer: Callable[[str | None], int | None]


_UDHCPC = _Keys4(
    "ip", ("mask",), "router", "dns", "domain", None, "lease", "serverid", "opt58", "opt59", _hex_int
)
_DHCLIENT = _Keys4(  # and dhcpcd -4
    "new_ip_address",
    ("new_subnet_cidr", "new_subnet_mask"),
    "new_routers",
    "new_domain_name_servers",
    "new_domain_name",
    "new_domain_search",
    "new_dhcp_lease_time",
    "new_dhcp_server_identifier",
    "new_dhcp_renewal_time",
    "new_dhcp_rebinding_time",
    _ints,
)


def _lease4(client: str, ev: HookEvent, keys: _Keys4) -> Lease:
    g = ev.get
    address = None
    if g(keys.address):
        plen = next((value for k in keys.prefix_lengths if (value := g(k))), "32")
        address = ipaddress.IPv4Interface(f"{g(keys.address)}/{plen}")
    return Lease(
        client=client,
        reason=ev.reason,
        address=address,
        routers=_v4addrs(g(keys.routers)),
        dns_servers=_addrs(g(keys.dns)),
        domain_name=g(keys.domain),
        domain_search=_domains(g(keys.search)) if keys.search else (),
        lease_time=_ints(g(keys.lease_time)),
        server_id=g(keys.server_id),
        t1=keys.timer(g(keys.t1)),
        t2=keys.timer(g(keys.t2)),
        time=ev.time,
    )


def lease_from_event(client: str, ev: HookEvent) -> Lease:
    """Turn one hook call of any supported client into a (possibly partial) :class:`Lease`."""
    g = ev.get
    if ev.reason in ("bound", "renew"):  # udhcpc
        return _lease4(client, ev, _UDHCPC)
    if ev.reason in REASONS_BOUND4:  # dhclient -4, dhcpcd -4
        return _lease4(client, ev, _DHCLIENT)
    if ev.reason in REASONS_BOUND6:
        addresses: list[ipaddress.IPv6Interface] = []
        prefixes: list[ipaddress.IPv6Network] = []
        preferred = _ints(g("new_preferred_life"))
        valid = _ints(g("new_max_life"))
        t1, t2 = _ints(g("new_renew")), _ints(g("new_rebind"))
        # dhclient: one lease per call
        if g("new_ip6_address"):
            addresses.append(
                ipaddress.IPv6Interface(f"{g('new_ip6_address')}/{g('new_ip6_prefixlen') or 128}")
            )
        if g("new_ip6_prefix"):
            prefixes.append(ipaddress.IPv6Network(g("new_ip6_prefix") or "", strict=False))
        # dhcpcd: every IA in one call, new_dhcp6_ia_na<i>_ia_addr<j> / new_dhcp6_ia_pd<i>_prefix<j>
        for key in sorted(ev.env):
            value = ev.env[key]
            if not key.startswith("new_dhcp6_ia_") or not value:
                continue
            # ["ia", "na1", "ia_addr1"] / ["ia", "pd1", "prefix1"] / ["ia", "na1", "t1"]
            ia = key[len("new_dhcp6_") :].split("_", 2)
            if len(ia) != 3:
                continue
            item = ia[2]
            if ia[1].startswith("na") and item.startswith("ia_addr") and item[7:].isdigit():
                addresses.append(ipaddress.IPv6Interface(f"{value}/128"))
                preferred = preferred or _ints(g(f"{key}_pltime"))
                valid = valid or _ints(g(f"{key}_vltime"))
            elif ia[1].startswith("pd") and item.startswith("prefix") and item[6:].isdigit():
                prefixes.append(ipaddress.IPv6Network(f"{value}/{g(f'{key}_length') or 64}", strict=False))
                preferred = preferred or _ints(g(f"{key}_pltime"))
                valid = valid or _ints(g(f"{key}_vltime"))
            elif item in ("t1", "t2"):
                if item == "t1":
                    t1 = t1 if t1 is not None else _ints(value)
                else:
                    t2 = t2 if t2 is not None else _ints(value)
        return Lease(
            client=client,
            reason=ev.reason,
            addresses6=tuple(addresses),
            prefixes=tuple(prefixes),
            dns_servers=_addrs(g("new_dhcp6_name_servers")),
            domain_search=_domains(g("new_dhcp6_domain_search")),
            server_id=_duid_hex(g("new_dhcp6_server_id")),
            t1=t1,
            t2=t2,
            preferred_lifetime=preferred,
            valid_lifetime=valid,
            lease_time=valid,
            time=ev.time,
        )
    return Lease(client=client, reason=ev.reason, time=ev.time)


def read_events(directory: Path) -> list[HookEvent]:
    """Hook events stored by the generated hook (``<ns-time>-<pid>`` files, ``env -0`` format)."""
    out: list[HookEvent] = []
    if not directory.exists():
        return out
    for path in directory.iterdir():
        if path.name.endswith(".tmp"):
            continue
        stamp = path.name.split("-", 1)[0]
        env: dict[str, str] = {}
        for item in path.read_bytes().split(b"\0"):
            key, sep, value = item.decode(errors="replace").partition("=")
            if sep:
                env[key.strip()] = value
        args = env.pop("HOOK_ARGS", "")
        reason = env.get("reason") or (args.split()[0] if args.split() else "")
        out.append(
            HookEvent(reason=reason, env=env, time=int(stamp) / 1e9 if stamp.isdigit() else 0.0, args=args)
        )
    out.sort(key=lambda e: e.time)
    return out


HOOK_SCRIPT = r"""#!/bin/sh
# Generated by dhcpbridge.testing.clients: record this call, then configure the interface like a
# real client script would (only inside the test namespace).  Never touches resolv.conf etc.
EVENTS=@EVENTS@
CONFIGURE=@CONFIGURE@
f="$EVENTS/$(date +%s%N)-$$"
{ printf 'HOOK_ARGS=%s\0' "$*"; env -0; } > "$f.tmp" && mv "$f.tmp" "$f"
r="${reason:-${1:-}}"
[ "$CONFIGURE" = 1 ] || exit 0
first() { echo "$1"; }
case "$r" in
  PREINIT|PREINIT6)
    ip link set dev "$interface" up ;;
  BOUND|RENEW|REBIND|REBOOT)
    if [ -n "${new_ip_address:-}" ]; then
      ip addr replace "$new_ip_address/${new_subnet_mask:-32}" dev "$interface"
      gw=$(first ${new_routers:-})
      [ -n "$gw" ] && ip route replace default via "$gw" dev "$interface"
    fi ;;
  EXPIRE|FAIL|RELEASE|STOP)
    [ -n "${old_ip_address:-}" ] && ip addr del "$old_ip_address/${old_subnet_mask:-32}" dev "$interface" 2>/dev/null ;;
  BOUND6|RENEW6|REBIND6|REBOOT6)
    if [ -n "${new_ip6_address:-}" ]; then
      ip -6 addr replace "$new_ip6_address/${new_ip6_prefixlen:-128}" dev "$interface" nodad \
        valid_lft "${new_max_life:-forever}" preferred_lft "${new_preferred_life:-forever}"
    fi ;;
  EXPIRE6|RELEASE6|STOP6)
    [ -n "${old_ip6_address:-}" ] && ip -6 addr del "$old_ip6_address/${old_ip6_prefixlen:-128}" dev "$interface" 2>/dev/null ;;
  bound|renew)
    ip addr replace "$ip/${mask:-32}" dev "$interface"
    gw=$(first ${router:-})
    [ -n "$gw" ] && ip route replace default via "$gw" dev "$interface" ;;
  deconfig)
    ip -4 addr flush dev "$interface" ;;
esac
exit 0
"""
