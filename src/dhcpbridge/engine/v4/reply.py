"""Build the reply (RFC 2131 Table 3), fill in options, echo relay data, and choose where it goes."""

from __future__ import annotations

import struct

from dhcpbridge.engine.pipeline import Handler
from dhcpbridge.engine.v4 import forcerenew
from dhcpbridge.engine.v4.env import Env4
from dhcpbridge.engine.v4.transaction import BROADCAST, Transaction4
from dhcpbridge.wire.v4.message import BOOTREPLY, FLAG_BROADCAST, Message4
from dhcpbridge.wire.v4.options import MessageType

_U32 = struct.Struct("!I")
_TYPE_BYTES = {int(t): bytes((int(t),)) for t in MessageType}
ALWAYS_SEND = (1, 3, 6, 15)  # sent when configured even if the client did not ask (as Kea does)
_EMPTY: dict[int, bytes] = {}
DHCP_ONLY = (53, 54, 51, 58, 59)  # left out of a reply to BOOTP (RFC 1534 §2)


class BuildReply(Handler[Transaction4]):
    """OFFER / ACK / NAK skeleton: header fields and the options the protocol itself needs."""

    def __init__(self, env: Env4) -> None:
        self.env = env
        self._server_ids: dict[int, bytes] = {}
        self._timers: dict[tuple[int, int | None, int | None], tuple[bytes, bytes, bytes]] = {}

    def _lease_options(self, tx: Transaction4) -> tuple[bytes, bytes, bytes]:
        """Options 51, 58, 59 for this lease time and subnet (cached: the same few values repeat)."""
        subnet = tx.subnet
        assert subnet is not None
        key = (tx.lease_time, subnet.renew_timer, subnet.rebind_timer)
        hit = self._timers.get(key)
        if hit is None:
            t1, t2 = subnet.timers(tx.lease_time)
            if len(self._timers) > 1024:
                self._timers.clear()
            hit = self._timers[key] = (_U32.pack(tx.lease_time), _U32.pack(t1), _U32.pack(t2))
        return hit

    def handle(self, tx: Transaction4) -> None:
        kind = tx.reply_type
        if not kind or tx.reply is not None:  # (a leasequery reply is built whole)
            return
        req = tx.request
        sid = self._server_ids.get(tx.server_id)
        if sid is None:
            if len(self._server_ids) > 1024:
                self._server_ids.clear()
            sid = self._server_ids[tx.server_id] = _U32.pack(tx.server_id)
        opts: dict[int, bytes] = {53: _TYPE_BYTES[kind], 54: sid}
        reply = Message4(
            BOOTREPLY,
            req.htype,
            req.hlen,
            0,
            req.xid,
            0,
            req.flags,
            0,
            0,
            0,
            req.giaddr,
            req.chaddr,
            b"",
            b"",
            opts,
        )
        tx.reply = reply
        if kind == MessageType.NAK:
            if tx.drop_detail:
                opts[56] = tx.drop_detail.encode("utf-8", "replace")[:255]
            if req.giaddr:
                reply.flags |= FLAG_BROADCAST  # RFC 2131 §4.3.2: relay must broadcast the NAK
            return
        if tx.msg_type_code == MessageType.INFORM:
            reply.ciaddr = req.ciaddr
        else:
            lease = tx.lease
            assert lease is not None
            reply.yiaddr = lease.address
            if kind == MessageType.ACK:
                reply.ciaddr = req.ciaddr
                if self.env.reconfigure_secret and forcerenew.accepts(self.env, tx):
                    opts[90] = forcerenew.nonce_option(self.env, tx)  # RFC 6704 §3.2.1
            opts[51], opts[58], opts[59] = self._lease_options(tx)
            answer = tx.answer
            if answer is not None and (answer.renewal_time is not None or answer.rebinding_time is not None):
                t1 = min(
                    answer.renewal_time if answer.renewal_time is not None else tx.lease_time // 2,
                    tx.lease_time,
                )
                t2 = answer.rebinding_time if answer.rebinding_time is not None else tx.lease_time * 7 // 8
                opts[58] = _U32.pack(t1)
                opts[59] = _U32.pack(min(max(t2, t1), tx.lease_time))
            if not tx.msg_type_code:  # a BOOTREPLY: no DHCP message type, server id, lease times
                for code in DHCP_ONLY:
                    del opts[code]
                if not req.cookie:  # RFC 951 client (no RFC 1048 cookie): a reply without options
                    reply.cookie = False
                    opts.clear()
        subnet = tx.subnet
        answer = tx.answer
        if answer is not None and (answer.next_server or answer.boot_file or answer.server_name):
            reply.siaddr = answer.next_server or (subnet.next_server if subnet else 0)
            reply.file = (answer.boot_file or (subnet.boot_file if subnet else b""))[:127]
            reply.sname = (answer.server_name or (subnet.server_hostname if subnet else b""))[:63]
        elif subnet is not None:
            reply.siaddr = subnet.next_server
            reply.file = subnet.boot_file
            reply.sname = subnet.server_hostname
        if not reply.file:
            boot = (answer.options.get(67) if answer is not None else None) or (
                subnet.options.get(67) if subnet is not None else None
            )
            if boot:
                reply.file = boot[:127]  # PXE firmware reads the file field, not option 67


