"""Pre-phase handlers: accept or drop the request, learn who the client is, pick subnet and server id."""

from __future__ import annotations

from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.leasequery import check_requester
from dhcpbridge.engine.v4.transaction import BROADCAST, Transaction4
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v4.message import BOOTREQUEST, ip4_str
from dhcpbridge.wire.v4.options import MessageType, RelaySub, parse_suboptions

ACCEPTED = frozenset(
    {MessageType.DISCOVER, MessageType.REQUEST, MessageType.DECLINE, MessageType.RELEASE, MessageType.INFORM}
)


#: Requests answered to ciaddr when not relayed (RELEASE and DECLINE get no reply).
ANSWERED = frozenset({MessageType.DISCOVER, MessageType.REQUEST, MessageType.INFORM})


def _u32(value: bytes) -> int:
    return int.from_bytes(value, "big")


class Classify(Handler[Transaction4]):
    """RFC 2131 sanity checks, then the client's identity and wishes into the transaction."""

    def __init__(self, env: Env4) -> None:
        self.env = env

    def pre(self, tx: Transaction4) -> None:
        req = tx.request
        if req.op != BOOTREQUEST:
            raise CannotRespond("not-a-request")
        kind = tx.msg_type_code
        if kind not in ACCEPTED and not (kind == 0 and self.env.bootp):  # BOOTP: SelectSubnet decides
            if kind == MessageType.LEASEQUERY and self.env.leasequery_requesters:
                return self._leasequery(tx)
            raise CannotRespond("bootp" if kind == 0 else "unsupported-type", str(kind))
        meta = tx.meta
        served = self.env.host.served
        if served and req.giaddr == 0 and meta.dst_ip == BROADCAST and meta.ifname not in served:
            raise CannotRespond("interface-not-served", meta.ifname)
        if req.giaddr:
            self._check_relay(tx)
        elif req.ciaddr and meta.src_ip and req.ciaddr != meta.src_ip and kind in ANSWERED:
            # the reply would go to ciaddr: only to the address the request came from, so nobody
            # routed can make us send to a third address (a 0.0.0.0 source never left its link)
            raise CannotRespond(
                "ciaddr-not-source", f"ciaddr {ip4_str(req.ciaddr)} from {ip4_str(meta.src_ip)}"
            )
        opts = req.options
        tx.client_mac = req.chaddr[: req.hlen]
        cid = opts.get(61)
        if cid is not None:
            if len(cid) < 2:
                raise CannotRespond("bad-client-id", "option 61 must be at least 2 bytes")
            tx.client_id = cid
            tx.client_key = cid
        else:
            if not tx.client_mac:
                raise CannotRespond("no-client-identity", "hlen 0 and no client identifier")
            tx.client_key = bytes((req.htype,)) + tx.client_mac
        value = opts.get(50)
        if value is not None:
            if len(value) != 4:
                raise CannotRespond("bad-option", "requested address (50) must be 4 bytes")
            tx.requested_ip = _u32(value)
        value = opts.get(51)
        if value is not None and len(value) == 4:
            tx.requested_lease = _u32(value)
        tx.prl = opts.get(55, b"")
        value = opts.get(57)
        if value is not None and len(value) == 2:
            tx.max_size = max(576, _u32(value))
        value = opts.get(12)
        if value:
            tx.hostname = value.rstrip(b"\0").decode("utf-8", "replace")
        tx.vendor_class = opts.get(60, b"")
        value = opts.get(82)
        if value is not None:
            try:
                subs = parse_suboptions(value)
            except FormError as exc:
                raise CannotRespond("bad-relay-agent-info", str(exc)) from None
            tx.relay_info = subs
            tx.circuit_id = subs.get(RelaySub.CIRCUIT_ID, b"")
            tx.remote_id = subs.get(RelaySub.REMOTE_ID, b"")
            if tx.from_relay:  # link selection and the relay's port: only from the relay itself
                link = subs.get(RelaySub.LINK_SELECTION)
                if link is not None and len(link) == 4:
                    tx.link_selection = _u32(link)
                if RelaySub.RELAY_SOURCE_PORT in subs:
                    tx.relay_port = meta.src_port  # RFC 8357 §5.1: answer the relay's own port

    def _leasequery(self, tx: Transaction4) -> None:
        """RFC 4388: a configured requester; the client it asks about is no identity of ours."""
        check_requester(self.env, tx)
        self._check_relay(tx)
        cid = tx.request.options.get(61)
        if cid is not None:
            tx.client_id = cid

    def _check_relay(self, tx: Transaction4) -> None:
        """A relayed request (giaddr set): refuse a giaddr no relay can have ("this network",
        multicast, reserved/broadcast; loopback or one of ours unless sent from that very address)
        and, with ``trusted-relays``, a relay (source address) not on the list; note whether the relay itself sent it (source = giaddr), the only
        case whose relay sub-options (82/5, 82/11, 82/19) and option 118 are honoured."""
        env = self.env
        giaddr = tx.request.giaddr
        top = giaddr >> 24
        src = tx.meta.src_ip
        if top == 0 or top >= 224:
            raise CannotRespond("bad-giaddr", ip4_str(giaddr))
        if (top == 127 or giaddr in env.host.local or giaddr in env.server_ids) and src != giaddr:
            # loopback or our own address: only a relay on this host itself (``dhcpbridge probe``);
            # the kernel never accepts such a source address from the network
            raise CannotRespond("bad-giaddr", ip4_str(giaddr))
        trusted = env.trusted_relays
        if trusted:
            for network, mask in trusted:
                if src & mask == network:
                    break
            else:
                raise CannotRespond("untrusted-relay", ip4_str(src))
        tx.from_relay = src == giaddr


