"""``[leases] renew-from-cache = true``: a shared store wrapped so that, while it cannot be reached,
a known client may still renew its unchanged lease from this server's local cache; the renewal
is written to the store when it answers again.

The cache holds the BOUND leases this server saw (results of ``commit`` and ``get``), by client
and by address, and forgets what is released, declined or expired. While a call of the shared
store raises ``StoreError``:

* ``get`` of a cached, unexpired address and ``find_client`` of a cached client answer from the
  cache; ``commit`` of the *same address for the same client* (a renewal) is accepted, the lease
  is cached with its new expiry and queued; anything else (a new client, another address, a
  release) raises as before, so it is dropped as ``store-unavailable``;
* ``flush`` still fails when the store accepted a write since the last good flush that may now be
  lost; if only cached renewals are outstanding it returns, so their ACKs leave (the one promise
  this option relaxes: such an ACK is in this server's memory until the store is back);
* once the store answers, the next ``flush`` (the server calls ``replay`` every second) commits
  the queued renewals to it first; one the store refuses (another server bound the address
  meanwhile) is logged and dropped from the cache.

Off by default: with two servers on one store a partitioned server may extend a lease the other
already gave away after it expired there.
"""

from __future__ import annotations

import time
from typing import Any

from dhcpbridge import logs
from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.base import StoreError

log = logs.get("dhcpbridge")
_WRITES = frozenset({"allocate", "offer", "release", "decline", "unhold", "reap"})


class RenewFromCache:
    """Wraps a shared store (every other attribute and capability is the inner store's)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.by_client: dict[tuple[LeaseKind, bytes], Lease] = {}
        self.by_address: dict[tuple[LeaseKind, int], Lease] = {}
        self.pending: dict[tuple[LeaseKind, int], Lease] = {}  # renewals the store has not seen
        self.renewed = 0  # renewals answered from the cache since the start
        self.replayed = 0
        self.refused = 0  # queued renewals the store did not take when it was back
        self._unflushed = False  # the store accepted a write since its last good flush

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name in _WRITES:
            return self._writing(attr)
        return attr

    def _writing(self, call: Any) -> Any:
        async def write(*args: Any, **kwargs: Any) -> Any:
            result = await call(*args, **kwargs)
            self._unflushed = True
            for lease in result if isinstance(result, list) else [result]:
                if isinstance(lease, Lease) and lease.state != LeaseState.BOUND:
                    self._forget(lease)
            return result

        return write

    # --- the cache -------------------------------------------------------------------------
    def _remember(self, lease: Lease) -> None:
        if lease.state == LeaseState.BOUND:
            self.by_client[(lease.kind, lease.client)] = lease
            self.by_address[(lease.kind, lease.address)] = lease
        else:
            self._forget(lease)

    def _forget(self, lease: Lease) -> None:
        key = (lease.kind, lease.address)
        cached = self.by_address.get(key)
        if cached is not None and cached.client == lease.client:
            del self.by_address[key]
            self.by_client.pop((lease.kind, lease.client), None)
            self.pending.pop(key, None)

    def _cached(self, kind: LeaseKind, address: int, now: float) -> Lease | None:
        lease = self.by_address.get((kind, address))
        return lease if lease is not None and lease.expires > now else None

    # --- the calls a renewal makes ----------------------------------------------------------
    async def get(self, kind: LeaseKind, address: int) -> Lease | None:
        try:
            lease: Lease | None = await self.inner.get(kind, address)
        except StoreError:
            cached = self._cached(kind, address, time.time())
            if cached is None:
                raise
            return cached
        if lease is not None:
            self._remember(lease)
        return lease

    async def find_client(self, kind: LeaseKind, client: bytes) -> list[Lease]:
        try:
            leases: list[Lease] = await self.inner.find_client(kind, client)
        except StoreError:
            cached = self.by_client.get((kind, client))
            if cached is None:
                raise
            return [cached]
        return leases

    async def commit(self, lease: Lease, now: float) -> Lease | None:
        try:
            result: Lease | None = await self.inner.commit(lease, now)
        except StoreError:
            cached = self._cached(lease.kind, lease.address, now)
            if cached is None or cached.client != lease.client or lease.state != LeaseState.BOUND:
                raise
            if not self.pending:
                log.warning("lease store unavailable; renewing known clients from the local cache")
            self.pending[(lease.kind, lease.address)] = lease
            self._remember(lease)
            self.renewed += 1
            return lease
        self._unflushed = True
        if result is not None:
            self._remember(result)
            self.pending.pop((result.kind, result.address), None)
        return result

    async def flush(self) -> None:
        try:
            await self._replay()
            await self.inner.flush()
        except StoreError:
            # a write the store took may be lost: its reply is withheld (and not tracked further);
            # with only renewals from the cache outstanding, their replies may go
            unsafe = self._unflushed or not self.pending
            self._unflushed = False
            if unsafe:
                raise
            return
        self._unflushed = False

    async def _replay(self) -> None:
        """Commit the renewals the store has not seen (raises ``StoreError`` while it is away)."""
        for key, lease in list(self.pending.items()):
            result = await self.inner.commit(lease, time.time())
            del self.pending[key]
            self._unflushed = True
            if result is None:
                self.refused += 1
                self._forget(lease)
                log.warning(
                    "a lease renewed from the cache was taken by another client meanwhile",
                    address=lease.address,
                )
            else:
                self.replayed += 1

    async def replay(self) -> None:
        """The server's periodic call: write queued renewals once the store answers again."""
        if self.pending:
            try:
                await self._replay()
                await self.inner.flush()
                self._unflushed = False
            except StoreError:
                return
            log.info("renewals from the local cache written to the lease store", total=self.replayed)
