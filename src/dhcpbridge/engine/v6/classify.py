"""Pre-phase handlers: accept or drop the message (RFC 8415 §16 validation and §18.4 unicast), learn
who the client is and what it asks for, pick its link, and check the server identifier."""

from __future__ import annotations

from typing import Final

from dhcpbridge.engine.model import LeaseKind
from dhcpbridge.engine.pipeline import CannotRespond, Handler
from dhcpbridge.engine.v6.env import Env6
from dhcpbridge.engine.v6.ia import parse_ia
from dhcpbridge.engine.v6.leasequery import check_requester
from dhcpbridge.engine.v6.transaction import IaRequest, Transaction6, message_name6
from dhcpbridge.wire.duid import MAX_DUID_LEN, MIN_DUID_LEN
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.options import MessageType6, StatusCode6

# Final: compiled, a module constant is a C static, not a lookup in the module's dict per use
SOLICIT: Final = MessageType6.SOLICIT
REQUEST: Final = MessageType6.REQUEST
CONFIRM: Final = MessageType6.CONFIRM
RENEW: Final = MessageType6.RENEW
REBIND: Final = MessageType6.REBIND
REPLY: Final = MessageType6.REPLY
RELEASE: Final = MessageType6.RELEASE
DECLINE: Final = MessageType6.DECLINE
INFORMATION_REQUEST: Final = MessageType6.INFORMATION_REQUEST
LEASEQUERY: Final = MessageType6.LEASEQUERY

ACCEPTED: Final = frozenset({SOLICIT, REQUEST, CONFIRM, RENEW, REBIND, RELEASE, DECLINE, INFORMATION_REQUEST})
#: RFC 8415 §16: these must name the server they are meant for ...
NEEDS_SERVER_ID: Final = frozenset({REQUEST, RENEW, RELEASE, DECLINE})
#: ... and these must not name any.
NO_SERVER_ID: Final = frozenset({SOLICIT, CONFIRM, REBIND})
#: RFC 8415 §18.4: only these may be unicast to a server (when it told the client it may).
UNICAST_OK: Final = frozenset({REQUEST, RENEW, RELEASE, DECLINE})

_LINK_LOCAL_PREFIX: Final = 0xFE80 >> 6  # fe80::/10
_LEASEQUERY: Final = 14  # LEASEQUERY as an int literal: compiled, compared without a call
_INFORMATION_REQUEST: Final = 11  # INFORMATION_REQUEST, likewise
NA: Final = LeaseKind.NA
PD: Final = LeaseKind.PD


