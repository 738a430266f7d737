"""DHCPv6 Leasequery (RFC 5007), answered from the lease store (any store): a requester (an access
router or relay, listed in ``[server6] leasequery-requesters``) sends a LEASEQUERY straight to the
server (unicast, or multicast where multicast is served) with its own Client Identifier and an
OPTION_LQ_QUERY, and gets a LEASEQUERY-REPLY with the server and requester identifiers and

* QUERY_BY_ADDRESS (1, an IAADDR in the query): the client that holds that address, or the
  delegated prefix that contains it, as one OPTION_CLIENT_DATA: its CLIENTID, every address
  (IAADDR) and prefix (IAPREFIX) it holds on that link with the remaining lifetimes, CLT_TIME
  (seconds since its last transaction) and what the query's ORO asks for (below); no client data
  when nobody holds it; NotConfigured when the address (or the query's link-address) is on no link
  of ours;
* QUERY_BY_CLIENTID (2, a CLIENTID in the query): that DUID's bindings, on the query's link when
  the link-address is set; with link-address ``::`` and bindings on several links, an
  OPTION_LQ_CLIENT_LINK naming those links (one address on each) instead, so that the requester
  asks again per link (RFC 5007 §4.1.2.1, §4.3.3);
* UnknownQueryType, MalformedQuery (no or a broken OPTION_LQ_QUERY, a query without its IAADDR /
  CLIENTID) and NotAllowed (a requester not on the list) as the status.

The ORO of the query (in its query-options, RFC 5007 §4.1.2.1; else one in the LEASEQUERY
itself) names what else goes into each OPTION_CLIENT_DATA: the options configured for the
client's link (its subnet's, else the global ones; a bridge's per-client answers are not kept)
and OPTION_LQ_RELAY_DATA (47, §4.1.2.4): the relay the server last heard the client through and
that RELAY-FORW chain without the client's message, as its lease recorded it
(``engine.v6.relay_record``; kept for every relayed lease while leasequery is on). Without an ORO
the relay data is given whenever a lease has it.

The reply goes to the requester's address and port. A relayed LEASEQUERY is dropped
(``leasequery-relayed``): the requester is judged by the address it sends from. Not here: the
bulk queries of RFC 5460 (over TCP)."""

from __future__ import annotations

import ipaddress
import struct

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.engine.pipeline import CannotRespond
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.relay_record import relayed
from dhcpbridge.engine.v6.subnet import Subnet6
from dhcpbridge.engine.v6.transaction import Transaction6
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.message import Message6
from dhcpbridge.wire.v6.options import (
    ClientData,
    CltTime,
    Encoded,
    IAAddr,
    IAPrefix,
    LqClientLink,
    LqQuery,
    LqRelayData,
    MessageType6,
    Option6,
    OptionCode6,
    QueryType6,
    StatusCode,
    StatusCode6,
)

NA, PD = LeaseKind.NA, LeaseKind.PD
LEASEQUERY = MessageType6.LEASEQUERY
LEASEQUERY_REPLY = MessageType6.LEASEQUERY_REPLY
REFUSED = "leasequery-refused"
#: prefix lengths tried when a queried address may lie in a delegated prefix, besides the
#: configured pools' delegated lengths (the answers of sources may delegate any of these)
COMMON_PD_LENGTHS = tuple(range(32, 65))

Status = tuple[int, str]
_U16 = struct.Struct("!H")


def check_requester(env: Env6, tx: Transaction6) -> None:
    """Only straight from the requester; one not in ``leasequery-requesters`` is answered
    NotAllowed (``tx.state`` says so, the reply is built in the handle phase)."""
    if tx.relays:
        raise CannotRespond("leasequery-relayed", "RFC 5007: the requester asks the server directly")
    try:
        src = int(ipaddress.IPv6Address(tx.meta.src))
    except ValueError:
        raise CannotRespond("leasequery-refused", f"source {tx.meta.src!r}") from None
    for network, mask in env.leasequery_requesters:
        if src & mask == network:
            return
    tx.state = REFUSED


def _bound(lease: Lease | None, now: float) -> bool:
    return lease is not None and lease.state == LeaseState.BOUND and lease.expires > now


