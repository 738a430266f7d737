"""An in-memory lease table: the single-process truth behind the memory and SQLite stores.

Lookups by address and by client are dicts; free addresses of a pool range are found with a
``bytearray`` occupancy map per range (``find(b"\\0", start)`` runs in C), searched from a stable
per-client hint so a returning client tends to land on the same address. Ranges too large for a
map (IPv6 /64 pools) are searched by hashing instead. A range may have a ``step`` (an IPv6
prefix-delegation pool: its members are ``first + k * step``, each one delegated prefix); ranges
without one step by 1. Expiry is a heap of (expires, address), queued lazily: every active lease
has an entry no later than its expiry, so a renewal or the bind after an offer (a later expiry
than the one queued) queues nothing, and the reaper queues a lease again when an entry comes up
before its time. An offer (OFFERED, never bound) is dropped, from the
table and the by-client index, as soon as its hold time has passed or the client chose another
server (an offer to a returning client on its old address falls back to an expired record, the
history it had); the by-client index never keeps an entry for a client without records.
Memory per lease is kept small: the by-client index holds the address itself (an int) for a
client with one record and a list only for a client with several, the table key, that entry and
the expiry heap share one int object, and the per-DUID index holds a client key, not a set, for a
DUID with one IA.
``persist`` is called with every lease whose change must be durable (never with OFFERED holds).

For the operator's views (the HTTP API's pages, ``stats``) the index keeps the record count per
kind and state up to date in ``put``/``delete``, and an address-ordered list of each kind's
addresses that ``page`` walks from a cursor: ``put`` only notes an address new to the table
(bounded), the list takes in the new ones when someone asks for a page (a merge of two sorted
runs, in C), stale entries are skipped and the list is rebuilt when they outnumber the table.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right, insort
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Final

from dhcpbridge.engine.model import ACTIVE_STATES, Lease, LeaseKind, LeaseState
from dhcpbridge.engine.ports import AddressRange
from dhcpbridge.leases.ranges import MAP_LIMIT, PROBE_MULT, PROBES, in_ranges, range_step, segments

HEAP_SLACK: Final = 4096  # stale expiry entries tolerated beyond twice the table before a rebuild
FRESH_LIMIT = 65536  # new addresses noted for the ordered list; beyond that it is rebuilt instead
STATES: Final = 5  # LeaseState values, for the count index kind * STATES + state
# Final: compiled, these are C statics, not a module-dict lookup (and a class attribute) per use
_V4: Final = LeaseKind.V4
_NA: Final = LeaseKind.NA
_PD: Final = LeaseKind.PD
_OFFERED: Final = LeaseState.OFFERED
_BOUND: Final = LeaseState.BOUND
_heappush: Final = heapq.heappush


def _drop(table: dict[Any, Any], key: Any, value: Any) -> bool:
    """Take ``value`` out of ``table[key]``, one value or a list or set of several (a single one
    left stands alone again); True when that was the key's last value and the key went."""
    had = table.get(key)
    if had is None:
        return False
    if isinstance(had, (list, set)):
        if value in had:
            had.remove(value)
            if len(had) == 1:
                table[key] = next(iter(had))
        return False
    if had != value:
        return False
    del table[key]
    return True


def _held(lease: Lease) -> bool:
    """Whether ``lease`` holds its address (bound, or an offer held), whatever its expiry."""
    state = lease.state
    return state in (_BOUND, _OFFERED)


