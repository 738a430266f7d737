"""Handle-phase handlers: ask the sources, then answer every IA of the message (RFC 8415 §18.3).

Bindings live in the shared lease store, one record per address (``LeaseKind.NA``) or delegated
prefix (``LeaseKind.PD``), keyed by IAID + DUID, so several IAs of one client are independent.
An ADVERTISE holds what it offers (OFFERED, never written); a REPLY that grants something
commits it (durable before the reply leaves: the runtime flushes first). Fixed assignments
(static sources, the bridge) are the source's word: they are advertised without a hold and a
REQUEST takes them over from another client that still has them (a replaced CPE on the same
line; the old one's RENEW then gets lifetimes 0). Dynamic ones come from the link's pools
through one atomic ``allocate`` per IA.
"""

from __future__ import annotations

import struct
import zlib
from typing import Final

from dhcpbridge.engine import core
from dhcpbridge.engine.core import RelayNames, lease_template
from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.limits import Group, LeaseCaps
from dhcpbridge.engine.model import Action, Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.ports import AddressRange
from dhcpbridge.engine.subnets import in_ranges
from dhcpbridge.engine.v6 import leasequery, reconfigure, relay_record
from dhcpbridge.engine.v6.classify import (
    CONFIRM,
    DECLINE,
    REBIND,
    RELEASE,
    RENEW,
    REPLY,
    REQUEST,
    SOLICIT,
)
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.ia import ZERO8, ia_entry, ia_wire, status_ia
from dhcpbridge.engine.v6.subnet import Subnet6, class_lifetimes
from dhcpbridge.engine.v6.transaction import IaRequest, Transaction6, ip6_str
from dhcpbridge.wire.v6.options import Encoded, MessageType6, StatusCode6

# Final: compiled, a module constant is a C static, not a lookup in the module's dict per use
NA: Final = LeaseKind.NA
PD: Final = LeaseKind.PD
ADVERTISE: Final = MessageType6.ADVERTISE
BOUND: Final = LeaseState.BOUND
OFFERED: Final = LeaseState.OFFERED
RELEASED: Final = LeaseState.RELEASED
DECLINED: Final = LeaseState.DECLINED
# SOLICIT and REQUEST as int literals: compiled, the message type is compared without a call
_SOLICIT: Final = 1
_REQUEST: Final = 3

_PAIR: Final = struct.Struct("!II")
_crc32: Final = zlib.crc32

NO_ADDRS = (StatusCode6.NO_ADDRS_AVAIL, "no addresses available")
NO_PREFIX = (StatusCode6.NO_PREFIX_AVAIL, "no prefixes available")
NO_BINDING = (StatusCode6.NO_BINDING, "no binding for this IA")
NOT_ON_LINK = (StatusCode6.NOT_ON_LINK, "address not appropriate for this link")


ASKED: Final = frozenset({SOLICIT, REQUEST, RENEW, REBIND})


class AskSources(core.AskSources[Transaction6]):
    """Ask the source chain what this client should get (SOLICIT, REQUEST, RENEW, REBIND)."""

    def __init__(self, env: Env6) -> None:
        super().__init__(env, SOLICIT)
        self.env6 = env
        self.links = env.answer_links  # bridge-only: ask without a link (the answer makes it)

    def wanted(self, tx: Transaction6) -> bool:
        return (tx.subnet is not None or self.links) and bool(tx.ias) and tx.msg_type_code in ASKED

    async def _ask(self, tx: Transaction6) -> None:
        # only here (the sources are awaited: a bridge question may be built) the transaction
        # learns the host, for the question's ``server_ip``; the inline path never pays for it
        tx.host = self.env6.host
        await super()._ask(tx)


