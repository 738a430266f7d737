"""The looking glass: the last requests and replies of each client, decoded on demand, with the
decision path that produced them (``ring``: what the packet path hands over and the bounded ring
buffers; ``decode``: an exchange as JSON)."""

from dhcpbridge.glass.ring import Entry, LookingGlass

__all__ = ["Entry", "LookingGlass"]
