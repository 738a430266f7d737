"""``[[shared-network]]`` -> each member subnet's ``siblings`` (the other members, in the order
the shared network lists them), for the v4 ``Subnet4`` and the v6 ``Subnet6`` alike."""

from __future__ import annotations

from typing import Any, Protocol

from dhcpbridge.config.model import Config


class Member(Protocol):
    siblings: Any


def link_shared(config: Config, built: dict[Any, Member]) -> None:
    """Give every built subnet of a shared network its siblings (``built``: network -> subnet)."""
    for shared in config.shared_network:
        members = [built[net] for net in shared.subnets if net in built]
        for member in members:
            member.siblings = tuple(m for m in members if m is not member)