class ApplyOptions(Handler[Transaction4]):
    """Configured options for OFFER/ACK: the ones the client asked for (option 55 order), the basic
    ones always, and every option the source set for this client in particular."""

    def __init__(self, env: Env4) -> None:
        self.env = env
        self._cache: dict[tuple[int, int, bytes], tuple[object, object, tuple[tuple[int, bytes], ...]]] = {}

    def _select(
        self, base: dict[int, bytes], extra: dict[int, bytes], prl: bytes
    ) -> tuple[tuple[int, bytes], ...]:
        key = (id(base), id(extra), prl)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is base and hit[1] is extra:
            return hit[2]
        chosen: dict[int, bytes] = {}
        if prl:
            for code in prl:
                value = extra.get(code, base.get(code))
                if value is not None and code not in chosen:
                    chosen[code] = value
            for code in ALWAYS_SEND:
                if code not in chosen and (code in extra or code in base):
                    chosen[code] = extra.get(code, base.get(code, b""))
            for code, value in extra.items():
                chosen.setdefault(code, value)
        else:
            chosen.update(base)
            chosen.update(extra)  # the client's own options win over the subnet's
        items = tuple(chosen.items())
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = (base, extra, items)
        return items

    def post(self, tx: Transaction4) -> None:
        reply = tx.reply
        if (
            reply is None
            or not reply.cookie
            or tx.reply_type == MessageType.NAK
            or tx.msg_type_code == MessageType.LEASEQUERY
        ):
            return
        base = tx.subnet.options if tx.subnet is not None else _EMPTY
        answer = tx.answer
        extra = answer.options if answer is not None else _EMPTY
        opts = reply.options
        for code, value in self._select(base, extra, tx.prl):
            if code not in opts:
                opts[code] = value
        hostname = answer.hostname if answer is not None else None
        if hostname and 12 not in opts and (12 in tx.prl or 12 in tx.request.options):
            opts[12] = hostname.encode("utf-8", "replace")


class EchoRelayInfo(Handler[Transaction4]):
    """RFC 6842: echo the client identifier; RFC 3046 §2.2: echo option 82, as the last option."""

    def __init__(self, env: Env4) -> None:
        self.env = env

    def post(self, tx: Transaction4) -> None:
        if tx.reply is not None and tx.reply.cookie:
            opts = tx.reply.options
            if tx.client_id:
                opts[61] = tx.client_id
            rai = tx.request.options.get(82)
            if rai is not None:
                opts.pop(82, None)
                opts[82] = rai


class Destination(Handler[Transaction4]):
    """Where the reply goes, RFC 2131 §4.1 (plus RFC 8357 relay source port)."""

    def __init__(self, env: Env4) -> None:
        self.env = env

    def post(self, tx: Transaction4) -> None:
        reply = tx.reply
        if reply is None:
            return
        req = tx.request
        env = self.env
        if req.giaddr:
            tx.dest_ip = req.giaddr
            tx.dest_port = tx.relay_port or env.relay_port
        elif tx.reply_type == MessageType.NAK:
            tx.dest_ip, tx.dest_port = BROADCAST, env.client_port
        elif req.ciaddr:
            tx.dest_ip, tx.dest_port = req.ciaddr, env.client_port
        elif req.flags & FLAG_BROADCAST or not reply.yiaddr:
            tx.dest_ip, tx.dest_port = BROADCAST, env.client_port
        else:
            tx.dest_ip, tx.dest_port = reply.yiaddr, env.client_port
            tx.dest_l2 = True
