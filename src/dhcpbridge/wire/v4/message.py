"""DHCPv4 messages (RFC 2131 §2) <-> bytes, with RFC 3396 long options and option overload.

``parse(data)`` returns a ``Message4`` whose ``options`` dict maps code -> value bytes, after
concatenating split options (RFC 3396 §5) across the options field and, when option 52 says so,
the ``file`` and then ``sname`` fields (RFC 2131 §4.1; option 52 found inside those fields is
ignored, so overloads cannot loop). Addresses are host-order ints. ``encode(msg)`` writes the
options in dict order, splits values longer than 255 bytes, overloads into ``file``/``sname``
when the result would exceed the client's maximum message size, and pads to the BOOTP minimum
of 300 bytes. Every malformed input raises ``FormError`` and nothing else.

A message without the RFC 1048 magic cookie is an RFC 951 BOOTP message (old devices, some PXE
ROMs): it parses with ``cookie = False`` and no options when its 64-byte ``vend`` field is whole
(300 bytes or more, RFC 951) or absent altogether (the bare 236-byte header, as klibc's ``ipconfig
-c bootp`` sends; ISC dhcpd takes it too). Anything in between without the cookie is a truncated
message and still refused (``short`` below 240 bytes, else ``no-cookie``). A message with
``cookie = False`` encodes as 300 bytes whose ``vend`` field is all zeros: no options, the cookie
only goes to a client that sent it (RFC 1048: the cookie says how to read the vend field).
"""

from __future__ import annotations

import struct

from dhcpbridge.wire.errors import FormError

HEADER = struct.Struct("!BBBBIHHIIII16s64s128s")
HEADER_LEN = HEADER.size  # 236
MAGIC = b"c\x82Sc"
MIN_LEN = HEADER_LEN + 4
BOOTP_MIN = 300  # RFC 951: the header and the 64-byte vend field
DEFAULT_MAX_SIZE = 576
FLAG_BROADCAST = 0x8000
BOOTREQUEST = 1
BOOTREPLY = 2

_OVERLOAD = 52
_END = 255
_PAD = 0


FIELDS = (
    "op",
    "htype",
    "hlen",
    "hops",
    "xid",
    "secs",
    "flags",
    "ciaddr",
    "yiaddr",
    "siaddr",
    "giaddr",
    "chaddr",
    "sname",
    "file",
    "options",
    "cookie",
)


class Message4:
    """One DHCPv4/BOOTP message; plain attributes, ints for addresses."""

    __slots__ = (
        "chaddr",
        "ciaddr",
        "cookie",
        "file",
        "flags",
        "giaddr",
        "hlen",
        "hops",
        "htype",
        "op",
        "options",
        "secs",
        "siaddr",
        "sname",
        "xid",
        "yiaddr",
    )

    def __init__(
        self,
        op: int = BOOTREQUEST,
        htype: int = 1,
        hlen: int = 6,
        hops: int = 0,
        xid: int = 0,
        secs: int = 0,
        flags: int = 0,
        ciaddr: int = 0,
        yiaddr: int = 0,
        siaddr: int = 0,
        giaddr: int = 0,
        chaddr: bytes = b"",
        sname: bytes = b"",
        file: bytes = b"",
        options: dict[int, bytes] | None = None,
        cookie: bool = True,
    ) -> None:
        self.op = op
        self.htype = htype
        self.hlen = hlen
        self.hops = hops
        self.xid = xid
        self.secs = secs
        self.flags = flags
        self.ciaddr = ciaddr
        self.yiaddr = yiaddr
        self.siaddr = siaddr
        self.giaddr = giaddr
        self.chaddr = chaddr
        self.sname = sname
        self.file = file
        self.options: dict[int, bytes] = {} if options is None else options
        # False: an RFC 951 BOOTP message, no magic cookie and so no options (RFC 1048)
        self.cookie = cookie

    @property
    def msg_type(self) -> int:
        """Option 53, or 0 for BOOTP / a message without one."""
        value = self.options.get(53)
        return value[0] if value and len(value) == 1 else 0

    @property
    def mac(self) -> bytes:
        """The hardware address (chaddr cut to hlen, at most 16 bytes)."""
        return self.chaddr[: min(self.hlen, 16)]

    def __repr__(self) -> str:
        return (
            f"Message4(op={self.op}, type={self.msg_type}, xid={self.xid:#010x}, "
            f"chaddr={self.mac.hex(':')}, ciaddr={ip4_str(self.ciaddr)}, yiaddr={ip4_str(self.yiaddr)}, "
            f"giaddr={ip4_str(self.giaddr)}, options={sorted(self.options)}"
            + ("" if self.cookie else ", cookie=False")
            + ")"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message4):
            return NotImplemented
        return (
            self.op == other.op
            and self.htype == other.htype
            and self.hlen == other.hlen
            and self.hops == other.hops
            and self.xid == other.xid
            and self.secs == other.secs
            and self.flags == other.flags
            and self.ciaddr == other.ciaddr
            and self.yiaddr == other.yiaddr
            and self.siaddr == other.siaddr
            and self.giaddr == other.giaddr
            and self.chaddr == other.chaddr
            and self.sname == other.sname
            and self.file == other.file
            and self.options == other.options
            and self.cookie == other.cookie
        )

    __hash__ = None  # type: ignore[assignment]


