"""Typed option values: the small set of value kinds DHCP options are made of, both directions.

Shared by the DHCPv4 and DHCPv6 option registries and by the config loader, so an option can be
configured by name ("routers") or by code with a kind ("string", "ip4-list", "hex", ...) without
anyone writing code. ``encode(kind, value)`` turns a config/JSON value into option bytes and raises
``ValueError`` with a readable message; ``decode(kind, data)`` turns bytes back into a JSON-friendly
value and raises ``FormError``.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable, Iterable
from typing import Any

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.parser import fixed_items

Encoder = Callable[[Any], bytes]
Decoder = Callable[[bytes], Any]


def _ip4(value: Any) -> bytes:
    return ipaddress.IPv4Address(str(value)).packed


def _ip6(value: Any) -> bytes:
    return ipaddress.IPv6Address(str(value)).packed


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str) and "," in value:
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _uint(bits: int) -> Encoder:
    fmt = {8: "!B", 16: "!H", 32: "!I"}[bits]

    def enc(value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, int):
            value = int(str(value), 0)
        if not 0 <= value < (1 << bits):
            raise ValueError(f"{value} does not fit in an unsigned {bits}-bit integer")
        return struct.pack(fmt, value)

    return enc


def _int32(value: Any) -> bytes:
    value = int(value)
    if not -(1 << 31) <= value < (1 << 31):
        raise ValueError(f"{value} does not fit in a signed 32-bit integer")
    return struct.pack("!i", value)


def _bool(value: Any) -> bytes:
    if isinstance(value, str):
        low = value.lower()
        if low not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise ValueError(f"{value!r} is not a boolean")
        return b"\x01" if low in ("true", "1", "yes", "on") else b"\x00"
    return b"\x01" if value else b"\x00"


def _string(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    if not value:
        raise ValueError("a string option needs at least one character (RFC 2132)")
    return value.encode("utf-8")


def parse_hex(value: str) -> bytes:
    """Hex in any of the usual spellings: ``0x0102``, ``01:02``, ``01-02``, ``01 02``, ``0102``."""
    text = value.strip()
    if text.lower().startswith("0x"):
        text = text[2:]
    for sep in (":", "-", " ", "."):
        text = text.replace(sep, "")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{value!r} is not hex") from None


def parse_id(text: str, what: str) -> bytes:
    """``parse_hex`` for an identifier (a MAC, a DUID): not empty; errors name ``what``."""
    try:
        raw = parse_hex(text)
    except ValueError:
        raise ValueError(f"{what}: {text!r} is not hex") from None
    if not raw:
        raise ValueError(f"{what}: must not be empty")
    return raw


def _hex(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a hex string, got {type(value).__name__}")
    return parse_hex(value)


#: bytes a label shows as themselves in a name's text form; every other byte is escaped
_PLAIN = bytes(b for b in range(0x21, 0x7F) if b not in b".\\")


def label_text(raw: bytes) -> str:
    """One label in DNS presentation format (RFC 1035 §5.1, as dnspython and Kea write it): a
    '.' or '\\' inside the label is escaped with a backslash, a byte outside printable ASCII as
    ``\\DDD`` (decimal), so every label, whatever it holds, survives text -> wire again."""
    if not raw.translate(None, _PLAIN):
        return raw.decode("ascii")
    out: list[str] = []
    for byte in raw:
        if byte in _PLAIN:
            out.append(chr(byte))
        elif byte in b".\\":
            out.append("\\" + chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def _text_labels(name: str) -> list[str]:
    """``name`` split at its unescaped dots (escapes kept); a trailing dot ends the name."""
    labels: list[str] = []
    current: list[str] = []
    i, n = 0, len(name)
    while i < n:
        char = name[i]
        if char == "\\" and i + 1 < n:
            width = 4 if name[i + 1 : i + 4].isdigit() and len(name[i + 1 : i + 4]) == 3 else 2
            current.append(name[i : i + width])
            i += width
            continue
        if char == ".":
            labels.append("".join(current))
            current = []
        else:
            current.append(char)
        i += 1
    if current:
        labels.append("".join(current))
    return labels


def _label_bytes(label: str, name: str) -> bytes:
    """The wire bytes of one text label: escapes undone; a label of non-ASCII characters (a name
    someone typed, not one we decoded) in IDNA form."""
    if "\\" not in label:
        if label.isascii():
            return label.encode("ascii")
        try:
            return label.encode("idna")
        except UnicodeError as exc:
            raise ValueError(f"label {label!r} of {name!r}: {exc}") from None
    out = bytearray()
    i, n = 0, len(label)
    while i < n:
        char = label[i]
        if char == "\\" and i + 1 < n:
            digits = label[i + 1 : i + 4]
            if len(digits) == 3 and digits.isdigit():
                if int(digits) > 255:
                    raise ValueError(f"escape \\{digits} in {name!r} is not a byte")
                out.append(int(digits))
                i += 4
                continue
            char = label[i + 1]
            i += 1
        out += char.encode("utf-8")
        i += 1
    return bytes(out)


def encode_domain(name: str) -> bytes:
    """One domain name in RFC 1035 §3.1 wire form (labels, no compression), from its text form
    (presentation-format escapes as ``label_text`` writes them; surrounding whitespace ignored)."""
    out = bytearray()
    name = name.strip()
    if name and name != ".":
        plain = "\\" not in name  # no escapes (the common case): the labels lie between the dots
        labels = (name[:-1] if name.endswith(".") else name).split(".") if plain else _text_labels(name)
        for label in labels:
            raw = label.encode("ascii") if plain and label.isascii() else _label_bytes(label, name)
            if not 0 < len(raw) < 64:
                raise ValueError(f"label {label!r} of {name!r} must be 1-63 bytes")
            out.append(len(raw))
            out += raw
    out.append(0)
    if len(out) > 255:
        raise ValueError(f"domain name {name!r} is longer than 255 bytes")
    return bytes(out)


def decode_domains(data: bytes) -> list[str]:
    """A sequence of RFC 1035 names (with compression pointers, as RFC 3397 allows for option 119)."""
    names: list[str] = []
    pos = 0
    end = len(data)
    while pos < end:
        labels: list[str] = []
        cursor = pos
        jumped = False
        hops = 0
        while True:
            if cursor >= end:
                raise FormError("domain name runs past the end of the option", "bad-domain")
            length = data[cursor]
            if length == 0:
                cursor += 1
                break
            if length & 0xC0 == 0xC0:
                if cursor + 1 >= end:
                    raise FormError("truncated compression pointer", "bad-domain")
                target = ((length & 0x3F) << 8) | data[cursor + 1]
                hops += 1
                if hops > 64 or target >= end:
                    raise FormError("compression pointer loop or out of range", "bad-domain")
                if not jumped:
                    pos = cursor + 2
                    jumped = True
                cursor = target
                continue
            if length & 0xC0:
                raise FormError("reserved label type", "bad-domain")
            label = data[cursor + 1 : cursor + 1 + length]
            if len(label) != length:
                raise FormError("label runs past the end of the option", "bad-domain")
            labels.append(label_text(label))
            cursor += 1 + length
        if not jumped:
            pos = cursor
        names.append(".".join(labels))
    return names


def decode_name(data: bytes, pos: int, end: int, *, allow_partial: bool) -> tuple[str, int, bool]:
    """One uncompressed name (RFC 8415 §10, RFC 4702 §2.3.1) starting at ``pos``; returns (name,
    next_pos, fully_qualified). ``allow_partial``: the name may end without the root label."""
    labels: list[str] = []
    total = 0
    while True:
        if pos >= end:
            if allow_partial and labels:
                return ".".join(labels), pos, False
            raise FormError("domain name runs past the end of the option", "bad-domain")
        length = data[pos]
        if length == 0:
            return ".".join(labels), pos + 1, True
        if length > 63:
            raise FormError(f"label length {length} (compression is not allowed in DHCPv6)", "bad-domain")
        if pos + 1 + length > end:
            raise FormError("label runs past the end of the option", "bad-domain")
        total += length + 1
        if total > 255:
            raise FormError("domain name longer than 255 bytes", "bad-domain")
        labels.append(label_text(data[pos + 1 : pos + 1 + length]))
        pos += 1 + length


def decode_names(data: bytes) -> list[str]:
    """A list of fully qualified names (RFC 8415 §10, no compression), e.g. the domain search list."""
    names: list[str] = []
    pos, end = 0, len(data)
    while pos < end:
        name, pos, _ = decode_name(data, pos, end, allow_partial=False)
        names.append(name)
    return names


def encode_names(names: Iterable[str]) -> bytes:
    """Fully qualified names in RFC 1035 wire form; ``ValueError`` on bad names."""
    return b"".join(encode_domain(n) for n in names)


def _domain_list(value: Any) -> bytes:
    return b"".join(encode_domain(str(v)) for v in _as_list(value))


def _routes(value: Any) -> bytes:
    """RFC 3442 classless static routes: ``["10.0.0.0/8 via 10.67.0.1", {prefix=..., router=...}]``."""
    out = bytearray()
    for item in _as_list(value):
        if isinstance(item, dict):
            prefix, router = item.get("prefix"), item.get("router")
        else:
            parts = str(item).replace(" via ", " ").split()
            if len(parts) != 2:
                raise ValueError(f"route {item!r} must look like '10.0.0.0/8 via 10.67.0.1'")
            prefix, router = parts
        net = ipaddress.IPv4Network(str(prefix), strict=True)
        significant = (net.prefixlen + 7) // 8
        out.append(net.prefixlen)
        out += net.network_address.packed[:significant]
        out += _ip4(router)
    return bytes(out)


def _decode_routes(data: bytes) -> list[str]:
    routes: list[str] = []
    pos = 0
    while pos < len(data):
        width = data[pos]
        if width > 32:
            raise FormError(f"route prefix length {width} > 32", "bad-routes")
        significant = (width + 7) // 8
        body = data[pos + 1 : pos + 1 + significant + 4]
        if len(body) != significant + 4:
            raise FormError("classless route runs past the end of the option", "bad-routes")
        net = ipaddress.IPv4Address(body[:significant].ljust(4, b"\0"))
        router = ipaddress.IPv4Address(body[significant:])
        routes.append(f"{net}/{width} via {router}")
        pos += 1 + significant + 4
    return routes


def _fixed(size: int, fmt: str) -> Decoder:
    st = struct.Struct(fmt)

    def dec(data: bytes) -> Any:
        if len(data) != size:
            raise FormError(f"expected {size} bytes, got {len(data)}", "bad-length")
        return st.unpack(data)[0]

    return dec


def _list_of(size: int, one: Decoder) -> Decoder:
    def dec(data: bytes) -> list[Any]:
        return [one(item) for item in fixed_items(data, size, "list")]

    return dec


def _dec_ip4(data: bytes) -> str:
    if len(data) != 4:
        raise FormError(f"an IPv4 address is 4 bytes, got {len(data)}", "bad-length")
    return str(ipaddress.IPv4Address(data))


def _dec_ip6(data: bytes) -> str:
    if len(data) != 16:
        raise FormError(f"an IPv6 address is 16 bytes, got {len(data)}", "bad-length")
    return str(ipaddress.IPv6Address(data))


def _dec_string(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


def _dec_hex(data: bytes) -> str:
    return data.hex(":")


def _dec_bool(data: bytes) -> bool:
    if len(data) != 1:
        raise FormError("a boolean is 1 byte", "bad-length")
    return data != b"\x00"


def _enc_list(one: Encoder) -> Encoder:
    def enc(value: Any) -> bytes:
        items = _as_list(value)
        if not items:
            raise ValueError("expected at least one value")
        return b"".join(one(v) for v in items)

    return enc


KINDS: dict[str, tuple[Encoder, Decoder]] = {
    "ip4": (_ip4, _dec_ip4),
    "ip4-list": (_enc_list(_ip4), _list_of(4, _dec_ip4)),
    "ip6": (_ip6, _dec_ip6),
    "ip6-list": (_enc_list(_ip6), _list_of(16, _dec_ip6)),
    "u8": (_uint(8), _fixed(1, "!B")),
    "u16": (_uint(16), _fixed(2, "!H")),
    "u32": (_uint(32), _fixed(4, "!I")),
    "i32": (_int32, _fixed(4, "!i")),
    "u8-list": (_enc_list(_uint(8)), _list_of(1, _fixed(1, "!B"))),
    "u16-list": (_enc_list(_uint(16)), _list_of(2, _fixed(2, "!H"))),
    "bool": (_bool, _dec_bool),
    "string": (_string, _dec_string),
    "hex": (_hex, _dec_hex),
    "domain-list": (_domain_list, decode_domains),
    "routes": (_routes, _decode_routes),
}


def encode(kind: str, value: Any) -> bytes:
    """Encode a config/JSON value of ``kind``; ``ValueError`` says what is wrong with it."""
    try:
        enc = KINDS[kind][0]
    except KeyError:
        raise ValueError(f"unknown value kind {kind!r} (known: {', '.join(sorted(KINDS))})") from None
    try:
        return enc(value)
    except (ValueError, TypeError, ipaddress.AddressValueError, struct.error) as exc:
        raise ValueError(f"invalid {kind} value {value!r}: {exc}") from None


def decode(kind: str, data: bytes) -> Any:
    """Decode option bytes of ``kind`` into a JSON-friendly value; raises ``FormError``."""
    return KINDS[kind][1](bytes(data))
