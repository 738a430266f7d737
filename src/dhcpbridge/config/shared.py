"""``[[shared-network]]`` (issue 13 §4): several subnets on one link or behind one relay, as Kea's
``shared-networks`` and ISC dhcpd's ``shared-network``. A request selects one member subnet as
before (relay, interface, link selection); when that subnet's pools are full, or the client's
address lies in another member, the engine uses the next member in the order listed here."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field

from dhcpbridge.config.values import Strict


class SharedNetworkConfig(Strict):
    """``[[shared-network]]``: a name and its member subnets (``[[subnet4]]`` / ``[[subnet6]]``
    networks, tried in this order; the two families are grouped separately)."""

    name: Annotated[str, Field(min_length=1)]
    subnets: Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], Field(min_length=2)]


def shared_network_errors(
    shared: list[SharedNetworkConfig],
    subnets4: list[ipaddress.IPv4Network],
    subnets6: list[ipaddress.IPv6Network],
) -> list[str]:
    """Members must be configured subnets, each in at most one shared network; names unique."""
    errors: list[str] = []
    known = {*subnets4, *subnets6}
    member_of: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, int] = {}
    names: dict[str, int] = {}
    for i, net in enumerate(shared):
        if net.name in names:
            errors.append(f"shared-network[{i}].name: {net.name!r} is also shared-network[{names[net.name]}]")
        names[net.name] = i
        for k, member in enumerate(net.subnets):
            path = f"shared-network[{i}].subnets[{k}]"
            if member not in known:
                errors.append(f"{path}: {member} is not a configured subnet4 / subnet6")
            elif member in member_of:
                errors.append(f"{path}: {member} is already in shared-network[{member_of[member]}]")
            member_of[member] = i
    return errors