def ip4_str(value: int) -> str:
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def ip4_int(text: str) -> int:
    parts = text.split(".")
    if len(parts) != 4:
        raise ValueError(f"{text!r} is not an IPv4 address")
    value = 0
    for part in parts:
        octet = int(part)
        if not 0 <= octet <= 255 or not part.isdigit():
            raise ValueError(f"{text!r} is not an IPv4 address")
        value = (value << 8) | octet
    return value


def _scan(data: bytes, pos: int, end: int, opts: dict[int, bytes], allow_overload: bool) -> int:
    """Read TLV options from data[pos:end] into opts; return the overload value found (0 if none)."""
    overload = 0
    while pos < end:
        code = data[pos]
        if code == _PAD:
            pos += 1
            continue
        if code == _END:
            return overload
        if pos + 1 >= end:
            raise FormError(f"option {code} at offset {pos} has no length byte", "truncated-option")
        stop = pos + 2 + data[pos + 1]
        if stop > end:
            raise FormError(f"option {code} at offset {pos} runs past the end of its field", "option-overrun")
        value = data[pos + 2 : stop]
        if code == _OVERLOAD:
            if allow_overload:
                if len(value) != 1 or not 1 <= value[0] <= 3:
                    raise FormError("option 52 must be one byte of 1, 2 or 3", "bad-overload")
                overload = value[0]
        elif code in opts:
            opts[code] += value
        else:
            opts[code] = value
        pos = stop
    return overload


def parse(data: bytes | bytearray | memoryview) -> Message4:
    """Decode a DHCPv4 or BOOTP message; raise ``FormError`` for anything that is not one."""
    size = len(data)
    if size < MIN_LEN and size != HEADER_LEN:
        raise FormError(f"{size} bytes is shorter than a DHCP message ({MIN_LEN})", "short")
    raw = bytes(data)
    cookie = raw[HEADER_LEN:MIN_LEN] == MAGIC
    if not cookie and HEADER_LEN < size < BOOTP_MIN:
        # RFC 951 BOOTP without the RFC 1048 cookie: the vend field whole (64 bytes) or absent
        raise FormError("no DHCP magic cookie, and not a whole RFC 951 BOOTP message", "no-cookie")
    (op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file) = (
        HEADER.unpack_from(raw)
    )
    if op not in (BOOTREQUEST, BOOTREPLY):
        raise FormError(f"op {op} is neither BOOTREQUEST nor BOOTREPLY", "bad-op")
    if hlen > 16:
        raise FormError(f"hlen {hlen} exceeds the 16-byte chaddr field", "bad-hlen")
    opts: dict[int, bytes] = {}
    overload = _scan(raw, MIN_LEN, len(raw), opts, True) if cookie else 0
    if not file.strip(b"\0"):
        file = b""
    if not sname.strip(b"\0"):
        sname = b""
    if overload & 1:
        _scan(raw, 108, 236, opts, False)  # file field, RFC 3396 §5 order: options, file, sname
        file = b""  # carried options, not a boot file: the same as an unused field
    if overload & 2:
        _scan(raw, 44, 108, opts, False)
        sname = b""
    return Message4(
        op,
        htype,
        hlen,
        hops,
        xid,
        secs,
        flags,
        ciaddr,
        yiaddr,
        siaddr,
        giaddr,
        chaddr,
        sname,
        file,
        opts,
        cookie,
    )


