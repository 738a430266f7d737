"""The DHCPv4 transaction: one request, what the handlers learnt about it, and the reply they built."""

from __future__ import annotations

from typing import Any

from dhcpbridge.engine.core import Dest, Transaction
from dhcpbridge.engine.model import Lease
from dhcpbridge.engine.records import Meta4
from dhcpbridge.engine.v4.subnet import Subnet4
from dhcpbridge.wire.v4.message import Message4, ip4_str
from dhcpbridge.wire.v4.options import MESSAGE_NAMES

BROADCAST = 0xFFFFFFFF


class Transaction4(Transaction):
    """Mutable bundle passed through the pipeline. Fields of the ``Query`` protocol are filled by
    the classify handler so sources can read them directly."""

    __slots__ = (
        "broadcast_reply",
        "client_id",
        "client_key",
        "client_mac",
        "dest_ip",
        "dest_l2",
        "dest_port",
        "from_relay",
        "hostname",
        "known_relay",
        "lease",
        "lease_time",
        "link_selection",
        "max_size",
        "meta",
        "prl",
        "relay_info",
        "relay_port",
        "reply",
        "request",
        "requested_ip",
        "requested_lease",
        "server_id",
        "subnet",
        "vendor_class",
    )

    def __init__(self, request: Message4, meta: Meta4, now: float, io_ok: bool = False) -> None:
        super().__init__(4, request.msg_type, now, io_ok)
        self.request = request
        self.meta = meta
        self.client_mac = b""
        self.client_id = b""
        self.client_key = b""
        self.hostname = ""
        self.from_relay = False  # giaddr set and the relay itself sent it (source = giaddr)
        self.known_relay = ""  # a unicast renewal: the relay its lease was seen through
        self.relay_info: dict[int, bytes] | None = None
        self.link_selection = 0
        self.relay_port = 0
        self.requested_ip = 0
        self.requested_lease: int | None = None
        self.prl = b""
        self.max_size = 576  # RFC 2131 §2: what every client accepts without option 57
        self.vendor_class = b""
        self.subnet: Subnet4 | None = None
        self.server_id = 0
        self.lease: Lease | None = None
        self.lease_time = 0
        self.reply: Message4 | None = None
        self.broadcast_reply = False
        self.dest_ip = 0
        self.dest_port = 0
        self.dest_l2 = False  # unicast to a client without an address: needs a link-layer frame

    def log_fields(self, dest: Dest | None) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "client": self.request.mac.hex(":"),
            "type": MESSAGE_NAMES.get(self.msg_type_code, "BOOTP"),
        }
        if self.reply is not None:
            fields["reply"] = MESSAGE_NAMES.get(self.reply_type, "?")
            fields["yiaddr"] = ip4_str(self.reply.yiaddr)
            fields["dest"] = f"{ip4_str(self.dest_ip)}:{self.dest_port}"
        if self.state:
            fields["state"] = self.state
        return fields

    # --- Query protocol (derived text fields, computed only when a source asks) -------------
    @property
    def msg_type(self) -> str:
        return MESSAGE_NAMES.get(self.msg_type_code, str(self.msg_type_code))

    @property
    def relay_ip(self) -> str:
        return ip4_str(self.request.giaddr) if self.request.giaddr else ""

    @property
    def interface(self) -> str:
        return self.meta.ifname

    @property
    def requested_options(self) -> list[int]:
        return list(self.prl)