def duid_of(lease: Lease) -> bytes:
    """The DUID of a v6 lease record (keyed IAID + DUID; IA_TA records "TA" + IAID + DUID)."""
    client = lease.client
    return client[6:] if lease.kind == NA and client[:2] == b"TA" else client[4:]


async def client_leases(env: Env6, duid: bytes, now: float) -> list[Lease]:
    """Every bound, unexpired address and prefix of ``duid``: through the store's ``find_duid``
    when it has one (the embedded stores), else by reading its records of each kind."""
    store = env.store
    finder = getattr(store, "find_duid", None)
    out: list[Lease] = []
    for kind in (NA, PD):
        if finder is not None:
            records: list[Lease] = await finder(kind, duid)
        else:
            records = [lease for lease in await store.leases(kind) if duid_of(lease) == duid]
        out.extend(lease for lease in records if _bound(lease, now))
    return out


async def _holder(env: Env6, addr: int, now: float) -> Lease | None:
    """The bound lease of ``addr``, or of a delegated prefix that contains it."""
    store = env.store
    lease = await store.get(NA, addr)
    if _bound(lease, now):
        return lease
    lengths = set(COMMON_PD_LENGTHS)
    for subnet in env.subnets.subnets:
        lengths.update(pool.length for pool in subnet.pd_pools)
    for length in sorted(lengths, reverse=True):
        prefix = addr & ~((1 << (128 - length)) - 1)
        lease = await store.get(PD, prefix)
        if _bound(lease, now) and lease is not None and lease.prefix_len == length:
            return lease
    return None


def _subnets(env: Env6) -> dict[str, Subnet6]:
    return {s.name: s for s in env.subnets.subnets}


def _client_data(env: Env6, duid: bytes, leases: list[Lease], now: float, oro: bytes | None) -> ClientData:
    """OPTION_CLIENT_DATA for one client on one link. The preferred lifetime left is the link's
    preferred lifetime counted from the last transaction, never more than the valid one left;
    then what ``oro`` (None: the query had none) asks for."""
    links = _subnets(env)
    opts: list[Option6] = [Encoded(OptionCode6.CLIENTID, duid)]
    for lease in leases:
        valid = max(0, int(lease.expires - now))
        subnet = links.get(lease.subnet)
        preferred = (
            valid if subnet is None else min(valid, max(0, int(lease.starts + subnet.preferred - now)))
        )
        address = ipaddress.IPv6Address(lease.address)
        if lease.kind == PD:
            opts.append(IAPrefix(preferred, valid, lease.prefix_len, address))
        else:
            opts.append(IAAddr(address, preferred, valid))
    last = max(lease.starts for lease in leases)
    opts.append(CltTime(max(0, int(now - last))))
    opts.extend(_asked(env, leases, oro))
    return ClientData(opts)


def _asked(env: Env6, leases: list[Lease], oro: bytes | None) -> list[Option6]:
    """The options ``oro`` names, for the client of ``leases`` (all on one link): configured
    options of its link and its relay data; without an ORO, only the relay data."""
    latest = max(leases, key=lambda lease: lease.starts)
    codes = (
        [OptionCode6.LQ_RELAY_DATA]
        if oro is None
        else [code for (code,) in _U16.iter_unpack(oro[: len(oro) & ~1])]
    )
    subnet = _subnets(env).get(latest.subnet)
    configured = subnet.options if subnet is not None else env.options
    out: list[Option6] = []
    seen: set[int] = set()
    for code in codes:
        if code in seen:
            continue
        seen.add(code)
        if code == OptionCode6.LQ_RELAY_DATA:
            for lease in sorted(leases, key=lambda x: x.starts, reverse=True):  # the last message's
                via = relayed(lease)
                if via is not None:
                    out.append(LqRelayData(ipaddress.IPv6Address(via.peer), via.chain))
                    break
        elif configured:
            out.extend(configured.get(code, ()))
    return out


def _oro(tx: Transaction6, query: LqQuery) -> bytes | None:
    """The ORO of the query's options, else of the LEASEQUERY message; None when neither has one."""
    oro = query.raw(OptionCode6.ORO)
    return oro if oro is not None else tx.request.raw(OptionCode6.ORO)