class Classify(Handler[Transaction6]):
    """Message type, client identity, the IAs and options asked for, and what the relays added."""

    def __init__(self, env: Env6) -> None:
        self.env = env

    def pre(self, tx: Transaction6) -> None:
        kind = tx.msg_type_code
        leasequery = kind == _LEASEQUERY and bool(self.env.leasequery_requesters)
        if kind not in ACCEPTED and not leasequery:
            raise CannotRespond("unsupported-type", message_name6(kind))
        served = self.env.host.served
        if served and not tx.relays and tx.meta.ifname not in served:
            raise CannotRespond("interface-not-served", tx.meta.ifname)
        if not tx.relays and not self.env.multicast and tx.meta.dst[:1] == b"\xff":
            raise CannotRespond("multicast-off", "relay-only ([server6] multicast = false)")
        if leasequery:
            return self._leasequery(tx)
        client = None
        ias: list[tuple[int, bytes]] = []
        for opt in tx.request.options:
            code = opt.code
            if code == 1:
                client = opt
            elif code in (3, 25, 4):  # IA_NA, IA_PD, IA_TA (temporary addresses, RFC 8415 §6.5)
                ias.append((code, opt.to_wire()))
            elif code == 2:
                tx.server_id = opt.to_wire()
            elif code == 6:
                tx.oro = opt.to_wire()
            elif code == 14:
                tx.rapid_commit = True
        if client is not None:
            duid = client.to_wire()
            if not MIN_DUID_LEN <= len(duid) <= MAX_DUID_LEN:
                raise CannotRespond("bad-client-id", f"DUID of {len(duid)} bytes")
            tx.duid = duid
            tx.client_option = client
        elif kind != _INFORMATION_REQUEST:
            raise CannotRespond("no-client-id", message_name6(kind))
        if ias:
            self._cap(tx, ias)
        if ias:
            tx.ia_raw = ias
            duid = tx.duid
            out = tx.ias
            cap = self.env.max_leases_per_duid
            try:
                for code, body in ias:
                    iaid, hints = parse_ia(code, body)
                    if len(hints) > cap:
                        raise CannotRespond("too-many-ia-addresses", f"{len(hints)} in one IA (cap {cap})")
                    # the key starts with the IAID as the IA carries it (parse_ia checked its 4 bytes)
                    if code == 4:  # its own key: an IA_TA and an IA_NA may share an IAID
                        out.append(IaRequest(NA, code, iaid, b"TA" + body[:4] + duid, hints))
                    else:
                        out.append(IaRequest(NA if code == 3 else PD, code, iaid, body[:4] + duid, hints))
            except FormError as exc:
                raise CannotRespond("malformed:" + exc.reason, str(exc)) from None
        if tx.relays:
            self._relay_info(tx)

    def _leasequery(self, tx: Transaction6) -> None:
        """RFC 5007: the requester's own Client Identifier (echoed in the reply); the client it
        asks about is in the query, no identity of ours."""
        check_requester(self.env, tx)
        for opt in tx.request.options:
            if opt.code == 1:
                tx.duid = opt.to_wire()
                tx.client_option = opt
            elif opt.code == 2:
                tx.server_id = opt.to_wire()
        if tx.client_option is None:
            raise CannotRespond("no-client-id", "LEASEQUERY")

    def _cap(self, tx: Transaction6, ias: list[tuple[int, bytes]]) -> None:
        """No real client sends more IAs than the caps allow (``max-ia-na`` IA_NA + IA_TA,
        ``max-ia-pd`` IA_PD): such a message is dropped whole and counted, so it holds nothing,
        quarantines nothing, and is reflected by no reply at all."""
        env = self.env
        n_pd = 0
        for code, _ in ias:
            if code == 25:
                n_pd += 1
        n_na = len(ias) - n_pd  # IA_NA + IA_TA
        if n_na > env.max_ia_na or n_pd > env.max_ia_pd:
            raise CannotRespond(
                "too-many-ias",
                f"{n_na} IA_NA/IA_TA (cap {env.max_ia_na}), {n_pd} IA_PD (cap {env.max_ia_pd})",
            )

    @staticmethod
    def _relay_info(tx: Transaction6) -> None:
        """Interface-ID, Remote-ID (RFC 4649) and Subscriber-ID (RFC 4580) from the relay closest
        to the client that has each."""
        for relay in reversed(tx.relays):
            for opt in relay.options:
                code = opt.code
                if code == 18 and not tx.circuit_id:
                    tx.circuit_id = opt.to_wire()  # the Interface-ID
                elif code == 37 and tx.remote_enterprise is None:
                    body = opt.to_wire()
                    if len(body) > 4:
                        tx.remote_enterprise = int.from_bytes(body[:4], "big")
                        tx.remote_id = body[4:]
                elif code == 38 and not tx.subscriber_id:
                    tx.subscriber_id = opt.to_wire()


class SelectSubnet(Handler[Transaction6]):
    """The client's link (RFC 8415 §13.1): the link-address of the relay closest to the client
    that set one (a Lightweight Relay, RFC 6221, leaves it ``::``; link-local ones say nothing),
    else the interface the message arrived on."""

    def __init__(self, env: Env6) -> None:
        self.env = env

    def pre(self, tx: Transaction6) -> None:
        index = self.env.subnets
        if tx.relays:
            for relay in reversed(tx.relays):
                link = int(relay.link_address)
                if link and link >> 118 != _LINK_LOCAL_PREFIX:
                    tx.link_address = link
                    tx.subnet = index.by_link(link)
                    return
        ifname = tx.meta.ifname
        tx.subnet = index.by_interface(ifname, self.env.host.addresses.get(ifname, ()))


class ServerIdentity(Handler[Transaction6]):
    """RFC 8415 §16 server identifier rules (silence when they fail) and §18.4 unicast rules
    (UseMulticast for a client that unicasts without being told it may)."""

    def __init__(self, env: Env6) -> None:
        self.env = env

    def pre(self, tx: Transaction6) -> None:
        kind = tx.msg_type_code
        sid = tx.server_id
        if kind in NEEDS_SERVER_ID:
            if sid is None:
                raise CannotRespond("no-server-id", message_name6(kind))
            if sid != self.env.server_duid:
                raise CannotRespond("other-server", message_name6(kind))
        elif kind in NO_SERVER_ID:
            if sid is not None:
                raise CannotRespond("server-id-not-allowed", message_name6(kind))
        elif sid is not None and sid != self.env.server_duid:  # INFORMATION-REQUEST
            raise CannotRespond("other-server", message_name6(kind))
        if kind == _INFORMATION_REQUEST and tx.ias:
            raise CannotRespond("ia-in-information-request")
        if tx.unicast and kind != _LEASEQUERY:  # RFC 5007: a requester unicasts its queries
            if kind not in UNICAST_OK:
                raise CannotRespond("unicast-not-allowed", message_name6(kind))
            subnet = tx.subnet
            if subnet is None or not subnet.allows_unicast:
                tx.status = (StatusCode6.USE_MULTICAST, "use multicast (ff02::1:2)")
                tx.reply_type = REPLY
                tx.state = "use-multicast"
                tx.done = True