class _RangeMap:
    __slots__ = ("bits", "first", "last", "step")

    def __init__(self, first: int, last: int, step: int = 1) -> None:
        self.first = first
        self.last = last
        self.step = step
        self.bits = bytearray((last - first) // step + 1)


class LeaseIndex:
    """See the module docstring. All methods are synchronous and atomic by construction."""

    def __init__(self, persist: Callable[[Lease], None] | None = None) -> None:
        self.by_addr: dict[LeaseKind, dict[int, Lease]] = {k: {} for k in LeaseKind}
        # client -> its address (one record, the common case) or its addresses, most recent last
        self.by_client: dict[LeaseKind, dict[bytes, int | list[int]]] = {k: {} for k in LeaseKind}
        self._maps: dict[LeaseKind, list[_RangeMap]] = {k: [] for k in LeaseKind}
        self._map_firsts: dict[LeaseKind, list[int]] = {k: [] for k in LeaseKind}
        self._map_span: dict[LeaseKind, int] = dict.fromkeys(LeaseKind, 0)
        self._map_by_key: dict[tuple[LeaseKind, int, int, int], _RangeMap] = {}
        # expiry times of active leases: each has an entry at or before its expiry (see put and
        # reap); entries of leases gone or inactive are skipped when they come up, and the heap
        # is rebuilt from the table if they ever make it outgrow it
        self._heap: list[tuple[float, int, int]] = []
        self._heap_limit = HEAP_SLACK
        self._persist = persist or (lambda lease: None)
        self._reaped_early: list[Lease] = []  # expired by an allocation, reported by the next reap()
        # DHCPv6 client keys are IAID (4 bytes) + DUID: per kind, the keys of each DUID with
        # records (the key itself for one, a set for several), so the leases of one DUID across
        # all its IAs can be counted (the per-DUID cap)
        self._duid_keys: dict[LeaseKind, dict[bytes, bytes | set[bytes]]] = {k: {} for k in LeaseKind}
        # offers made to a returning client on the address of its own earlier record
        self._reoffered: set[tuple[LeaseKind, int]] = set()
        self._loading = False  # between begin_load and end_load: the heap is built once, at the end
        # records per kind and state, at kind * STATES + state (see ``counts``)
        self._counts: list[int] = [0] * (max(LeaseKind) * STATES + STATES)
        # per kind: its addresses in order (may hold stale and repeated ones), the addresses new
        # to the table since the list last took them in, and whether too many came to note
        self._order: dict[LeaseKind, list[int]] = {k: [] for k in LeaseKind}
        self._fresh: dict[LeaseKind, list[int]] = {k: [] for k in LeaseKind}
        self._overflow: dict[LeaseKind, bool] = dict.fromkeys(LeaseKind, False)

    # --- bookkeeping ------------------------------------------------------------------------
    def _mark(self, kind: LeaseKind, addr: int, taken: bool) -> None:
        maps = self._maps[kind]
        if not maps:
            return
        firsts = self._map_firsts[kind]
        i = bisect_right(firsts, addr) - 1
        floor = addr - self._map_span[kind]
        flag = 1 if taken else 0
        while i >= 0:
            rm = maps[i]
            if rm.first < floor:
                break
            if addr <= rm.last:
                if rm.step == 1:
                    rm.bits[addr - rm.first] = flag
                else:
                    slot, off = divmod(addr - rm.first, rm.step)
                    if not off:
                        rm.bits[slot] = flag
            i -= 1

    def _map_for(self, kind: LeaseKind, first: int, last: int, step: int = 1) -> _RangeMap:
        key = (kind, first, last, step)
        rm = self._map_by_key.get(key)
        if rm is None:
            rm = _RangeMap(first, last, step)
            for addr, lease in self.by_addr[kind].items():
                if first <= addr <= last and lease.state in ACTIVE_STATES:
                    slot, off = divmod(addr - first, step)
                    if not off:
                        rm.bits[slot] = 1
            self._map_by_key[key] = rm
            maps = self._maps[kind]
            i = bisect_right(self._map_firsts[kind], first)
            maps.insert(i, rm)
            insort(self._map_firsts[kind], first)
            self._map_span[kind] = max(self._map_span[kind], last - first)
        return rm

    def put(self, lease: Lease, durable: bool) -> Lease:
        """Store ``lease`` as the record of its address (replacing any other client's)."""
        kind = lease.kind
        addr = lease.address  # one int object for the table key, the client index and the heap
        client = lease.client
        table = self.by_addr[kind]
        old = table.get(addr)
        table[addr] = lease
        if old is not lease:
            counts = self._counts
            base = kind * STATES
            if old is not None:
                counts[base + old.state] -= 1
            else:
                fresh = self._fresh[kind]
                if len(fresh) < FRESH_LIMIT:
                    fresh.append(addr)
                else:
                    self._overflow[kind] = True
            counts[base + lease.state] += 1
        if self._reoffered and lease.state != _OFFERED:
            self._reoffered.discard((kind, addr))
        if old is not None and old.client != client:
            self._unlink(kind, old.client, addr)  # the address is another client's now
        clients = self.by_client[kind]
        had = clients.get(client)
        if had is None:
            clients[client] = addr
            if kind != _V4:
                self._link_duid(kind, client)
        elif isinstance(had, int):
            if had != addr:
                clients[client] = [had, addr]
        elif had[-1] != addr:
            if addr in had:
                had.remove(addr)
            had.append(addr)
        active = lease.state in ACTIVE_STATES
        if old is None or (old.state in ACTIVE_STATES) != active:
            self._mark(kind, addr, active)
        if (
            active
            and not self._loading
            and (old is None or old is lease or old.state not in ACTIVE_STATES or lease.expires < old.expires)
        ):  # an active ``old`` has an entry no later than its expiry: a later expiry needs none
            heap = self._heap
            _heappush(heap, (lease.expires, kind, addr))
            if len(heap) > self._heap_limit:
                self._compact_heap()
        if durable:
            self._persist(lease)
        return lease

    def _compact_heap(self) -> None:
        """Drop the stale entries: one entry per active lease. Renewals queue nothing, but
        shortened expiries and leases that go inactive and active again can still leave entries
        behind; this runs when the heap holds twice as many entries as there are leases (plus
        slack), so it costs O(1) per put on average and memory stays bounded."""
        heap: list[tuple[float, int, int]] = [
            (lease.expires, kind, addr)
            for kind, table in self.by_addr.items()
            for addr, lease in table.items()
            if lease.state in ACTIVE_STATES
        ]
        heapq.heapify(heap)
        self._heap = heap
        self._heap_limit = 2 * sum(len(table) for table in self.by_addr.values()) + HEAP_SLACK

    def load(self, lease: Lease) -> None:
        """Add a lease read back from durable storage (no persist)."""
        self.put(lease, durable=False)

    def begin_load(self) -> None:
        """Many ``load``/``delete`` calls follow (a restart): skip the expiry heap until
        ``end_load`` builds it once from the table (faster than a push per lease)."""
        self._loading = True

    def end_load(self) -> None:
        self._loading = False
        self._compact_heap()

    def _unlink(self, kind: LeaseKind, client: bytes, addr: int) -> None:
        """Forget ``addr`` in ``client``'s entry of the by-client index, and the entry once empty:
        the index holds no entry for a client without records (bounded by the table)."""
        if _drop(self.by_client[kind], client, addr) and kind != _V4:
            _drop(self._duid_keys[kind], client[4:], client)

    def _addrs(self, kind: LeaseKind, client: bytes) -> list[int]:
        """The addresses of ``client``'s records, most recent last (empty when none)."""
        had = self.by_client[kind].get(client)
        if had is None:
            return []
        if isinstance(had, int):
            return [had]
        return had

    def _link_duid(self, kind: LeaseKind, client: bytes) -> None:
        keys = self._duid_keys[kind]
        duid = client[4:]
        had = keys.get(duid)
        if had is None:
            keys[duid] = client
        elif isinstance(had, bytes):
            if had != client:
                keys[duid] = {had, client}
        else:
            had.add(client)

    def delete(self, kind: LeaseKind, addr: int) -> None:
        lease = self.by_addr[kind].pop(addr, None)
        if lease is not None:
            self._counts[kind * STATES + lease.state] -= 1
            self._reoffered.discard((kind, addr))
            self._unlink(kind, lease.client, addr)
            if lease.state in ACTIVE_STATES:
                self._mark(kind, addr, False)

    # --- queries ----------------------------------------------------------------------------
    def get(self, kind: LeaseKind, addr: int) -> Lease | None:
        return self.by_addr[kind].get(addr)

    def find_client(self, kind: LeaseKind, client: bytes) -> list[Lease]:
        addrs = self._addrs(kind, client)
        if not addrs:
            return []
        table = self.by_addr[kind]
        out = []
        for addr in reversed(addrs):
            lease = table.get(addr)
            if lease is not None and lease.client == client:
                out.append(lease)
        return out

    def find_duid(self, kind: LeaseKind, duid: bytes) -> list[Lease]:
        """Every record of ``kind`` keyed IAID + ``duid`` (any IAID, any state)."""
        keys = self._duid_keys[kind].get(duid)
        if keys is None:
            return []
        out: list[Lease] = []
        for client in [keys] if isinstance(keys, bytes) else keys:
            out.extend(self.find_client(kind, client))
        return out

    def duid_lease_count(self, duid: bytes, now: float) -> int:
        """How many addresses and prefixes (IA_NA + IA_PD records keyed IAID + ``duid``) are held
        for one DUID now: bound or offered, not yet expired."""
        return self._duid_held(_NA, duid, now) + self._duid_held(_PD, duid, now)

    def _duid_held(self, kind: LeaseKind, duid: bytes, now: float) -> int:
        """``duid_lease_count`` for one kind."""
        keys = self._duid_keys[kind].get(duid)
        if keys is None:
            return 0
        table = self.by_addr[kind]
        if isinstance(keys, bytes):  # one IA (the common case): no list to iterate
            return self._held_now(table, keys, self.by_client[kind].get(keys), now)
        count = 0
        for client in keys:
            count += self._held_now(table, client, self.by_client[kind].get(client), now)
        return count

    @staticmethod
    def _held_now(table: dict[int, Lease], client: bytes, addrs: int | list[int] | None, now: float) -> int:
        """How many of ``client``'s records (its by-client entry ``addrs``) are held now."""
        if addrs is None:
            return 0
        if isinstance(addrs, int):
            lease = table.get(addrs)
            return int(lease is not None and lease.client == client and lease.expires > now and _held(lease))
        count = 0
        for addr in addrs:
            lease = table.get(addr)
            if lease is not None and lease.client == client and lease.expires > now and _held(lease):
                count += 1
        return count

    # --- atomic state changes ---------------------------------------------------------------
    def _hold(self, lease: Lease, current: Lease | None, now: float) -> Lease:
        """Hold ``lease.address`` for ``lease.client``, which is known to be free for it."""
        if (
            current is not None
            and current.client == lease.client
            and current.state == _BOUND
            and current.expires > now
        ):
            return current  # already bound to this client: keep the real lease untouched
        lease.state = _OFFERED
        held = self.put(lease, durable=False)
        if current is not None and current.client == lease.client and current.state != _OFFERED:
            self._reoffered.add((lease.kind, lease.address))  # a returning client: its history stays
        return held

    def _offer_ended(self, lease: Lease) -> None:
        """An offer lapsed or was given up: a never-bound offer leaves nothing behind; one made to
        a returning client on its old address leaves an expired record (the history it had)."""
        key = (lease.kind, lease.address)
        if key in self._reoffered:
            self._reoffered.discard(key)
            self.put(replace(lease, state=LeaseState.EXPIRED, expires=lease.starts), durable=False)
        else:
            self.delete(lease.kind, lease.address)

    def offer(self, lease: Lease, now: float) -> Lease | None:
        current = self.by_addr[lease.kind].get(lease.address)
        if current is not None and not current.is_free_for(lease.client, now):
            return None
        return self._hold(lease, current, now)

    def commit(self, lease: Lease, now: float) -> Lease | None:
        current = self.by_addr[lease.kind].get(lease.address)
        if current is not None and not current.is_free_for(lease.client, now):
            return None
        if current is not None and current.client == lease.client and current.state == _BOUND:
            lease.starts = min(current.starts, lease.starts) if current.expires > now else lease.starts
        lease.state = _BOUND
        return self.put(lease, durable=True)

    def allocate(
        self,
        lease: Lease,
        ranges: Sequence[AddressRange],
        now: float,
        hint: int,
        exclude: frozenset[int],
        prefer: int,
    ) -> Lease | None:
        kind = lease.kind
        client = lease.client
        table = self.by_addr[kind]
        own = self._addrs(kind, client)
        if own:
            for addr in reversed(own):
                current = table.get(addr)
                if current is None or current.client != client:
                    continue
                if addr not in exclude and in_ranges(ranges, addr):
                    if current.is_free_for(client, now):
                        lease.address = addr
                        return self._hold(lease, current, now)
                    break
        if prefer and prefer not in exclude and in_ranges(ranges, prefer):
            current = table.get(prefer)
            if current is None or current.is_free_for(client, now):
                lease.address = prefer
                return self._hold(lease, current, now)
        pieces = segments(ranges, hint)  # from ``hint`` to the end, then wrap around
        for attempt in range(2):
            for r, lo, hi in pieces:
                found = self._free_in(kind, r, lo, hi, client, now, hint, exclude)
                if found is not None:
                    lease.address = found
                    lease.state = _OFFERED
                    return self.put(lease, durable=False)
            if attempt or not self._heap or self._heap[0][0] > now:
                break
            # leases expired since the last reaping pass still look taken: reap now and retry
            self._reaped_early += self.reap(now)
        return None

    def _held_by(self, kind: LeaseKind, addr: int, client: bytes) -> Lease | None:
        """The lease of ``addr`` if ``client`` holds it (bound, or an offer held for it)."""
        current = self.by_addr[kind].get(addr)
        if (
            current is None
            or current.client != client
            or current.state not in (LeaseState.BOUND, LeaseState.OFFERED)
        ):
            return None
        return current

    def release(self, kind: LeaseKind, addr: int, client: bytes, now: float) -> Lease | None:
        current = self._held_by(kind, addr, client)
        if current is None:
            return None
        was_bound = current.state == LeaseState.BOUND
        released = replace(current, state=LeaseState.RELEASED, expires=now)
        return self.put(released, durable=was_bound)

    def decline(self, kind: LeaseKind, addr: int, client: bytes, now: float, until: float) -> Lease | None:
        """Quarantine ``addr`` until ``until``: only a lease bound (acknowledged) to ``client`` and
        not yet expired; a mere offer, or anybody else's lease, is not the client's to decline."""
        current = self.by_addr[kind].get(addr)
        if (
            current is None
            or current.client != client
            or current.state != LeaseState.BOUND
            or current.expires <= now
        ):
            return None
        declined = replace(current, state=LeaseState.DECLINED, starts=now, expires=until, hostname="")
        return self.put(declined, durable=True)

    def unhold(self, kind: LeaseKind, addr: int, client: bytes) -> None:
        """Give up an offer held for ``client``: a never-bound offer leaves no record behind."""
        current = self.by_addr[kind].get(addr)
        if current is not None and current.client == client and current.state == LeaseState.OFFERED:
            self._offer_ended(current)

    def _free_in(
        self,
        kind: LeaseKind,
        r: AddressRange,
        lo: int,
        hi: int,
        client: bytes,
        now: float,
        hint: int,
        exclude: frozenset[int],
    ) -> int | None:
        """A free address of ``r`` at member offsets ``lo`` <= i < ``hi``."""
        step = range_step(r)
        size = (r.last - r.first) // step + 1
        if size > MAP_LIMIT:
            return self._probe(kind, r, size, step, client, now, hint, exclude)
        bits = self._map_for(kind, r.first, r.last, step).bits
        table = self.by_addr[kind]
        while lo < hi:
            pos = bits.find(0, lo, hi)
            if pos < 0:
                return None
            addr = r.first + pos * step
            lease = table.get(addr)
            if addr not in exclude and (lease is None or lease.is_free_for(client, now)):
                return addr
            lo = pos + 1
        return None

    def _probe(
        self,
        kind: LeaseKind,
        r: AddressRange,
        size: int,
        step: int,
        client: bytes,
        now: float,
        hint: int,
        exclude: frozenset[int],
    ) -> int | None:
        table = self.by_addr[kind]
        for attempt in range(PROBES):
            addr = r.first + ((hint + attempt * PROBE_MULT) % size) * step
            lease = table.get(addr)
            if addr not in exclude and (lease is None or lease.is_free_for(client, now)):
                return addr
        return None

    def reap(self, now: float) -> list[Lease]:
        expired, self._reaped_early = self._reaped_early, []
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, kind_value, addr = heapq.heappop(heap)
            kind = LeaseKind(kind_value)
            lease = self.by_addr[kind].get(addr)
            if lease is None or lease.state not in ACTIVE_STATES:
                continue
            if lease.expires > now:  # renewed or bound since this entry was queued: queue it anew
                _heappush(heap, (lease.expires, kind_value, addr))
                continue
            if lease.state == LeaseState.OFFERED:  # never bound: nothing to keep (Kea keeps no offers)
                self._offer_ended(lease)
                continue
            was_bound = lease.state == LeaseState.BOUND
            gone = replace(lease, state=LeaseState.EXPIRED)
            self.put(gone, durable=was_bound or lease.state == LeaseState.DECLINED)
            if was_bound:
                expired.append(gone)
        return expired

    def purge(self, before: float) -> list[Lease]:
        """Forget EXPIRED/RELEASED records older than ``before``; return them."""
        gone: list[Lease] = []
        for kind, table in self.by_addr.items():
            old = [
                lease
                for lease in table.values()
                if lease.state in (LeaseState.EXPIRED, LeaseState.RELEASED) and lease.expires < before
            ]
            for lease in old:
                self.delete(kind, lease.address)
            gone += old
        return gone

    def counts(self) -> dict[str, int]:
        """Records per ``{kind}_{state}`` (``v4_bound``), from the counts ``put`` keeps."""
        out: dict[str, int] = {}
        counts = self._counts
        for kind in LeaseKind:
            for state in LeaseState:
                n = counts[kind * STATES + state]
                if n:
                    out[f"{kind.name.lower()}_{state.name.lower()}"] = n
        return out

    def page(self, kind: LeaseKind, after: int, limit: int, state: LeaseState | None = None) -> list[Lease]:
        """Up to ``limit`` records of ``kind`` (in ``state`` when given) with an address above
        ``after``, in address order; the cost follows the records walked, not the table."""
        order = self._ordered(kind)
        table = self.by_addr[kind]
        out: list[Lease] = []
        i = bisect_right(order, after)
        n = len(order)
        last = after
        while i < n and len(out) < limit:
            addr = order[i]
            i += 1
            if addr == last:
                continue  # noted again after it left the table and came back
            lease = table.get(addr)
            if lease is None:
                continue  # left the table
            last = addr
            if state is None or lease.state == state:
                out.append(lease)
        return out

    def _ordered(self, kind: LeaseKind) -> list[int]:
        """``kind``'s address list with the new addresses taken in."""
        order = self._order[kind]
        fresh = self._fresh[kind]
        table = self.by_addr[kind]
        if self._overflow[kind] or len(order) + len(fresh) > 2 * len(table) + HEAP_SLACK:
            order = sorted(table)
            self._order[kind] = order
            self._overflow[kind] = False
        elif fresh:
            order += fresh
            order.sort()  # the sorted list and the new ones: timsort merges the runs
        fresh.clear()
        return order

    def all(self, kind: LeaseKind | None = None) -> list[Lease]:
        kinds = [kind] if kind is not None else list(LeaseKind)
        return [lease for k in kinds for lease in self.by_addr[k].values()]