def _put(out: bytearray, code: int, value: bytes) -> None:
    if not value:
        out += bytes((code, 0))
        return
    for i in range(0, len(value), 255):
        chunk = value[i : i + 255]
        out.append(code)
        out.append(len(chunk))
        out += chunk


def encode_options(options: dict[int, bytes]) -> bytearray:
    out = bytearray()
    for code, value in options.items():
        if len(value) < 256:
            out.append(code)
            out.append(len(value))
            out += value
        else:
            _put(out, code, value)
    return out


def encode(msg: Message4, max_size: int = 0) -> bytes:
    """Encode ``msg``; with ``max_size`` (option 57 of the request), overload file/sname if needed.
    Without the cookie (``msg.cookie`` False) the vend field is 64 zero bytes and options are
    not written."""
    body = encode_options(msg.options) if msg.cookie else bytearray()
    sname, file = msg.sname, msg.file
    limit = max(max_size, DEFAULT_MAX_SIZE) - 28 if max_size else 0  # 28 = IP + UDP headers
    if limit and msg.cookie and MIN_LEN + len(body) + 1 > limit:
        body, sname, file = _overload(msg, limit)
    header = HEADER.pack(
        msg.op,
        msg.htype,
        msg.hlen,
        msg.hops,
        msg.xid & 0xFFFFFFFF,
        msg.secs,
        msg.flags,
        msg.ciaddr,
        msg.yiaddr,
        msg.siaddr,
        msg.giaddr,
        msg.chaddr,
        sname,
        file,
    )
    out = bytearray(header)
    if msg.cookie:
        out += MAGIC
        out += body
        out.append(_END)
    if len(out) < BOOTP_MIN:
        out += bytes(BOOTP_MIN - len(out))
    return bytes(out)


def _overload(msg: Message4, limit: int) -> tuple[bytearray, bytes, bytes]:
    """Fit the options into the client's limit (RFC 2131 §4.1, RFC 3396): each option goes into
    the options field if it fits, else into the free ``file`` field, else into the free ``sname``
    field; only an option that fits nowhere is left out. Option 82 stays in the options field, last."""
    room = limit - MIN_LEN - 1 - 3  # END, and option 52 itself
    pieces: list[tuple[int, bytearray]] = []
    for code, value in msg.options.items():
        piece = bytearray()
        _put(piece, code, value)
        pieces.append((code, piece))
    relay = [piece for code, piece in pieces if code == 82]
    reserve = sum(len(p) for p in relay)
    main = bytearray()
    free = {1: 127 if not msg.file.strip(b"\0") else 0, 2: 63 if not msg.sname.strip(b"\0") else 0}
    fields = {1: bytearray(), 2: bytearray()}
    for code, piece in pieces:
        if code == 82:
            continue
        if len(main) + len(piece) + reserve <= room:
            main += piece
            continue
        for flag in (1, 2):
            if len(fields[flag]) + len(piece) <= free[flag]:
                fields[flag] += piece
                break
        # else: fits nowhere and is left out; the reply stays within the client's limit
    for piece in relay:
        if len(main) + len(piece) <= room:
            main += piece
    used = (1 if fields[1] else 0) | (2 if fields[2] else 0)
    if used:
        main = bytearray((_OVERLOAD, 1, used)) + main
    file = bytes(fields[1] + b"\xff").ljust(128, b"\0") if used & 1 else msg.file
    sname = bytes(fields[2] + b"\xff").ljust(64, b"\0") if used & 2 else msg.sname
    return main, sname, file