class Bindings(Handler[Transaction6]):
    """Answers each IA_NA / IA_PD (and IA_TA: never served) of the message; see the module docstring."""

    def __init__(self, env: Env6) -> None:
        self.env = env
        self._relay_names = RelayNames(ip6_str)

    async def handle(self, tx: Transaction6) -> None:
        kind = tx.msg_type_code
        if kind in (_SOLICIT, _REQUEST):  # the hot path: one coroutine for the whole message
            subnet = tx.subnet
            if subnet is None:
                raise CannotRespond("no-subnet", f"link {tx.relay_ip or tx.meta.ifname}")
            rapid = kind == _SOLICIT and tx.rapid_commit and subnet.rapid_commit
            commit = kind == _REQUEST or rapid
            answer = tx.answer
            denied = answer is None or answer.action is not Action.ASSIGN
            used: set[tuple[int, int]] = set()
            out = tx.reply_ias
            grant = self._grant(tx, subnet)
            for ia in tx.ias:
                if denied:
                    out.append(self._status_ia(ia, NO_ADDRS if ia.kind == NA else NO_PREFIX))
                    continue
                if kind == _REQUEST and ia.kind == NA and not subnet.contains_all(ia.hints):
                    out.append(self._status_ia(ia, NOT_ON_LINK))  # RFC 8415 §18.3.2
                    continue
                lease = await self._assign(tx, subnet, ia, commit, used, grant[2])
                if lease is None:
                    out.append(self._status_ia(ia, NO_ADDRS if ia.kind == NA else NO_PREFIX))
                else:
                    used.add((lease.address, lease.prefix_len))
                    tx.leases.append(lease)
                    out.append(self._encode_one(ia, grant, lease))
            if not tx.ias:
                tx.status = NO_ADDRS
            if commit:
                tx.reply_type = REPLY
                if rapid:
                    tx.state = "rapid-commit"
            else:
                if not tx.leases:  # RFC 8415 §18.3.9: nothing to offer -> only a NoAddrsAvail status
                    tx.reply_ias = []
                    tx.status = NO_ADDRS
                tx.reply_type = ADVERTISE
        elif kind in (RENEW, REBIND):
            await self._extend_all(tx)
        elif kind == RELEASE:
            await self._release(tx)
        elif kind == DECLINE:
            await self._decline(tx)
        elif kind == CONFIRM:
            self._confirm(tx)
        elif kind == leasequery.LEASEQUERY:  # RFC 5007, only with leasequery-requesters (Classify)
            await leasequery.answer(self.env, tx)
        else:  # INFORMATION-REQUEST: options only
            tx.reply_type = REPLY

    # --- helpers ----------------------------------------------------------------------------
    def _template(
        self, tx: Transaction6, ia: IaRequest, addr: int, length: int, state: LeaseState, until: float
    ) -> Lease:
        subnet = tx.subnet
        link = tx.link_address
        lease = lease_template(
            tx,
            ia.kind,
            ia.key,
            addr,
            length,
            state,
            until,
            tx.client_mac,
            subnet.name if subnet is not None else "",
            self._relay_names.get(link) if link else "",
            "",
        )
        env = self.env
        keep_relays = bool(env.leasequery_requesters)
        if env.reconfigure_secret and reconfigure.accepts(env, tx):
            lease.info = reconfigure.mark(lease.info)
            keep_relays = True
        if keep_relays and tx.relays and state == BOUND:  # engine/v6/relay_record.py
            lease.info = {**(lease.info or {}), relay_record.KEY: relay_record.record(tx, env.relay_port)}
        return lease

    def _grant(self, tx: Transaction6, subnet: Subnet6) -> tuple[bytes, bytes, int]:
        """(packed preferred + valid lifetime, packed T1 + T2, valid lifetime) of this reply: the
        subnet's, or shorter when the source gave a lease time (T1 <= T2 <= preferred then), or
        a class's ``valid-lifetime`` / ``preferred-lifetime`` (the first class that has one)."""
        answer = tx.answer
        preferred = subnet.preferred
        if answer is not None and answer.lease_time:
            valid = answer.lease_time
        elif tx.classes and self.env.class_lifetimes:
            valid, preferred = class_lifetimes(self.env.class_lifetimes, tx.classes, subnet)
            if valid == subnet.valid and preferred == subnet.preferred:
                return subnet.life_wire, subnet.timers_wire, subnet.valid
            preferred = min(preferred, valid)
            t1, t2 = min(subnet.t1, preferred // 2), min(subnet.t2, preferred * 4 // 5)
            return _PAIR.pack(preferred, valid), _PAIR.pack(t1, t2), valid
        else:
            return subnet.life_wire, subnet.timers_wire, subnet.valid
        if valid >= subnet.valid:
            return subnet.life_wire, subnet.timers_wire, subnet.valid
        preferred = min(subnet.preferred, valid)
        t1, t2 = min(subnet.t1, preferred // 2), min(subnet.t2, preferred * 4 // 5)
        return _PAIR.pack(preferred, valid), _PAIR.pack(t1, t2), valid

    @staticmethod
    def _fixed(tx: Transaction6, ia: IaRequest, used: set[tuple[int, int]]) -> tuple[int, int] | None:
        """The fixed assignment the answer has for this IA: one the client already names, else
        the first not yet given to another IA of this message."""
        answer = tx.answer
        if answer is None or not (answer.addresses6 or answer.prefixes) or answer.action is not Action.ASSIGN:
            return None
        if ia.kind == NA:
            subnet = tx.subnet
            fixed = [(a, 128) for a in answer.addresses6 if subnet is not None and subnet.contains(a)]
        else:
            fixed = list(answer.prefixes)
        if not fixed:
            return None
        for hint in ia.hints:
            if hint in fixed and hint not in used:
                return hint
        for entry in fixed:
            if entry not in used:
                return entry
        return None

    @staticmethod
    def _fixed_set(tx: Transaction6, kind: LeaseKind) -> frozenset[tuple[int, int]]:
        answer = tx.answer
        if answer is None or answer.action is not Action.ASSIGN:
            return frozenset()
        if kind == NA:
            return frozenset((a, 128) for a in answer.addresses6)
        return frozenset(answer.prefixes)

    @staticmethod
    def _encode_ia(
        ia: IaRequest, grant: tuple[bytes, bytes, int], granted: list[Lease], zero: list[tuple[int, int]]
    ) -> Encoded:
        life, timers, _ = grant
        code = ia.code
        parts = [ia_entry(code, lease.address, lease.prefix_len, life) for lease in granted]
        parts.extend(ia_entry(code, addr, length, ZERO8) for addr, length in zero)
        return ia_wire(code, ia.iaid, timers if granted else ZERO8, b"".join(parts))

    @staticmethod
    def _encode_one(ia: IaRequest, grant: tuple[bytes, bytes, int], lease: Lease) -> Encoded:
        """The IA with one granted address or prefix (the hot path of :meth:`_encode_ia`)."""
        code = ia.code
        return ia_wire(code, ia.iaid, grant[1], ia_entry(code, lease.address, lease.prefix_len, grant[0]))

    @staticmethod
    def _status_ia(ia: IaRequest | tuple[int, int], status: tuple[int, str]) -> Encoded:
        code, iaid = (ia.code, ia.iaid) if isinstance(ia, IaRequest) else ia
        return status_ia(code, iaid, status)

    # --- SOLICIT / REQUEST ------------------------------------------------------------------
    async def _assign(
        self,
        tx: Transaction6,
        subnet: Subnet6,
        ia: IaRequest,
        commit: bool,
        used: set[tuple[int, int]],
        valid: int,
    ) -> Lease | None:
        env = self.env
        answer = tx.answer
        fixed = (
            self._fixed(tx, ia, used)
            if answer is not None and (answer.addresses6 or answer.prefixes)
            else None
        )
        if fixed is not None:
            addr, length = fixed
            if not commit:  # the source reserved it for this client: no hold needed
                return self._template(tx, ia, addr, length, OFFERED, tx.now + env.offer_hold)
            return await self._commit(tx, ia, addr, length, tx.now + valid, takeover=True)
        if answer is None or not answer.dynamic:
            return None
        if not subnet.siblings:
            return await self._dynamic(tx, subnet, ia, commit, used, valid)
        if not await self._room(tx, ia):
            return None
        for member in await self._members(tx, subnet, ia):  # [[shared-network]]: the next when full
            lease = await self._dynamic(tx, member, ia, commit, used, valid, True)
            if lease is not None:
                return lease
        return None

    async def _members(self, tx: Transaction6, subnet: Subnet6, ia: IaRequest) -> list[Subnet6]:
        """The members of the shared network to try: the one with this IA's lease (or hint)
        first, then the selected link, then the others in order."""
        members = [subnet, *subnet.siblings]
        held = [lease.address for lease in await self.env.store.find_client(ia.kind, ia.key)]
        for addr in [*held, *(a for a, _ in ia.hints)]:
            home = subnet.member_for(addr)
            if home is not None:
                members.remove(home)
                members.insert(0, home)
                break
        return members

    async def _dynamic(
        self,
        tx: Transaction6,
        subnet: Subnet6,
        ia: IaRequest,
        commit: bool,
        used: set[tuple[int, int]],
        valid: int,
        room: bool = False,
    ) -> Lease | None:
        """A dynamic address / prefix from ``subnet``'s pools (``room``: the caps were checked)."""
        env = self.env
        store = env.store
        answer = tx.answer
        assert answer is not None
        tiers: tuple[tuple[AddressRange, ...], ...]
        if ia.kind == PD:  # kept for its classes first (deny-unknown: for known clients only)
            tiers = subnet.pd_tiers(ia.hints[0][1] if ia.hints else 0, tx.classes, answer.known)
        elif subnet.restricted:
            tiers = subnet.pool_tiers(tx.classes, answer.known)
        else:
            tiers = (subnet.pools,)
        if not tiers or not tiers[0] or not (room or await self._room(tx, ia)):
            return None
        prefer = 0
        for addr, length in ia.hints:
            if not addr or addr in env.reserved or (used and (addr, length) in used):
                continue
            if (ia.kind == NA and subnet.in_pools_for(addr, tx.classes, answer.known)) or (
                ia.kind == PD and subnet.in_pd_pools_for(addr, length, tx.classes, answer.known)
            ):
                prefer = addr
                if commit:
                    lease = await store.commit(
                        self._template(tx, ia, addr, length, BOUND, tx.now + valid), tx.now
                    )
                    if lease is not None:
                        tx.effects.append(LeaseEvent("commit", lease, tx))
                        return lease
                break
        lease = None
        for ranges in tiers:
            length = 128 if ia.kind == NA else _range_length(ranges, ranges[0].first)
            lease = await store.allocate(
                Hold(
                    self._template(tx, ia, 0, length, OFFERED, tx.now + env.offer_hold),
                    ranges,
                    tx.now,
                    _crc32(ia.key),
                    env.reserved,
                    prefer if in_ranges(ranges, prefer) else 0,
                )
            )
            if lease is not None:
                break
        if lease is None:
            return None
        if ia.kind == PD:
            lease.prefix_len = _range_length(ranges, lease.address)
        if not commit:
            if env.caps.on:
                env.caps.hold(_groups(tx, env.caps), tx.duid, lease.expires)
            return lease
        lease = await store.commit(
            self._template(tx, ia, lease.address, lease.prefix_len, BOUND, tx.now + valid), tx.now
        )
        if lease is not None:
            tx.effects.append(LeaseEvent("commit", lease, tx))
            if env.caps.on:
                env.caps.hold(_groups(tx, env.caps), tx.duid, lease.expires)
        return lease

    async def _room(self, tx: Transaction6, ia: IaRequest) -> bool:
        """Whether this IA may get a dynamic address / prefix under ``max-leases-per-duid`` (all IAs
        of the DUID together; an IA that already holds one keeps it). Exact and cheap: the store
        is asked per IA only when this message could reach the cap. A refusal is counted."""
        env = self.env
        caps = env.caps
        if caps.on:
            why = caps.refuse(_groups(tx, caps), tx.duid, tx.now)
            if why and not await self._holds(tx, ia):
                env.stats.refused[why] += 1
                return False
        counter = getattr(env.store, "duid_lease_count", None)
        if counter is None:  # a store that cannot count per DUID: only the per-message caps apply
            return True
        cap = env.max_leases_per_duid
        held = tx.duid_held
        if held < 0:
            held = tx.duid_held = int(counter(tx.duid, tx.now))
            if held + len(tx.ias) <= cap:
                tx.duid_held = 0  # this message cannot reach the cap: no more checks
                tx.duid_room = True
        if tx.duid_room:
            return True
        if await self._holds(tx, ia):
            return True  # the IA has its own already: no new lease
        if held < cap:
            tx.duid_held = held + 1
            return True
        env.stats.refused["duid-lease-cap"] += 1
        return False

    async def _holds(self, tx: Transaction6, ia: IaRequest) -> bool:
        """Whether the IA holds an address / prefix already (offered or bound, unexpired)."""
        for lease in await self.env.store.find_client(ia.kind, ia.key):
            if lease.expires > tx.now and lease.state in (BOUND, OFFERED):
                return True
        return False

    async def _commit(
        self, tx: Transaction6, ia: IaRequest, addr: int, length: int, until: float, takeover: bool
    ) -> Lease | None:
        store = self.env.store
        lease = await store.commit(self._template(tx, ia, addr, length, BOUND, until), tx.now)
        if lease is None and takeover:
            current = await store.get(ia.kind, addr)
            if current is not None and current.client != ia.key:
                gone = await store.release(ia.kind, addr, current.client, tx.now)
                if gone is not None:
                    tx.effects.append(LeaseEvent("release", gone, tx))
                lease = await store.commit(self._template(tx, ia, addr, length, BOUND, until), tx.now)
        if lease is not None:
            tx.effects.append(LeaseEvent("commit", lease, tx))
        return lease

    # --- RENEW / REBIND ---------------------------------------------------------------------
    async def _extend_all(self, tx: Transaction6) -> None:
        subnet = tx.subnet
        if subnet is None:  # RFC 8415 §18.3.4/§18.3.6: we cannot tell what is appropriate here
            raise CannotRespond("no-subnet", f"link {tx.relay_ip or tx.meta.ifname}")
        out = tx.reply_ias
        for ia in tx.ias:
            out.append(await self._extend(tx, subnet, ia))
        tx.reply_type = REPLY

    def _appropriate(self, tx: Transaction6, subnet: Subnet6, ia: IaRequest, addr: int, length: int) -> bool:
        """Whether the client may keep this address/prefix on this link now."""
        answer = tx.answer
        if answer is None or answer.action is not Action.ASSIGN:
            return False
        if subnet.siblings:  # [[shared-network]]: judged by the member the address is in
            subnet = subnet.member_for(addr) or subnet
        if (addr, length) in self._fixed_set(tx, ia.kind):
            return ia.kind == PD or subnet.contains(addr)
        if not answer.dynamic or addr in self.env.reserved:
            return False
        if ia.kind == NA:
            return subnet.in_pools_for(addr, tx.classes, answer.known)
        return subnet.in_pd_pools_for(addr, length, tx.classes, answer.known)

    async def _extend(self, tx: Transaction6, subnet: Subnet6, ia: IaRequest) -> Encoded:
        store = self.env.store
        now = tx.now
        held = [
            lease
            for lease in await store.find_client(ia.kind, ia.key)
            if lease.state == BOUND and lease.expires > now
        ]
        ours = {(lease.address, lease.prefix_len) for lease in held}
        fixed = self._fixed_set(tx, ia.kind)
        wanted = dict.fromkeys(h for h in ia.hints if h[0])
        for entry in ours:
            wanted.setdefault(entry)
        renew: list[tuple[int, int]] = []
        zero: list[tuple[int, int]] = []
        for addr, length in wanted:
            if ((addr, length) in ours or (addr, length) in fixed) and self._appropriate(
                tx, subnet, ia, addr, length
            ):
                renew.append((addr, length))
            elif (addr, length) in ours or not self._appropriate(tx, subnet, ia, addr, length):
                zero.append((addr, length))  # no longer for this client here: lifetimes 0
        if not renew:
            if not zero:  # the client named nothing and has nothing here
                fixed_entry = self._fixed(tx, ia, set())
                if fixed_entry is None:
                    return self._status_ia(ia, NO_BINDING)
                renew.append(fixed_entry)
            elif not any(z in ours for z in zero) and all(
                self._appropriate(tx, subnet, ia, *z) for z in zero
            ):
                return self._status_ia(ia, NO_BINDING)  # addresses of this link we never bound to it
        grant = self._grant(tx, subnet)
        valid = grant[2]
        granted = []
        for addr, length in renew:
            # no takeover here: a device that lost its line's prefix to a newer one hears so
            lease = await self._commit(tx, ia, addr, length, now + valid, takeover=False)
            if lease is None:
                zero.append((addr, length))
            else:
                granted.append(lease)
                tx.leases.append(lease)
        for addr, length in zero:
            if (addr, length) in ours:  # withdrawn with lifetime 0: free in the store as well
                gone = await store.release(ia.kind, addr, ia.key, now)
                if gone is not None:
                    tx.effects.append(LeaseEvent("release", gone, tx))
        if not granted and _moved(subnet, held):  # bound on another link: a new one here (as Kea)
            lease = await self._assign(tx, subnet, ia, True, set(zero), valid)
            if lease is not None:
                granted.append(lease)
                tx.leases.append(lease)
        return self._encode_ia(ia, grant, granted, zero)

    # --- RELEASE / DECLINE / CONFIRM --------------------------------------------------------
    async def _release(self, tx: Transaction6) -> None:
        await self._let_go(tx, "release", 0.0)

    async def _decline(self, tx: Transaction6) -> None:
        await self._let_go(tx, "decline", tx.now + self.env.decline_probation)

    async def _let_go(self, tx: Transaction6, event: str, until: float) -> None:
        """RELEASE (RFC 8415 §18.3.7) or DECLINE (§18.3.8, addresses only, quarantined until
        ``until``) of every address the IAs name; NoBinding for an IA without any of ours."""
        store = self.env.store
        for ia in tx.ias:
            if event == "decline" and ia.kind != NA:
                continue
            found = False
            for addr, _ in ia.hints:
                if event == "release":
                    lease = await store.release(ia.kind, addr, ia.key, tx.now)
                    if lease is None and self.env.unkept_source:  # store = none: tell the bridge
                        lease = self._template(tx, ia, addr, _hint_length(ia, addr), RELEASED, tx.now)
                        lease.source = self.env.unkept_source
                else:
                    lease = await self._decline_one(tx, ia, addr, until)
                if lease is not None:
                    found = True
                    tx.leases.append(lease)
                    tx.effects.append(LeaseEvent(event, lease, tx))
            if not found:
                tx.reply_ias.append(self._status_ia(ia, NO_BINDING))
        tx.status = (StatusCode6.SUCCESS, event + "d")
        tx.reply_type = REPLY
        caps = self.env.caps
        if caps.on and event == "release":
            caps.forget(_groups(tx, caps), tx.duid)

    async def _decline_one(self, tx: Transaction6, ia: IaRequest, addr: int, until: float) -> Lease | None:
        """Quarantine ``addr`` only when it is bound (acknowledged) to this IA, within the DECLINE
        rate limits (per DUID and server-wide; refusals are counted)."""
        env = self.env
        store = env.store
        current = await store.get(NA, addr)
        if current is None and env.unkept_source:  # store = none: the bridge hears of it
            if env.declines.check(tx.duid, tx.now):
                return None
            lease = self._template(tx, ia, addr, 128, DECLINED, until)
            lease.source = env.unkept_source
            return lease
        if current is None or current.client != ia.key or current.state != BOUND or current.expires <= tx.now:
            return None
        refused = env.declines.check(tx.duid, tx.now)
        if refused:
            env.stats.refused[refused] += 1
            return None
        return await store.decline(NA, addr, ia.key, tx.now, until)

    @staticmethod
    def _confirm(tx: Transaction6) -> None:
        """RFC 8415 §18.3.3: Success if every address is on the client's link, NotOnLink if any
        is not, silence if there is no address or we do not know the link."""
        addresses = [a for ia in tx.ias if ia.kind == NA for a, _ in ia.hints]
        if not addresses:
            raise CannotRespond("confirm-without-addresses")
        subnet = tx.subnet
        if subnet is None:
            raise CannotRespond("no-subnet", f"link {tx.relay_ip or tx.meta.ifname}")
        if all(subnet.member_for(a) is not None for a in addresses):
            tx.status = (StatusCode6.SUCCESS, "all addresses on link")
        else:
            tx.status = NOT_ON_LINK
        tx.reply_type = REPLY


def _groups(tx: Transaction6, caps: LeaseCaps) -> tuple[Group, ...]:
    """The cap groups of the client: its relay link and Interface-ID, its MAC's prefix."""
    return caps.of(tx.link_address.to_bytes(16, "big"), tx.circuit_id, tx.client_mac)


def _moved(subnet: Subnet6, held: list[Lease]) -> bool:
    """Whether the IA's bindings are in a subnet that is not this link (nor of its shared network)."""
    names = {subnet.name, *(s.name for s in subnet.siblings)}
    return any(lease.subnet and lease.subnet not in names for lease in held)


def _range_length(ranges: tuple[AddressRange, ...], addr: int) -> int:
    for r in ranges:
        if r.first <= addr <= r.last:
            length: int = getattr(r, "length", 128)
            return length
    return 128


def _hint_length(ia: IaRequest, addr: int) -> int:
    """The prefix length the client gave with ``addr`` (128 for an address)."""
    for hint, length in ia.hints:
        if hint == addr:
            return length
    return 128