def _link_of(env: Env6, lease: Lease) -> int:
    """An address on the link of ``lease``: its subnet's prefix, else the leased address itself."""
    subnet = _subnets(env).get(lease.subnet) or env.subnets.by_address(lease.address)
    return subnet.network if subnet is not None else lease.address


def _on_link(subnet: Subnet6, lease: Lease) -> bool:
    return lease.subnet == subnet.name or subnet.contains(lease.address)


async def _by_address(
    env: Env6, query: LqQuery, now: float, oro: bytes | None
) -> tuple[Status | None, list[Option6]]:
    raw = query.raw(OptionCode6.IAADDR)
    if raw is None:
        return (StatusCode6.MALFORMED_QUERY, "QUERY_BY_ADDRESS without an IAADDR"), []
    addr = int(IAAddr.from_wire(raw).address)
    link = int(query.link_address)
    holder = await _holder(env, addr, now)
    if holder is None:
        known = env.subnets.by_link(link) if link else env.subnets.by_address(addr)
        if known is None and not env.answer_links:
            return (StatusCode6.NOT_CONFIGURED, "the address is on no link of this server"), []
        return None, []  # ours, nobody holds it: no client data
    duid = duid_of(holder)
    subnet = _subnets(env).get(holder.subnet)
    leases = [
        lease
        for lease in await client_leases(env, duid, now)
        if (lease.subnet == holder.subnet if subnet is None else _on_link(subnet, lease))
    ]
    return None, [_client_data(env, duid, leases or [holder], now, oro)]


async def _by_client(
    env: Env6, query: LqQuery, now: float, oro: bytes | None
) -> tuple[Status | None, list[Option6]]:
    duid = query.raw(OptionCode6.CLIENTID)
    if not duid:
        return (StatusCode6.MALFORMED_QUERY, "QUERY_BY_CLIENTID without a CLIENTID"), []
    leases = await client_leases(env, duid, now)
    link = int(query.link_address)
    if link:
        subnet = env.subnets.by_link(link)
        if subnet is None:
            if not env.answer_links:
                return (StatusCode6.NOT_CONFIGURED, "the link-address is on no link of this server"), []
        else:
            leases = [lease for lease in leases if _on_link(subnet, lease)]
    if not leases:
        return None, []
    groups: dict[str, list[Lease]] = {}
    for lease in leases:
        groups.setdefault(lease.subnet, []).append(lease)
    if len(groups) > 1 and not link:  # RFC 5007 §4.3.3: name the links, the requester picks one
        links = [ipaddress.IPv6Address(_link_of(env, group[0])) for group in groups.values()]
        return None, [LqClientLink(links)]
    return None, [_client_data(env, duid, leases, now, oro)]


async def _answer(env: Env6, tx: Transaction6) -> tuple[Status | None, list[Option6]]:
    if tx.state == REFUSED:
        return (StatusCode6.NOT_ALLOWED, "leasequery is not allowed from this address"), []
    raw = tx.request.raw(OptionCode6.LQ_QUERY)
    if raw is None:
        return (StatusCode6.MALFORMED_QUERY, "no OPTION_LQ_QUERY"), []
    try:
        query = LqQuery.from_wire(raw)
        if query.query_type == QueryType6.BY_ADDRESS:
            return await _by_address(env, query, tx.now, _oro(tx, query))
        if query.query_type == QueryType6.BY_CLIENTID:
            return await _by_client(env, query, tx.now, _oro(tx, query))
    except FormError as exc:
        return (StatusCode6.MALFORMED_QUERY, str(exc)), []
    return (StatusCode6.UNKNOWN_QUERY_TYPE, f"query-type {query.query_type} is not supported"), []


async def answer(env: Env6, tx: Transaction6) -> None:
    """Build the LEASEQUERY-REPLY whole (``tx.reply``; ``BuildReply`` leaves it as it is)."""
    status, found = await _answer(env, tx)
    opts: list[Option6] = []
    if tx.client_option is not None:
        opts.append(tx.client_option)
    opts.append(env.server_id)
    if status is not None:
        tx.status = status
        opts.append(StatusCode(status[0], status[1]))
    opts.extend(found)
    tx.reply_type = LEASEQUERY_REPLY
    tx.reply = Message6(LEASEQUERY_REPLY, tx.request.transaction_id, opts)
    tx.done = True
