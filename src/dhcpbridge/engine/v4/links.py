"""Bridge-only mode, DHCPv4: when no configured subnet holds the request's link, the answer is
the whole truth - its address and mask (option 1) make the link the rest of the pipeline works
with (a ``Subnet4`` without pools, lease time and timers from the answer), after the
``check-subnet`` guard: the address must be on the link the request came from, judged from the
relay (link selection, else giaddr) or, for a directly attached client, the receiving
interface's networks. A unicast renewal (ciaddr, no relay) names its own link: ciaddr."""

from __future__ import annotations

import struct

from dhcpbridge.engine.model import Action
from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.subnets import Links
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.subnet import Subnet4
from dhcpbridge.engine.v4.transaction import BROADCAST, Transaction4
from dhcpbridge.wire.v4.message import ip4_str

_U32 = struct.Struct("!I")
ALL = 0xFFFFFFFF


def prefix_mask(length: int) -> int:
    """The IPv4 netmask of a prefix length."""
    return (ALL << (32 - length)) & ALL


def mask_length(mask: int) -> int:
    return 32 - ((~mask) & ALL).bit_length()


class AnswerLink(Handler[Transaction4]):
    """See the module docstring; runs after the sources were asked, before the bindings."""

    def __init__(self, env: Env4) -> None:
        self.env = env
        self._links: Links[tuple[int, int], Subnet4] = Links()

    def handle(self, tx: Transaction4) -> None:
        if tx.subnet is not None:
            return
        answer = tx.answer
        if answer is None or answer.action is not Action.ASSIGN or answer.address is None:
            return
        addr = answer.address
        env = self.env
        given = answer.options.get(1)
        mask = _U32.unpack(given)[0] if given is not None and len(given) == 4 else 0
        req = tx.request
        relay = tx.link_selection or req.giaddr
        if relay:
            if not mask:
                if env.check_link:
                    raise CannotRespond("answer-without-mask", f"{ip4_str(addr)} for relay {ip4_str(relay)}")
                mask = ALL
            elif env.check_link and addr & mask != relay & mask:
                raise CannotRespond(
                    "answer-off-link",
                    f"{ip4_str(addr)}/{mask_length(mask)} is not the link of relay {ip4_str(relay)}",
                )
        elif req.ciaddr and tx.meta.dst_ip != BROADCAST:
            mask = mask or ALL  # a unicast renewal: the client already has its mask
        else:
            ifname = tx.meta.ifname
            link = 0
            for network, length in env.host.networks.get(ifname, ()):
                if addr & prefix_mask(length) == network:
                    link = prefix_mask(length)
                    break
            if not link and env.check_link:
                raise CannotRespond("answer-off-link", f"{ip4_str(addr)} is on no network of {ifname}")
            mask = mask or link or ALL
        tx.subnet = self.link(addr & mask, mask)

    def link(self, network: int, mask: int) -> Subnet4:
        """The pool-less subnet of one answered link (made once per network)."""
        key = (network, mask)
        hit = self._links.get(key)
        if hit is None:
            hit = self._links.keep(key, self._make(network, mask))
        return hit

    def _make(self, network: int, mask: int) -> Subnet4:
        env = self.env
        options = dict(env.link_options)
        if mask != ALL:
            options[1] = _U32.pack(mask)
        return Subnet4(
            id=0,
            name=f"{ip4_str(network)}/{mask_length(mask)}",
            network=network,
            mask=mask,
            pools=(),
            lease_time=env.link_lease_time,
            min_lease_time=env.link_lease_time,
            max_lease_time=env.link_lease_time,
            renew_timer=None,
            rebind_timer=None,
            interface=None,
            relay_addresses=frozenset(),
            server_id=None,
            authoritative=env.authoritative,
            next_server=0,
            boot_file=b"",
            server_hostname=b"",
            options=options,
        )
