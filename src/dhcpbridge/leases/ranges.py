"""Pool ranges as every lease store searches them: the members of a range (addresses, or the
prefixes of a stepped delegated-prefix range), and the order a free address is looked for in.

All stores agree on that order, so a client gets the same first address whichever store holds
the pool: the client's ranges are one sequence searched from its hint (modulo the sequence's
size) to the end, then from the start (``segments``); a range too big to search member by member
(an IPv6 /64) is probed at ``PROBES`` pseudo-random members from the hint (``probe``).
Compiled with mypyc (``dhcpbridge._native``): the embedded index calls it on every allocation.
"""

from __future__ import annotations

from collections.abc import Sequence

from dhcpbridge.engine.ports import AddressRange

PROBE_MULT = 0x9E3779B97F4A7C15  # the probe sequence's stride (a 64-bit golden-ratio constant)
PROBES = 64  # members probed in a range too big to search
MAP_LIMIT = 1 << 22  # ranges of more members are too big to search (probed)

Segment = tuple[AddressRange, int, int]  # (range, first member offset, end offset)


def range_step(r: AddressRange) -> int:
    """The distance between two members of ``r`` (1, or a delegated prefix's size)."""
    step: int = getattr(r, "step", 1)
    return step


def range_size(r: AddressRange) -> int:
    """How many members ``r`` has (addresses, or prefixes for a stepped range)."""
    return (r.last - r.first) // range_step(r) + 1


def range_member(r: AddressRange, addr: int) -> bool:
    """Whether ``addr`` is a member of ``r``."""
    if not r.first <= addr <= r.last:
        return False
    step = range_step(r)
    return step == 1 or not (addr - r.first) % step


def in_ranges(ranges: Sequence[AddressRange], addr: int) -> bool:
    """Whether ``addr`` is a member of any of ``ranges``."""
    return any(range_member(r, addr) for r in ranges)


def probe(r: AddressRange, hint: int, attempt: int) -> int:
    """The ``attempt``-th member probed in ``r`` for ``hint`` (``0 <= attempt < PROBES``)."""
    return r.first + ((hint + attempt * PROBE_MULT) % range_size(r)) * range_step(r)


def segments(ranges: Sequence[AddressRange], hint: int) -> list[Segment]:
    """The ranges as one sequence searched from ``hint`` (modulo its size) to the end, then from
    the start: the pieces in search order, a range cut at the start point giving two."""
    if len(ranges) == 1:  # one range (the common pool): the same pieces without the lists below
        r = ranges[0]
        size = range_size(r)
        if size <= 0:
            return []
        start = hint % size
        return [(r, start, size), (r, 0, start)] if start else [(r, 0, size)]
    sizes = [range_size(r) for r in ranges]
    total = sum(sizes)
    if total <= 0:
        return []
    start = hint % total
    head: list[Segment] = []
    tail: list[Segment] = []
    offset = 0
    for i in range(len(ranges)):
        r = ranges[i]
        size = sizes[i]
        if start >= offset + size:
            tail.append((r, 0, size))
        elif start >= offset:
            head.append((r, start - offset, size))
            if start > offset:
                tail.append((r, 0, start - offset))
        else:
            head.append((r, 0, size))
        offset += size
    return head + tail
