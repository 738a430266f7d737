"""The bridge contract's question for a request of either family (``Question4`` / ``Question6``),
built from the transaction's normalised fields: what the HTTP source POSTs and what its on-commit
notifications carry. Fields the request does not have are left out."""

from __future__ import annotations

import ipaddress
from typing import Any

from dhcpbridge.wire import client_info as fields
from dhcpbridge.wire.v4.message import ip4_str


def ip6_str(addr: int) -> str:
    return str(ipaddress.IPv6Address(addr))


def relay_id(data: bytes, enterprise: int | None = None) -> dict[str, Any]:
    """A relay agent's identifier: its hex, its text when all printable, its enterprise if any."""
    out: dict[str, Any] = {"hex": data.hex()}
    if all(0x20 <= b <= 0x7E for b in data):
        out["text"] = data.decode("ascii")
    if enterprise is not None:
        out["enterprise"] = enterprise
    return out


def _head(q: Any, protocol: int, xid: str) -> dict[str, Any]:
    return {"version": 1, "protocol": protocol, "msg_type": q.msg_type, "xid": xid}


def _classes(q: Any, out: dict[str, Any]) -> dict[str, Any]:
    """The client classes the request is in ([[class]]), when any."""
    classes = getattr(q, "classes", ())
    if classes:
        out["classes"] = list(classes)
    return out


def question(q: Any) -> dict[str, Any]:
    """The contract's question for a DHCPv4 (``Transaction4``) or DHCPv6 (``Transaction6``) request."""
    return question_v6(q) if q.protocol == 6 else question_v4(q)


def question_v4(q: Any) -> dict[str, Any]:
    """The contract's Question4 for a v4 transaction."""
    req = q.request
    out = _head(q, 4, f"{req.xid:08x}")
    if q.client_mac:
        out["client_mac"] = q.client_mac.hex(":")
    if q.client_id:
        out["client_id"] = q.client_id.hex()
    if q.hostname:
        out["hostname"] = q.hostname
    if q.interface:
        out["interface"] = q.interface
    if q.vendor_class:
        out["vendor_class"] = q.vendor_class.decode("utf-8", "backslashreplace")
    if req.ciaddr:
        out["client_ip"] = ip4_str(req.ciaddr)
    if q.requested_ip:
        out["requested_ip"] = ip4_str(q.requested_ip)
    if req.giaddr:
        out["relay_ip"] = ip4_str(req.giaddr)
    if q.server_id:
        out["server_ip"] = ip4_str(q.server_id)
    if q.subnet is not None:
        out["subnet"] = q.subnet.name
    if q.circuit_id:
        out["circuit_id"] = relay_id(q.circuit_id)
    if q.remote_id:
        out["remote_id"] = relay_id(q.remote_id)
    if q.prl:
        out["requested_options"] = [c for c in q.prl if 1 <= c <= 254]
    state = fields.request_state(q)
    if state:
        out["request_state"] = state
    pair = fields.rfc4361(q.client_id) if q.client_id else None
    if pair is not None:
        out["iaid"], out["duid"] = pair[0], pair[1].hex()
    opts = req.options
    fqdn = fields.fqdn81(opts.get(81))
    if fqdn:
        out["fqdn"] = fqdn
    relay_info = getattr(q, "relay_info", None)
    if relay_info:
        sub = relay_info.get(6)
        if sub:
            out["subscriber_id"] = relay_id(sub)
    _put(out, user_class=fields.user_class4(opts.get(77)), client_arch=fields.client_arch(opts.get(93)))
    return _classes(q, out)


def _put(out: dict[str, Any], **found: Any) -> None:
    """Set each field that was found (an empty or absent value is left out of the question)."""
    for key, value in found.items():
        if value:
            out[key] = value


def question_v6(q: Any) -> dict[str, Any]:
    """The contract's Question6 for a v6 transaction (the request unwrapped from its relays)."""
    out = _head(q, 6, f"{q.request.transaction_id:06x}")
    if q.duid:
        out["duid"] = q.duid.hex()
    mac = q.client_mac
    if len(mac) == 6:
        out["client_mac"] = mac.hex(":")
    fqdn = q.fqdn
    if fqdn:
        out["fqdn"] = fqdn
        out["hostname"] = fqdn.rstrip(".").split(".")[0]
    if q.interface:
        out["interface"] = q.interface
    na: list[dict[str, Any]] = []
    pd: list[dict[str, Any]] = []
    for ia in q.ias:
        entry: dict[str, Any] = {"iaid": ia.iaid}
        if ia.code == 3:
            if ia.hints:
                entry["addresses"] = [ip6_str(a) for a, _ in ia.hints]
            na.append(entry)
        else:
            if ia.hints:
                entry["prefixes"] = [{"prefix": ip6_str(a), "length": n} for a, n in ia.hints]
            pd.append(entry)
    if na:
        out["ia_na"] = na
    if pd:
        out["ia_pd"] = pd
    out["client_ip"] = q.client_ip
    if q.relay_ip:
        out["relay_ip"] = q.relay_ip
    if q.subnet is not None:
        out["subnet"] = q.subnet.name
    if q.interface_id:
        out["interface_id"] = relay_id(q.interface_id)
    if q.remote_id:
        out["remote_id"] = relay_id(q.remote_id, q.remote_enterprise)
    if q.subscriber_id:
        out["subscriber_id"] = relay_id(q.subscriber_id)
    enterprise = q.vendor_class_enterprise
    if enterprise is not None:
        out["vendor_class_enterprise"] = enterprise
    codes = [c for c in q.requested_options if c > 0]
    if codes:
        out["requested_options"] = codes
    req = q.request
    if not hasattr(req, "raw"):  # a stand-in without the message's options
        return _classes(q, out)
    vendor = fields.vendor_class6(req.raw(16))
    if vendor is not None:
        out["vendor_class"] = vendor
    _put(out, user_class=fields.user_class6(req.raw(15)), client_arch=fields.client_arch(req.raw(61)))
    server_ip = getattr(q, "server_ip", "")
    if server_ip:
        out["server_ip"] = server_ip
    return _classes(q, out)
