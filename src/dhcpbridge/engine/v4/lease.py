"""Handle-phase handlers: ask the sources, then run the RFC 2131 lease state machine on the store."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable

from dhcpbridge.engine import core
from dhcpbridge.engine.core import RelayNames, lease_template
from dhcpbridge.engine.hold import Hold
from dhcpbridge.engine.limits import Group, LeaseCaps
from dhcpbridge.engine.model import Action, Lease, LeaseEvent, LeaseKind, LeaseState
from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.subnets import PoolRange, in_ranges
from dhcpbridge.engine.v4 import forcerenew, leasequery
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.subnet import Subnet4
from dhcpbridge.engine.v4.transaction import BROADCAST, Transaction4
from dhcpbridge.wire.v4.message import ip4_int, ip4_str
from dhcpbridge.wire.v4.options import MessageType

V4 = LeaseKind.V4
MT = MessageType
DISCOVER, REQUEST, RELEASE, DECLINE, INFORM = MT.DISCOVER, MT.REQUEST, MT.RELEASE, MT.DECLINE, MT.INFORM
BOOTP = 0  # a request without option 53
LEASEQUERY = MT.LEASEQUERY


class AskSources(core.AskSources[Transaction4]):
    """Ask the source chain what this client should get (not for RELEASE/DECLINE)."""

    def __init__(self, env: Env4) -> None:
        super().__init__(env, DISCOVER)
        self.links = env.answer_links  # bridge-only: ask without a subnet (the answer says it)

    def wanted(self, tx: Transaction4) -> bool:
        kind = tx.msg_type_code
        return not (
            kind in (RELEASE, DECLINE, LEASEQUERY)
            or (tx.subnet is None and not self.links)
            or tx.state == "other-server"
        )

    def handle(self, tx: Transaction4) -> Awaitable[None] | None:
        if not self.wanted(tx):
            return None
        if tx.request.ciaddr and not tx.request.giaddr and tx.relay_info is None:
            return self._ask_renewal(tx)
        return self.ask(tx)

    async def _ask_renewal(self, tx: Transaction4) -> None:
        """A unicast RENEW/INFORM reaches us without the relay, so without option 82: a client's
        bound lease remembers where it was seen (relay, circuit-id, remote-id), and a reservation
        keyed by circuit-id still recognises it."""
        lease = await self.env.store.get(V4, tx.request.ciaddr)
        if lease is not None and lease.client == tx.client_key and lease.state == LeaseState.BOUND:
            tx.circuit_id = lease.circuit_id
            tx.remote_id = lease.remote_id
            tx.known_relay = lease.relay
        asking = self.ask(tx)  # may raise NeedsIO (then repeated as a task)
        if asking is not None:
            await asking


class Bindings(Handler[Transaction4]):
    """The RFC 2131 lease state machine: DISCOVER -> hold an address; REQUEST -> commit or NAK
    or silence; RELEASE; DECLINE; INFORM."""

    def __init__(self, env: Env4) -> None:
        self.env = env
        self._relay_names = RelayNames(ip4_str)

    def handle(self, tx: Transaction4) -> Awaitable[None] | None:
        """Returns the coroutine of the message's own step (the pipeline awaits it): one coroutine
        per packet instead of two on the hot path."""
        kind = tx.msg_type_code
        if kind == DISCOVER:
            return self._discover(tx)
        if kind == REQUEST:
            return self._request(tx)
        if kind == RELEASE:
            return self._release(tx)
        if kind == DECLINE:
            return self._decline(tx)
        if kind == BOOTP:
            return self._bootp(tx)
        if kind == LEASEQUERY:  # RFC 4388, only from [server] leasequery-requesters (Classify)
            return leasequery.answer(self.env, tx)
        tx.reply_type = MessageType.ACK  # INFORM: options only, no lease (RFC 2131 §4.3.5)
        return None

    def _template(self, tx: Transaction4, address: int, state: LeaseState, until: float) -> Lease:
        giaddr = tx.request.giaddr
        lease = lease_template(
            tx,
            V4,
            tx.client_key,
            address,
            32,
            state,
            until,
            tx.client_mac,
            tx.subnet.name if tx.subnet is not None else "",
            self._relay_names.get(giaddr) if giaddr else tx.known_relay,
            tx.hostname,
        )
        if self.env.reconfigure_secret and forcerenew.accepts(self.env, tx):
            lease.info = forcerenew.mark(lease.info, tx)  # it can be sent a FORCERENEW
        return lease

    def _lease_time(self, tx: Transaction4, subnet: Subnet4) -> int:
        answer = tx.answer
        if answer is not None and answer.lease_time:
            return answer.lease_time  # the source of truth decides, whatever the client asks
        if tx.classes:
            times = self.env.class_lease_times
            for name in tx.classes:  # [[class]] lease-time: the first class that has one
                time = times.get(name)
                if time:
                    return time
        return subnet.negotiate(tx.requested_lease, subnet.lease_time)

    # --- DISCOVER ---------------------------------------------------------------------------
    async def _discover(self, tx: Transaction4) -> None:
        answer = tx.answer
        subnet = tx.subnet
        if answer is None or answer.action is not Action.ASSIGN:
            raise CannotRespond("no-answer", "no source has an answer for this client")
        if subnet is None:  # bridge-only: an answer without an address makes no link
            raise CannotRespond("no-address", "the answer assigns no address")
        store = self.env.store
        until = tx.now + self.env.offer_hold
        if answer.address is not None:
            addr = answer.address
            member = subnet.member_for(addr)  # this subnet, or another of its shared network
            if member is None:
                raise CannotRespond("answer-off-subnet", f"{ip4_str(addr)} is not in {subnet.name}")
            subnet = tx.subnet = member
            lease = await store.offer(self._template(tx, addr, LeaseState.OFFERED, until), tx.now)
            if lease is None:
                raise CannotRespond("address-in-use", f"{ip4_str(addr)} is held by another client")
        elif answer.dynamic:
            caps = self.env.caps
            if caps.on:
                await self._within_caps(tx, caps)
            lease = await (
                self._pick_shared(tx, subnet, until) if subnet.siblings else self._pick(tx, subnet, until)
            )
            if caps.on:
                caps.hold(self._groups(tx, caps), tx.client_key, until)
        else:
            raise CannotRespond("no-address", "the answer assigns no address")
        tx.lease = lease
        tx.lease_time = self._lease_time(tx, tx.subnet or subnet)
        tx.reply_type = MessageType.OFFER

    @staticmethod
    def _groups(tx: Transaction4, caps: LeaseCaps) -> tuple[Group, ...]:
        giaddr = tx.request.giaddr  # a unicast renewal: the relay and circuit of its lease record
        relay = giaddr.to_bytes(4, "big") if giaddr else _relay_bytes(tx.known_relay)
        return caps.of(relay, tx.circuit_id, tx.client_mac)

    async def _within_caps(self, tx: Transaction4, caps: LeaseCaps) -> None:
        """Drop a DISCOVER for a new dynamic lease beyond ``[limits] leases-per-circuit`` /
        ``leases-per-mac-prefix`` (a client that holds a lease already is never refused)."""
        why = caps.refuse(self._groups(tx, caps), tx.client_key, tx.now)
        if not why:
            return
        for held in await self.env.store.find_client(V4, tx.client_key):
            if held.expires > tx.now and held.state in (LeaseState.OFFERED, LeaseState.BOUND):
                return
        raise CannotRespond(why, "the relay circuit or MAC prefix holds its most leases")

    async def _pick(self, tx: Transaction4, subnet: Subnet4, until: float) -> Lease:
        """The client's previous address, else the one it asks for, else a free one (stable hash);
        from the pools kept for the client's classes first when the subnet has such pools."""
        if not subnet.pools:
            raise CannotRespond("no-pool", subnet.name)
        if not subnet.restricted:
            lease = await self._allocate(tx, subnet.pools, until)
        else:
            answer = tx.answer
            tiers = subnet.pool_tiers(tx.classes, answer is not None and answer.known)
            if not tiers:
                raise CannotRespond("no-pool", f"{subnet.name}: no pool for this client's classes")
            lease = None
            for pools in tiers:
                lease = await self._allocate(tx, pools, until)
                if lease is not None:
                    break
        if lease is None:
            raise CannotRespond("pool-exhausted", subnet.name)
        return lease

    async def _pick_shared(self, tx: Transaction4, subnet: Subnet4, until: float) -> Lease:
        """``_pick`` over a shared network: the member that holds the client's lease first, then
        the selected subnet, then the other members in order, until one has a free address."""
        members = [subnet, *subnet.siblings]
        for held in await self.env.store.find_client(V4, tx.client_key):
            if held.expires > tx.now and held.state in (LeaseState.OFFERED, LeaseState.BOUND):
                home = subnet.member_for(held.address)
                if home is not None and home.in_pools(held.address):
                    members.remove(home)
                    members.insert(0, home)
                    break
        reasons = []
        for member in members:
            tx.subnet = member  # the lease records the member it is in
            try:
                return await self._pick(tx, member, until)
            except CannotRespond as exc:  # full, or no pool for this client: the next member
                reasons.append(f"{member.name}: {exc.reason}")
        tx.subnet = subnet
        raise CannotRespond("pool-exhausted", "; ".join(reasons))

    def _allocate(
        self, tx: Transaction4, pools: tuple[PoolRange, ...], until: float
    ) -> Awaitable[Lease | None]:
        wish = tx.requested_ip
        return self.env.store.allocate(
            Hold(
                self._template(tx, 0, LeaseState.OFFERED, until),
                pools,
                tx.now,
                zlib.crc32(tx.client_key),
                self.env.reserved,
                wish if wish and in_ranges(pools, wish) else 0,
            )
        )

    # --- BOOTP (RFC 951 / RFC 1542; only on a subnet with ``bootp = true``) ------------------
    async def _bootp(self, tx: Transaction4) -> None:
        """One request, one reply: the address is bound at once, for ``bootp-lease-time``
        (infinite by default, as RFC 1534 and Kea treat BOOTP clients); a BOOTP client never
        renews or releases."""
        answer = tx.answer
        subnet = tx.subnet
        assert subnet is not None  # SelectSubnet drops BOOTP without a bootp subnet
        if answer is None or answer.action is not Action.ASSIGN:
            raise CannotRespond("no-answer", "no source has an answer for this BOOTP client")
        lifetime = subnet.bootp_lease_time
        until = tx.now + lifetime
        if answer.address is not None:
            addr = answer.address
            member = subnet.member_for(addr)
            if member is None:
                raise CannotRespond("answer-off-subnet", f"{ip4_str(addr)} is not in {subnet.name}")
            tx.subnet = member
        elif answer.dynamic:
            hold = tx.now + self.env.offer_hold
            picked = await (
                self._pick_shared(tx, subnet, hold) if subnet.siblings else self._pick(tx, subnet, hold)
            )
            addr = picked.address
        else:
            raise CannotRespond("no-address", "the answer assigns no address")
        lease = await self.env.store.commit(self._template(tx, addr, LeaseState.BOUND, until), tx.now)
        if lease is None:
            raise CannotRespond("address-in-use", f"{ip4_str(addr)} is held by another client")
        tx.lease = lease
        tx.lease_time = lifetime
        tx.reply_type = MessageType.ACK  # BuildReply leaves out the DHCP-only options
        tx.effects.append(LeaseEvent("commit", lease, tx))

    # --- REQUEST ----------------------------------------------------------------------------
    def _nak(self, tx: Transaction4, why: str) -> None:
        tx.reply_type = MessageType.NAK
        tx.drop_detail = why

    async def _request(self, tx: Transaction4) -> None:
        req = tx.request
        store = self.env.store
        key = tx.client_key
        if tx.state == "other-server":  # the client chose another server: drop our offers
            for held in await store.find_client(V4, key):
                if held.state == LeaseState.OFFERED:
                    await store.unhold(V4, held.address, key)
            raise CannotRespond("other-server", "the client chose another server")
        if 54 in req.options:
            state, addr = "selecting", tx.requested_ip
            if not addr:
                raise CannotRespond("malformed-request", "SELECTING without a requested address")
        elif tx.requested_ip and not req.ciaddr:
            state, addr = "init-reboot", tx.requested_ip
        elif req.ciaddr:
            relayed_or_broadcast = req.giaddr or tx.meta.dst_ip == BROADCAST
            state, addr = ("rebinding" if relayed_or_broadcast else "renewing"), req.ciaddr
        else:
            raise CannotRespond("malformed-request", "neither requested address nor ciaddr")
        tx.state = state
        subnet = tx.subnet
        if subnet is None:
            answer = tx.answer
            if answer is not None and answer.action is Action.DENY:  # bridge-only: no link needed
                return self._nak(tx, answer.message or f"denied by {answer.source}")
            raise CannotRespond("no-subnet", f"{state} for {ip4_str(addr)} from a network we do not serve")
        if not subnet.contains(addr):
            member = subnet.member_for(addr)
            if member is None:
                return self._nak(tx, f"{ip4_str(addr)} is not on network {subnet.name}")
            subnet = tx.subnet = member  # another subnet of the same shared network
        answer = tx.answer
        if answer is None or answer.action is Action.NONE:
            current = await store.get(V4, addr)
            ours = current is not None and current.client == key and current.state != LeaseState.DECLINED
            if state == "selecting" or subnet.authoritative or ours:
                return self._nak(tx, "no source has an answer for this client any more")
            raise CannotRespond("unknown-client", f"{state} for {ip4_str(addr)}; not authoritative")
        if answer.action is Action.DENY:
            return self._nak(tx, answer.message or f"denied by {answer.source}")
        if answer.address is not None:
            if addr != answer.address:
                # the client's old address is no longer its own: free it for whoever gets it now
                released = await store.release(V4, addr, key, tx.now)
                if released is not None:
                    tx.effects.append(LeaseEvent("release", released, tx))
                return self._nak(
                    tx, f"{answer.source} assigns {ip4_str(answer.address)}, not {ip4_str(addr)}"
                )
        elif answer.dynamic:
            usable = (
                subnet.in_pools_for(addr, tx.classes, answer.known)
                if subnet.restricted
                else subnet.in_pools(addr)
            )
            if not usable or addr in self.env.reserved:
                return self._nak(tx, f"{ip4_str(addr)} is not in a pool of {subnet.name}")
            if state == "init-reboot" and not subnet.authoritative:
                current = await store.get(V4, addr)
                ours = current is not None and current.client == key and current.state != LeaseState.DECLINED
                if not ours:
                    if current is not None and not current.is_free_for(key, tx.now):
                        return self._nak(tx, f"{ip4_str(addr)} is leased to another client")
                    raise CannotRespond(
                        "unknown-client", f"init-reboot for {ip4_str(addr)} without a lease record"
                    )
        else:
            return self._nak(tx, "the answer assigns no address")
        lease_time = self._lease_time(tx, subnet)
        lease = await store.commit(
            self._template(tx, addr, LeaseState.BOUND, tx.now + lease_time),
            tx.now,
        )
        if lease is None:
            return self._nak(tx, f"{ip4_str(addr)} is leased to another client")
        tx.lease = lease
        tx.lease_time = lease_time
        tx.reply_type = MessageType.ACK
        tx.effects.append(LeaseEvent("commit", lease, tx))
        caps = self.env.caps
        if caps.on and answer.dynamic:
            caps.hold(self._groups(tx, caps), key, lease.expires)
        await self._forget_other_bindings(tx, subnet, addr)

    async def _forget_other_bindings(self, tx: Transaction4, subnet: Subnet4, keep: int) -> None:
        """One lease per client and subnet (as Kea keeps it): an ACK for a new address releases the
        client's other bound leases in the subnet, so those addresses are free for others at once."""
        store = self.env.store
        for old in await store.find_client(V4, tx.client_key):
            if old.address != keep and old.state == LeaseState.BOUND and subnet.contains(old.address):
                released = await store.release(V4, old.address, tx.client_key, tx.now)
                if released is not None:
                    tx.effects.append(LeaseEvent("release", released, tx))

    # --- RELEASE / DECLINE ------------------------------------------------------------------
    async def _release(self, tx: Transaction4) -> None:
        if tx.state == "other-server":
            raise CannotRespond("other-server", "RELEASE for another server")
        addr = tx.request.ciaddr
        if not addr:
            raise CannotRespond("malformed-release", "RELEASE without ciaddr")
        lease = await self.env.store.release(V4, addr, tx.client_key, tx.now)
        if lease is None:
            told = self.env.unkept_source
            if told is None:
                raise CannotRespond("release-unknown", f"{ip4_str(addr)} is not leased to this client")
            if not told:
                raise CannotRespond("release-not-kept", "store = none and no on-commit hook to tell")
            lease = self._template(tx, addr, LeaseState.RELEASED, tx.now)  # the bridge's to free
            lease.source = told
        tx.lease = lease
        tx.effects.append(LeaseEvent("release", lease, tx))
        tx.done = True
        caps = self.env.caps
        if caps.on:  # the groups the lease was counted in: a RELEASE comes unicast, not relayed
            caps.forget(caps.of(_relay_bytes(lease.relay), lease.circuit_id, lease.hwaddr), tx.client_key)

    async def _decline(self, tx: Transaction4) -> None:
        if tx.state == "other-server":
            raise CannotRespond("other-server", "DECLINE for another server")
        addr = tx.requested_ip
        if not addr:
            raise CannotRespond("malformed-decline", "DECLINE without a requested address")
        env = self.env
        store = env.store
        key = tx.client_key
        current = await store.get(V4, addr)
        told = env.unkept_source
        if current is None and told is not None:  # store = none: the bridge hears of it, if it can
            if not told:
                raise CannotRespond("decline-not-kept", "store = none and no on-commit hook to tell")
            refused = env.declines.check(key, tx.now)
            if refused:
                raise CannotRespond(refused, ip4_str(addr))
            unkept = self._template(tx, addr, LeaseState.DECLINED, tx.now + env.decline_probation)
            unkept.source = told
            tx.lease = unkept
            tx.effects.append(LeaseEvent("decline", unkept, tx))
            tx.done = True
            return
        if (
            current is None
            or current.client != key
            or current.state != LeaseState.BOUND
            or current.expires <= tx.now
        ):
            # only a lease bound (acknowledged) to this client: an offer or another's lease is not its to decline
            raise CannotRespond("decline-unknown", f"{ip4_str(addr)} is not bound to this client")
        refused = env.declines.check(key, tx.now)
        if refused:
            raise CannotRespond(refused, ip4_str(addr))
        lease = await store.decline(V4, addr, key, tx.now, tx.now + env.decline_probation)
        if lease is None:
            raise CannotRespond("decline-unknown", f"{ip4_str(addr)} is not bound to this client")
        tx.lease = lease
        tx.effects.append(LeaseEvent("decline", lease, tx))
        tx.done = True


def _relay_bytes(relay: str) -> bytes:
    """The giaddr bytes of a lease record's relay text (zeros when it was not relayed)."""
    try:
        return ip4_int(relay).to_bytes(4, "big") if relay else bytes(4)
    except ValueError:
        return bytes(4)
