"""Bridge-only mode, DHCPv6: when no configured link holds the request, the answer is the whole
truth - its addresses and prefixes with their lifetimes - and this makes the link the rest of the
pipeline works with (a ``Subnet6`` without pools; lifetimes and T1/T2 from the answer), after the
``check-subnet`` guard: every IA_NA address must be on the link the request came from, judged
from the link-address of the relay closest to the client (its /64) or, for a directly attached
client, the receiving interface's global networks. Delegated prefixes are routed, not on a link,
and are not judged."""

from __future__ import annotations

from dhcpbridge.engine.model import Action
from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.subnets import Links
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.subnet import Subnet6
from dhcpbridge.engine.v6.transaction import Transaction6, ip6_str

RELAY_PREFIX = 64  # a relay's link-address says the link; its prefix length is not on the wire


class AnswerLink(Handler[Transaction6]):
    """See the module docstring; runs after the sources were asked, before the bindings."""

    def __init__(self, env: Env6) -> None:
        self.env = env
        self._links: Links[tuple[int, int, int, int, int, int], Subnet6] = Links()

    def handle(self, tx: Transaction6) -> None:
        if tx.subnet is not None:
            return
        answer = tx.answer
        if answer is None or answer.action is not Action.ASSIGN:
            return
        if not (answer.addresses6 or answer.prefixes):
            return
        env = self.env
        network, length = self._network(tx)
        if env.check_link:
            for addr in answer.addresses6:
                if length == 0 or addr >> (128 - length) != network >> (128 - length):
                    where = f"relay link {ip6_str(tx.link_address)}" if tx.link_address else tx.meta.ifname
                    raise CannotRespond("answer-off-link", f"{ip6_str(addr)} is not on the link of {where}")
        else:
            network, length = 0, 0  # every address is "on link"
        valid = answer.valid_lifetime or answer.lease_time or env.link_lease_time
        preferred = min(answer.preferred_lifetime or valid // 2, valid)
        t1 = answer.renewal_time if answer.renewal_time is not None else preferred // 2
        t2 = answer.rebinding_time if answer.rebinding_time is not None else preferred * 4 // 5
        t2 = max(t1, t2)
        tx.subnet = self.link(network, length, preferred, valid, t1, t2)

    def _network(self, tx: Transaction6) -> tuple[int, int]:
        """The request's link as (network, prefix length); (0, 0) when it cannot be told."""
        link = tx.link_address
        if link:
            shift = 128 - RELAY_PREFIX
            return link >> shift << shift, RELAY_PREFIX
        answer = tx.answer
        assert answer is not None
        nets = self.env.host.networks.get(tx.meta.ifname, ())
        for addr in answer.addresses6:
            hit = network_of(nets, addr)
            if hit is not None:
                return hit
        return nets[0] if nets else (0, 0)

    def link(self, network: int, length: int, preferred: int, valid: int, t1: int, t2: int) -> Subnet6:
        """The pool-less link of one answer shape (made once per network and lifetimes)."""
        key = (network, length, preferred, valid, t1, t2)
        hit = self._links.get(key)
        if hit is None:
            hit = self._links.keep(
                key,
                Subnet6(
                    0,
                    f"{ip6_str(network)}/{length}",
                    network,
                    length,
                    pools=(),
                    pd_pools=(),
                    rapid_commit=True,
                    interface=None,
                    relay_links=frozenset(),
                    options=self.env.options,
                    preferred=preferred,
                    valid=valid,
                    t1=t1,
                    t2=t2,
                ),
            )
        return hit


def network_of(nets: tuple[tuple[int, int], ...], address: int) -> tuple[int, int] | None:
    """The first (network, prefix length) of ``nets`` that holds ``address``; None if none does."""
    for network, length in nets:
        shift = 128 - length
        if address >> shift == network >> shift:
            return network, length
    return None