class SelectSubnet(Handler[Transaction4]):
    """Which network the client is on: link selection (RFC 3527 / 3011), relay, ciaddr or interface."""

    def __init__(self, env: Env4) -> None:
        self.env = env

    def pre(self, tx: Transaction4) -> None:
        req = tx.request
        index = self.env.subnets
        selector = req.options.get(118) if tx.from_relay else None  # RFC 3011 only through a relay
        if tx.link_selection:
            subnet = index.by_address(tx.link_selection)
        elif selector is not None and len(selector) == 4:
            subnet = index.by_address(_u32(selector))
        elif req.giaddr:
            subnet = index.by_relay(req.giaddr)
        elif req.ciaddr and tx.meta.dst_ip != BROADCAST:
            subnet = index.by_address(req.ciaddr)
        else:
            ifname = tx.meta.ifname
            subnet = index.by_interface(ifname, self.env.host.addresses.get(ifname, ()))
        tx.subnet = subnet
        if tx.msg_type_code == 0 and (subnet is None or not subnet.bootp):
            raise CannotRespond("bootp", "BOOTP request on a subnet without bootp = true")
        if (
            subnet is None
            and tx.msg_type_code in (MessageType.DISCOVER, MessageType.INFORM)
            and not self.env.answer_links  # bridge-only: the answer will say the link
        ):
            raise CannotRespond("no-subnet", f"giaddr={req.giaddr} interface={tx.meta.ifname}")


class ServerIdentity(Handler[Transaction4]):
    """Our server identifier for this exchange (RFC 2131 §4.1, RFC 5107 override), and whether a
    REQUEST/DECLINE/RELEASE naming a server is meant for us."""

    def __init__(self, env: Env4) -> None:
        self.env = env

    def pre(self, tx: Transaction4) -> None:
        env = self.env
        override = tx.relay_info.get(RelaySub.SERVER_ID_OVERRIDE) if tx.relay_info and tx.from_relay else None
        if override is not None and len(override) == 4:
            sid = _u32(override)
        elif tx.subnet is not None and tx.subnet.server_id:
            sid = tx.subnet.server_id
        elif env.server_id:
            sid = env.server_id
        else:
            sid = tx.meta.local_ip
            if not sid or sid == BROADCAST:
                addrs = env.host.addresses.get(tx.meta.ifname, ())
                sid = addrs[0] if addrs else 0
        if not sid:
            raise CannotRespond("no-server-address", f"no IPv4 address on {tx.meta.ifname}")
        tx.server_id = sid
        named = tx.request.options.get(54)
        if named is not None and tx.msg_type_code != MessageType.DISCOVER:
            if len(named) != 4:
                raise CannotRespond("bad-option", "server identifier (54) must be 4 bytes")
            value = _u32(named)
            if value != sid and value not in env.server_ids and value not in env.host.local:
                tx.state = "other-server"
