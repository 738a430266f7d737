"""``Hold``: what the engine asks a lease store to hold for a client (``LeaseStore.allocate``).

One value instead of six arguments, so that the protocol and every store name the request once.
Compiled with the engine (``_native.py``): building one per DISCOVER / SOLICIT costs next to nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dhcpbridge.engine.model import Lease
from dhcpbridge.engine.ranges import AddressRange

NO_ADDRESSES: frozenset[int] = frozenset()


@dataclass(slots=True, init=False)
class Hold:
    """Hold an address of ``ranges`` for ``lease.client`` as OFFERED until ``lease.expires``.

    ``lease`` is a template whose address the store fills in: the client's own most recent address
    in ``ranges`` if it is still free for it, else ``prefer`` (the address the client asked for,
    0 for none) if free, else the first free address searching from ``hint`` (stable per client),
    never one of ``exclude`` (reserved addresses).
    """

    lease: Lease
    ranges: Sequence[AddressRange]
    now: float
    hint: int
    exclude: frozenset[int] = NO_ADDRESSES
    prefer: int = 0

    # written out (not the dataclass's generated one) so mypyc compiles it: one per DISCOVER / SOLICIT
    def __init__(
        self,
        lease: Lease,
        ranges: Sequence[AddressRange],
        now: float,
        hint: int,
        exclude: frozenset[int] = NO_ADDRESSES,
        prefer: int = 0,
    ) -> None:
        self.lease = lease
        self.ranges = ranges
        self.now = now
        self.hint = hint
        self.exclude = exclude
        self.prefer = prefer

    def parts(self) -> tuple[Lease, Sequence[AddressRange], float, int, frozenset[int], int]:
        """The six fields in order: ``lease, ranges, now, hint, exclude, prefer``."""
        return self.lease, self.ranges, self.now, self.hint, self.exclude, self.prefer
