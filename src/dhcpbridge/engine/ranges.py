"""``AddressRange``: what a pool's range of addresses looks like to the engine and the stores."""

from __future__ import annotations

from typing import Protocol


class AddressRange(Protocol):
    """An inclusive range of addresses a pool hands out (first..last).

    A range may also have an int ``step``: its members are then ``first + k * step`` (an IPv6
    prefix-delegation pool, one delegated prefix per member, ``step = 2 ** (128 - length)``).
    Stores read it with ``getattr(r, "step", 1)``, so a plain address range may leave it out, but
    should not on the packet path: a missing attribute costs a raised and caught AttributeError on
    every read (the engine's ``PoolRange`` has ``step = 1``).
    """

    @property
    def first(self) -> int: ...

    @property
    def last(self) -> int: ...
