"""DHCPv6 options: code constants, one small class per option we understand, and the config registry.

Parsing is lazy: :func:`parse_options` turns an option area into :class:`RawOption` objects (code +
exact body bytes) and nothing more. Typed classes (``IANA``, ``StatusCode``, ...) are built only when
someone asks for them (``msg.get(IANA)``), so options the server never looks at cost one slice.
Every typed class has ``from_wire(body)`` (which must consume the body exactly, else ``FormError``)
and ``to_wire() -> body``; ``encode()`` adds the 4-byte option header. Unknown options stay raw and
are re-encoded verbatim, in order.

The registry half (:data:`OPTIONS6`, :func:`encode_config_option6`,
:func:`decode_option6_for_display`) maps configuration names like ``dns-servers`` to codes and
value kinds (the kinds of :mod:`dhcpbridge.wire.values` plus ``ntp-servers`` defined here).
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterable, Sequence
from enum import IntEnum
from ipaddress import IPv6Address
from typing import Any, ClassVar, Self, TypeVar

from mypy_extensions import trait

from dhcpbridge.wire import values
from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError

__all__ = [
    "IANA",
    "IAPD",
    "IATA",
    "NTP_SUBOPTION_MC_ADDR",
    "NTP_SUBOPTION_SRV_ADDR",
    "NTP_SUBOPTION_SRV_FQDN",
    "OPTIONS6",
    "OPTION_CLASSES",
    "ClientFqdn",
    "ClientId",
    "ClientLinkLayerAddr",
    "DnsServers",
    "DomainList",
    "EchoRequest",
    "ElapsedTime",
    "IAAddr",
    "IAPrefix",
    "InfMaxRt",
    "InformationRefreshTime",
    "InterfaceId",
    "MessageType6",
    "NtpServer",
    "Option6",
    "OptionCode6",
    "OptionContainer",
    "OptionRequest",
    "Preference",
    "RapidCommit",
    "RawOption",
    "ReconfAccept",
    "RelaySourcePort",
    "RemoteId",
    "ServerId",
    "SntpServers",
    "SolMaxRt",
    "StatusCode",
    "StatusCode6",
    "SubscriberId",
    "Unicast",
    "UserClass",
    "VendorClass",
    "VendorOpts",
    "decode_names",
    "decode_option6_for_display",
    "encode_config_option6",
    "encode_config_options6",
    "encode_names",
    "encode_options",
    "fields_equal",
    "fields_repr",
    "option_name",
    "options_to_json",
    "parse_options",
]

# ---------------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------------


class MessageType6(IntEnum):
    """DHCPv6 message types (RFC 8415 §7.3; LEASEQUERY* RFC 5007/5460, DHCPV4_* RFC 7341)."""

    SOLICIT = 1
    ADVERTISE = 2
    REQUEST = 3
    CONFIRM = 4
    RENEW = 5
    REBIND = 6
    REPLY = 7
    RELEASE = 8
    DECLINE = 9
    RECONFIGURE = 10
    INFORMATION_REQUEST = 11
    RELAY_FORW = 12
    RELAY_REPL = 13
    LEASEQUERY = 14
    LEASEQUERY_REPLY = 15
    LEASEQUERY_DONE = 16
    LEASEQUERY_DATA = 17
    DHCPV4_QUERY = 20
    DHCPV4_RESPONSE = 21


class OptionCode6(IntEnum):
    """DHCPv6 option codes (IANA registry; RFC 8415 §21 and the RFCs named per option)."""

    CLIENTID = 1
    SERVERID = 2
    IA_NA = 3
    IA_TA = 4
    IAADDR = 5
    ORO = 6
    PREFERENCE = 7
    ELAPSED_TIME = 8
    RELAY_MSG = 9
    AUTH = 11
    UNICAST = 12
    STATUS_CODE = 13
    RAPID_COMMIT = 14
    USER_CLASS = 15
    VENDOR_CLASS = 16
    VENDOR_OPTS = 17
    INTERFACE_ID = 18
    RECONF_MSG = 19
    RECONF_ACCEPT = 20
    SIP_SERVER_D = 21
    SIP_SERVER_A = 22
    DNS_SERVERS = 23
    DOMAIN_LIST = 24
    IA_PD = 25
    IAPREFIX = 26
    NIS_SERVERS = 27
    NISP_SERVERS = 28
    NIS_DOMAIN_NAME = 29
    NISP_DOMAIN_NAME = 30
    SNTP_SERVERS = 31
    INFORMATION_REFRESH_TIME = 32
    REMOTE_ID = 37
    SUBSCRIBER_ID = 38
    CLIENT_FQDN = 39
    NEW_POSIX_TIMEZONE = 41
    NEW_TZDB_TIMEZONE = 42
    ERO = 43
    NTP_SERVER = 56
    BOOTFILE_URL = 59
    BOOTFILE_PARAM = 60
    AFTR_NAME = 64
    CLIENT_LINKLAYER_ADDR = 79
    SOL_MAX_RT = 82
    INF_MAX_RT = 83
    RELAY_SOURCE_PORT = 135


class StatusCode6(IntEnum):
    """Status codes carried in OPTION_STATUS_CODE (RFC 8415 §21.13)."""

    SUCCESS = 0
    UNSPEC_FAIL = 1
    NO_ADDRS_AVAIL = 2
    NO_BINDING = 3
    NOT_ON_LINK = 4
    USE_MULTICAST = 5
    NO_PREFIX_AVAIL = 6


#: RFC 5908 §4.1-4.3 NTP time source sub-option codes.
NTP_SUBOPTION_SRV_ADDR = 1
NTP_SUBOPTION_MC_ADDR = 2
NTP_SUBOPTION_SRV_FQDN = 3

_HDR = struct.Struct("!HH")
_U8 = struct.Struct("!B")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")
_IA = struct.Struct("!III")
_IA_TA = _U32
_IAADDR = struct.Struct("!16sII")
_IAPREFIX = struct.Struct("!IIB16s")
_U32U16 = struct.Struct("!IH")

T = TypeVar("T", bound="Option6")


def option_name(code: int) -> str:
    """``dns-servers``-style name of an option code, ``option-NNN`` for unknown ones."""
    try:
        return OptionCode6(code).name.lower().replace("_", "-")
    except ValueError:
        return f"option-{code}"


# ---------------------------------------------------------------------------------------------
# Base classes and the option area codec
# ---------------------------------------------------------------------------------------------


def fields_equal(a: object, b: object, names: tuple[str, ...]) -> Any:
    """``a == b`` as a dataclass has it: same class and equal ``names``, else ``NotImplemented``."""
    if type(b) is not type(a):
        return NotImplemented
    return all(getattr(a, f) == getattr(b, f) for f in names)


def fields_repr(obj: object, names: tuple[str, ...]) -> str:
    """``Class(name=value, ...)`` as a dataclass prints it."""
    fields = ", ".join(f"{f}={getattr(obj, f)!r}" for f in names)
    return f"{type(obj).__name__}({fields})"


class Option6:
    """Base of every DHCPv6 option object: a ``code`` and a body (``to_wire``).

    A typed option class names its code in ``CODE``; ``opt.code`` reads it (a :class:`RawOption`
    carries its own). Two options are equal when they are of the same class with equal fields
    (``_FIELDS``), as dataclasses would be; the classes are plain so that mypyc compiles them.
    """

    __slots__ = ()

    CODE: ClassVar[int] = 0
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    @property
    def code(self) -> int:
        """The option code (RFC 8415 §21.1)."""
        return self.CODE

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        """Decode the option body ``data`` (header already removed); ``FormError`` if malformed."""
        raise NotImplementedError

    def to_wire(self) -> bytes:
        """The option body, without the 4-byte code/length header."""
        raise NotImplementedError

    def encode(self) -> bytes:
        """The whole option: code, length, body (RFC 8415 §21.1)."""
        body = self.to_wire()
        if len(body) > 0xFFFF:
            raise ValueError(f"option {self.code} body is {len(body)} bytes, more than 65535")
        return _HDR.pack(self.code, len(body)) + body

    def to_json(self) -> Any:
        """A JSON-friendly value for logs, the API and the diagnostic probe."""
        return self.to_wire().hex(":")

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other, self._FIELDS)  # type: ignore[no-any-return]

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclasses they replace

    def __repr__(self) -> str:
        return fields_repr(self, self._FIELDS)


class RawOption(Option6):
    """An option kept as bytes: unknown codes, and every option until someone decodes it."""

    __slots__ = ("code", "data")
    _FIELDS: ClassVar[tuple[str, ...]] = ("code", "data")
    code: int  # its own code, not the class's
    data: bytes

    def __init__(self, code: int, data: bytes) -> None:
        self.code = code
        self.data = data

    @classmethod
    def of(cls, option: Option6) -> Self:
        """Pre-encode a typed option once (e.g. the server DUID) to reuse it in every reply."""
        return cls(option.code, option.to_wire())

    def to_wire(self) -> bytes:
        return self.data

    def encode(self) -> bytes:
        n = len(self.data)
        if n > 0xFFFF:
            raise ValueError(f"option {self.code} body is {n} bytes, more than 65535")
        return _HDR.pack(self.code, n) + self.data


class Encoded(RawOption):
    """An option whose wire form (header included) is built once: encoding it costs nothing.

    Used for the server identifier, configured options and the IAs the engine builds. Handlers
    may read ``code`` / ``data`` like any ``RawOption``; to change one, replace it in the reply's
    option list (the configured ones are shared by every reply)."""

    __slots__ = ("wire",)
    _FIELDS = ("code", "data", "wire")
    wire: bytes

    def __init__(self, code: int, data: bytes, wire: bytes = b"") -> None:
        self.code = code
        self.data = data
        self.wire = wire or _HDR.pack(code, len(data)) + data

    def encode(self) -> bytes:
        return self.wire


def parse_options(data: bytes, start: int = 0, end: int | None = None) -> list[Option6]:
    """Split an option area (RFC 8415 §21.1) into :class:`RawOption` objects, in wire order.

    ``FormError`` ("truncated" / "bad-length") when a header or body runs past ``end``.
    """
    stop = len(data) if end is None else end
    pos = start
    out: list[Option6] = []
    append = out.append
    unpack = _HDR.unpack_from
    while pos < stop:
        if pos + 4 > stop:
            raise FormError(f"truncated option header at offset {pos}", "truncated")
        code, length = unpack(data, pos)
        pos += 4
        nxt = pos + length
        if nxt > stop:
            raise FormError(
                f"option {code} at offset {pos - 4} claims {length} bytes, only {stop - pos} left",
                "bad-length",
            )
        append(RawOption(code, data[pos:nxt]))
        pos = nxt
    return out


def encode_options(options: Iterable[Option6]) -> bytes:
    """The concatenated wire form of ``options`` (each with its header), in order."""
    return b"".join([o.encode() for o in options])


@trait
class OptionContainer:
    """Lookup helpers shared by messages and by options that carry options (IA_NA, IAADDR, ...).

    ``get(IANA)`` returns the first option of that class, decoding a :class:`RawOption` on demand
    (``FormError`` if its body is malformed); nothing is cached, so the raw bytes stay the truth.
    """

    __slots__ = ()

    options: list[Option6]

    def get(self, cls: type[T]) -> T | None:
        """The first option with ``cls.CODE``, as a ``cls``; None when absent."""
        code = cls.CODE
        for opt in self.options:
            if opt.code == code:
                if isinstance(opt, cls):
                    return opt
                return cls.from_wire(opt.to_wire())
        return None

    def get_all(self, cls: type[T]) -> list[T]:
        """Every option with ``cls.CODE``, in order, as ``cls`` objects."""
        code = cls.CODE
        out: list[T] = []
        for opt in self.options:
            if opt.code == code:
                out.append(opt if isinstance(opt, cls) else cls.from_wire(opt.to_wire()))
        return out

    def raw(self, code: int) -> bytes | None:
        """Body of the first option with ``code`` (no decoding), None when absent."""
        for opt in self.options:
            if opt.code == code:
                return opt.to_wire()
        return None

    def raw_all(self, code: int) -> list[bytes]:
        """Bodies of every option with ``code``, in order."""
        return [opt.to_wire() for opt in self.options if opt.code == code]

    def find(self, code: int) -> Option6 | None:
        """The first option object with ``code`` as stored (raw or typed), None when absent."""
        for opt in self.options:
            if opt.code == code:
                return opt
        return None

    def has(self, code: int) -> bool:
        """Whether an option with ``code`` is present."""
        for opt in self.options:  # noqa: SIM110 (a plain loop beats any(generator) on the hot path)
            if opt.code == code:
                return True
        return False

    def codes(self) -> list[int]:
        """The option codes present, in wire order (duplicates kept)."""
        return [opt.code for opt in self.options]

    @property
    def status(self) -> StatusCode | None:
        """The decoded Status Code option (RFC 8415 §21.13), if present."""
        return self.get(StatusCode)


def _exact(data: bytes, size: int, what: str) -> None:
    if len(data) != size:
        raise FormError(f"{what} body must be {size} bytes, got {len(data)}", "bad-length")


def _at_least(data: bytes, size: int, what: str) -> None:
    if len(data) < size:
        raise FormError(f"{what} body must be at least {size} bytes, got {len(data)}", "truncated")


def _ip6_list(data: bytes, what: str) -> list[IPv6Address]:
    if len(data) % 16:
        raise FormError(f"{what} body length {len(data)} is not a multiple of 16", "bad-length")
    return [IPv6Address(data[i : i + 16]) for i in range(0, len(data), 16)]


# ---------------------------------------------------------------------------------------------
# Domain names (RFC 8415 §10: RFC 1035 wire form, no compression)
# ---------------------------------------------------------------------------------------------


def _decode_name(data: bytes, pos: int, end: int, *, allow_partial: bool) -> tuple[str, int, bool]:
    """One uncompressed name starting at ``pos``; returns (name, next_pos, fully_qualified)."""
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
        labels.append(data[pos + 1 : pos + 1 + length].decode("ascii", "backslashreplace"))
        pos += 1 + length


def decode_names(data: bytes) -> list[str]:
    """A list of fully qualified names (RFC 8415 §10, no compression), e.g. the domain search list."""
    names: list[str] = []
    pos, end = 0, len(data)
    while pos < end:
        name, pos, _ = _decode_name(data, pos, end, allow_partial=False)
        names.append(name)
    return names


def encode_names(names: Iterable[str]) -> bytes:
    """Fully qualified names in RFC 1035 wire form; ``ValueError`` on bad names."""
    return b"".join(values.encode_domain(n) for n in names)


# ---------------------------------------------------------------------------------------------
# Typed options
# ---------------------------------------------------------------------------------------------


class _DuidOption(Option6):
    __slots__ = ("duid",)
    _FIELDS = ("duid",)

    duid: Duid

    def __init__(self, duid: Duid) -> None:
        self.duid = duid

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(Duid(data))

    def to_wire(self) -> bytes:
        return self.duid.raw

    def to_json(self) -> Any:
        return self.duid.to_json()


class ClientId(_DuidOption):
    """OPTION_CLIENTID (1): the client's DUID (RFC 8415 §21.2)."""

    __slots__ = ()
    CODE = OptionCode6.CLIENTID


class ServerId(_DuidOption):
    """OPTION_SERVERID (2): the server's DUID (RFC 8415 §21.3)."""

    __slots__ = ()
    CODE = OptionCode6.SERVERID


class _IaWithTimers(Option6, OptionContainer):
    """IA_NA and IA_PD: IAID, T1, T2 and the IA's options."""

    __slots__ = ("iaid", "options", "t1", "t2")
    _FIELDS = ("iaid", "t1", "t2", "options")
    iaid: int
    t1: int
    t2: int
    options: list[Option6]

    def __init__(self, iaid: int, t1: int = 0, t2: int = 0, options: list[Option6] | None = None) -> None:
        self.iaid = iaid
        self.t1 = t1
        self.t2 = t2
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 12, OptionCode6(cls.CODE).name)
        iaid, t1, t2 = _IA.unpack_from(data)
        return cls(iaid, t1, t2, parse_options(data, 12))

    def to_wire(self) -> bytes:
        return _IA.pack(self.iaid, self.t1, self.t2) + encode_options(self.options)

    def to_json(self) -> Any:
        return {"iaid": self.iaid, "t1": self.t1, "t2": self.t2, "options": options_to_json(self.options)}


class IANA(_IaWithTimers):
    """OPTION_IA_NA (3): IAID, T1, T2 and IA_NA-options such as IAADDR (RFC 8415 §21.4)."""

    __slots__ = ()
    CODE = OptionCode6.IA_NA

    @property
    def addresses(self) -> list[IAAddr]:
        """The IAADDR options inside this IA."""
        return self.get_all(IAAddr)


class IATA(Option6, OptionContainer):
    """OPTION_IA_TA (4): IAID and IA_TA-options, no T1/T2 (RFC 8415 §21.5)."""

    __slots__ = ("iaid", "options")
    CODE = OptionCode6.IA_TA
    _FIELDS = ("iaid", "options")
    iaid: int
    options: list[Option6]

    def __init__(self, iaid: int, options: list[Option6] | None = None) -> None:
        self.iaid = iaid
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 4, "IA_TA")
        return cls(_IA_TA.unpack_from(data)[0], parse_options(data, 4))

    def to_wire(self) -> bytes:
        return _IA_TA.pack(self.iaid) + encode_options(self.options)

    @property
    def addresses(self) -> list[IAAddr]:
        """The IAADDR options inside this IA."""
        return self.get_all(IAAddr)

    def to_json(self) -> Any:
        return {"iaid": self.iaid, "options": options_to_json(self.options)}


class IAAddr(Option6, OptionContainer):
    """OPTION_IAADDR (5): address, preferred and valid lifetimes, IAaddr-options (RFC 8415 §21.6)."""

    __slots__ = ("address", "options", "preferred", "valid")
    CODE = OptionCode6.IAADDR
    _FIELDS = ("address", "preferred", "valid", "options")
    address: IPv6Address
    preferred: int
    valid: int
    options: list[Option6]

    def __init__(
        self, address: IPv6Address, preferred: int = 0, valid: int = 0, options: list[Option6] | None = None
    ) -> None:
        self.address = address
        self.preferred = preferred
        self.valid = valid
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 24, "IAADDR")
        addr, preferred, valid = _IAADDR.unpack_from(data)
        return cls(IPv6Address(addr), preferred, valid, parse_options(data, 24))

    def to_wire(self) -> bytes:
        head = _IAADDR.pack(self.address.packed, self.preferred, self.valid)
        return head + encode_options(self.options) if self.options else head

    def to_json(self) -> Any:
        out: dict[str, Any] = {
            "address": str(self.address),
            "preferred": self.preferred,
            "valid": self.valid,
        }
        if self.options:
            out["options"] = options_to_json(self.options)
        return out


class OptionRequest(Option6):
    """OPTION_ORO (6): the option codes a client asks for (RFC 8415 §21.7)."""

    __slots__ = ("codes",)
    CODE = OptionCode6.ORO
    _FIELDS = ("codes",)
    codes: list[int]

    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = [] if codes is None else codes

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if len(data) % 2:
            raise FormError(f"ORO body length {len(data)} is odd", "bad-length")
        return cls(list(struct.unpack(f"!{len(data) // 2}H", data)))

    def to_wire(self) -> bytes:
        return struct.pack(f"!{len(self.codes)}H", *self.codes)

    def to_json(self) -> Any:
        return [option_name(c) for c in self.codes]


class _UIntOption(Option6):
    """Shared body for options that are one unsigned integer."""

    __slots__ = ("value",)
    _FIELDS = ("value",)
    _st: ClassVar[struct.Struct]
    _what: ClassVar[str]
    value: int

    def __init__(self, value: int) -> None:
        self.value = value

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _exact(data, cls._st.size, cls._what)
        return cls(cls._st.unpack(data)[0])

    def to_wire(self) -> bytes:
        return self._st.pack(self.value)

    def to_json(self) -> Any:
        return self.value


class Preference(_UIntOption):
    """OPTION_PREFERENCE (7): server preference 0-255 (RFC 8415 §21.8)."""

    __slots__ = ()
    CODE = OptionCode6.PREFERENCE
    _st = _U8
    _what = "PREFERENCE"


class ElapsedTime(_UIntOption):
    """OPTION_ELAPSED_TIME (8): hundredths of a second since the exchange began (RFC 8415 §21.9)."""

    __slots__ = ()
    CODE = OptionCode6.ELAPSED_TIME
    _st = _U16
    _what = "ELAPSED_TIME"


class Unicast(Option6):
    """OPTION_UNICAST (12): the server address a client may unicast to (RFC 8415 §21.12)."""

    __slots__ = ("address",)
    CODE = OptionCode6.UNICAST
    _FIELDS = ("address",)
    address: IPv6Address

    def __init__(self, address: IPv6Address) -> None:
        self.address = address

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _exact(data, 16, "UNICAST")
        return cls(IPv6Address(data))

    def to_wire(self) -> bytes:
        return self.address.packed

    def to_json(self) -> Any:
        return str(self.address)


class StatusCode(Option6):
    """OPTION_STATUS_CODE (13): a status code and a UTF-8 message (RFC 8415 §21.13)."""

    __slots__ = ("message", "status")
    CODE = OptionCode6.STATUS_CODE
    _FIELDS = ("status", "message")
    status: int
    message: str

    def __init__(self, status: int, message: str = "") -> None:
        self.status = status
        self.message = message

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 2, "STATUS_CODE")
        return cls(_U16.unpack_from(data)[0], data[2:].decode("utf-8", "backslashreplace"))

    def to_wire(self) -> bytes:
        return _U16.pack(self.status) + self.message.encode("utf-8")

    @property
    def name(self) -> str:
        """``Success``-style name (RFC spelling without spaces), ``status-NNN`` for unknown codes."""
        try:
            return "".join(p.capitalize() for p in StatusCode6(self.status).name.split("_"))
        except ValueError:
            return f"status-{self.status}"

    def to_json(self) -> Any:
        return {"status": self.status, "name": self.name, "message": self.message}


class _EmptyOption(Option6):
    __slots__ = ()

    _what: ClassVar[str]

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _exact(data, 0, cls._what)
        return cls()

    def to_wire(self) -> bytes:
        return b""

    def to_json(self) -> Any:
        return True


class RapidCommit(_EmptyOption):
    """OPTION_RAPID_COMMIT (14): two-message exchange requested/used; empty body (RFC 8415 §21.14)."""

    __slots__ = ()
    CODE = OptionCode6.RAPID_COMMIT
    _what = "RAPID_COMMIT"


class ReconfAccept(_EmptyOption):
    """OPTION_RECONF_ACCEPT (20): the client accepts Reconfigure messages; empty (RFC 8415 §21.20)."""

    __slots__ = ()
    CODE = OptionCode6.RECONF_ACCEPT
    _what = "RECONF_ACCEPT"


def _opaque_list(data: bytes, pos: int, what: str) -> list[bytes]:
    """RFC 8415 §21.15/21.16 ``*-class-data``: 2-byte length, data; repeated to the end."""
    out: list[bytes] = []
    end = len(data)
    while pos < end:
        if pos + 2 > end:
            raise FormError(f"{what}: truncated data length", "truncated")
        (n,) = _U16.unpack_from(data, pos)
        pos += 2
        if pos + n > end:
            raise FormError(f"{what}: data item of {n} bytes runs past the end", "bad-length")
        out.append(data[pos : pos + n])
        pos += n
    return out


def _opaque_join(items: Sequence[bytes]) -> bytes:
    return b"".join([_U16.pack(len(x)) + x for x in items])


class UserClass(Option6):
    """OPTION_USER_CLASS (15): a list of opaque user-class-data items (RFC 8415 §21.15)."""

    __slots__ = ("data",)
    CODE = OptionCode6.USER_CLASS
    _FIELDS = ("data",)
    data: list[bytes]

    def __init__(self, data: list[bytes] | None = None) -> None:
        self.data = [] if data is None else data

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(_opaque_list(data, 0, "USER_CLASS"))

    def to_wire(self) -> bytes:
        return _opaque_join(self.data)

    def to_json(self) -> Any:
        return [x.decode("utf-8", "backslashreplace") for x in self.data]


class VendorClass(Option6):
    """OPTION_VENDOR_CLASS (16): enterprise number and vendor-class-data items (RFC 8415 §21.16)."""

    __slots__ = ("data", "enterprise")
    CODE = OptionCode6.VENDOR_CLASS
    _FIELDS = ("enterprise", "data")
    enterprise: int
    data: list[bytes]

    def __init__(self, enterprise: int, data: list[bytes] | None = None) -> None:
        self.enterprise = enterprise
        self.data = [] if data is None else data

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 4, "VENDOR_CLASS")
        return cls(_U32.unpack_from(data)[0], _opaque_list(data, 4, "VENDOR_CLASS"))

    def to_wire(self) -> bytes:
        return _U32.pack(self.enterprise) + _opaque_join(self.data)

    def to_json(self) -> Any:
        return {
            "enterprise": self.enterprise,
            "data": [x.decode("utf-8", "backslashreplace") for x in self.data],
        }


class VendorOpts(Option6):
    """OPTION_VENDOR_OPTS (17): enterprise number and (code, data) sub-options (RFC 8415 §21.17)."""

    __slots__ = ("enterprise", "suboptions")
    CODE = OptionCode6.VENDOR_OPTS
    _FIELDS = ("enterprise", "suboptions")
    enterprise: int
    suboptions: list[tuple[int, bytes]]

    def __init__(self, enterprise: int, suboptions: list[tuple[int, bytes]] | None = None) -> None:
        self.enterprise = enterprise
        self.suboptions = [] if suboptions is None else suboptions

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 4, "VENDOR_OPTS")
        subs = [(o.code, o.to_wire()) for o in parse_options(data, 4)]
        return cls(_U32.unpack_from(data)[0], subs)

    def to_wire(self) -> bytes:
        return _U32.pack(self.enterprise) + b"".join([_HDR.pack(c, len(d)) + d for c, d in self.suboptions])

    def to_json(self) -> Any:
        return {
            "enterprise": self.enterprise,
            "suboptions": [{"code": c, "data": d.hex(":")} for c, d in self.suboptions],
        }


class _BytesOption(Option6):
    __slots__ = ("value",)
    _FIELDS = ("value",)

    value: bytes

    def __init__(self, value: bytes) -> None:
        self.value = value

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(bytes(data))

    def to_wire(self) -> bytes:
        return self.value

    def to_json(self) -> Any:
        return self.value.hex(":")


class InterfaceId(_BytesOption):
    """OPTION_INTERFACE_ID (18): opaque relay interface identifier, echoed in Relay-reply (RFC 8415 §21.18)."""

    __slots__ = ()
    CODE = OptionCode6.INTERFACE_ID


class SubscriberId(_BytesOption):
    """OPTION_SUBSCRIBER_ID (38): opaque subscriber identifier added by a relay (RFC 4580 §2)."""

    __slots__ = ()
    CODE = OptionCode6.SUBSCRIBER_ID


class _AddressListOption(Option6):
    __slots__ = ("addresses",)
    _FIELDS = ("addresses",)

    _what: ClassVar[str]
    addresses: list[IPv6Address]

    def __init__(self, addresses: list[IPv6Address] | None = None) -> None:
        self.addresses = [] if addresses is None else addresses

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(_ip6_list(data, cls._what))

    def to_wire(self) -> bytes:
        return b"".join([a.packed for a in self.addresses])

    def to_json(self) -> Any:
        return [str(a) for a in self.addresses]


class DnsServers(_AddressListOption):
    """OPTION_DNS_SERVERS (23): recursive DNS server addresses (RFC 3646 §3)."""

    __slots__ = ()
    CODE = OptionCode6.DNS_SERVERS
    _what = "DNS_SERVERS"


class SntpServers(_AddressListOption):
    """OPTION_SNTP_SERVERS (31): SNTP server addresses (RFC 4075 §4)."""

    __slots__ = ()
    CODE = OptionCode6.SNTP_SERVERS
    _what = "SNTP_SERVERS"


class DomainList(Option6):
    """OPTION_DOMAIN_LIST (24): domain search list, uncompressed names (RFC 3646 §4, RFC 8415 §10)."""

    __slots__ = ("names",)
    CODE = OptionCode6.DOMAIN_LIST
    _FIELDS = ("names",)
    names: list[str]

    def __init__(self, names: list[str] | None = None) -> None:
        self.names = [] if names is None else names

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(decode_names(data))

    def to_wire(self) -> bytes:
        return encode_names(self.names)

    def to_json(self) -> Any:
        return list(self.names)


class IAPD(_IaWithTimers):
    """OPTION_IA_PD (25): IAID, T1, T2 and IA_PD-options such as IAPREFIX (RFC 8415 §21.21)."""

    __slots__ = ()
    CODE = OptionCode6.IA_PD

    @property
    def prefixes(self) -> list[IAPrefix]:
        """The IAPREFIX options inside this IA."""
        return self.get_all(IAPrefix)


class IAPrefix(Option6, OptionContainer):
    """OPTION_IAPREFIX (26): lifetimes, prefix length, prefix, IAprefix-options (RFC 8415 §21.22).

    ``prefix`` is kept exactly as sent (a client hint may carry host bits or ``::``);
    :attr:`network` gives the ``IPv6Network`` view.
    """

    __slots__ = ("options", "preferred", "prefix", "prefix_length", "valid")
    CODE = OptionCode6.IAPREFIX
    _FIELDS = ("preferred", "valid", "prefix_length", "prefix", "options")
    preferred: int
    valid: int
    prefix_length: int
    prefix: IPv6Address
    options: list[Option6]

    def __init__(
        self,
        preferred: int,
        valid: int,
        prefix_length: int,
        prefix: IPv6Address,
        options: list[Option6] | None = None,
    ) -> None:
        self.preferred = preferred
        self.valid = valid
        self.prefix_length = prefix_length
        self.prefix = prefix
        self.options = [] if options is None else options

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 25, "IAPREFIX")
        preferred, valid, plen, prefix = _IAPREFIX.unpack_from(data)
        if plen > 128:
            raise FormError(f"IAPREFIX prefix length {plen} > 128", "bad-prefix")
        return cls(preferred, valid, plen, IPv6Address(prefix), parse_options(data, 25))

    @classmethod
    def of(
        cls, network: ipaddress.IPv6Network, preferred: int, valid: int, options: list[Option6] | None = None
    ) -> IAPrefix:
        """Build from an ``IPv6Network`` (what the engine usually has)."""
        return cls(preferred, valid, network.prefixlen, network.network_address, options or [])

    @property
    def network(self) -> ipaddress.IPv6Network:
        """The prefix as a network (host bits dropped)."""
        return ipaddress.IPv6Network((self.prefix, self.prefix_length), strict=False)

    def to_wire(self) -> bytes:
        head = _IAPREFIX.pack(self.preferred, self.valid, self.prefix_length, self.prefix.packed)
        return head + encode_options(self.options) if self.options else head

    def to_json(self) -> Any:
        out: dict[str, Any] = {
            "prefix": f"{self.prefix}/{self.prefix_length}",
            "preferred": self.preferred,
            "valid": self.valid,
        }
        if self.options:
            out["options"] = options_to_json(self.options)
        return out


class InformationRefreshTime(_UIntOption):
    """OPTION_INFORMATION_REFRESH_TIME (32): seconds before refreshing stateless info (RFC 8415 §21.23)."""

    __slots__ = ()
    CODE = OptionCode6.INFORMATION_REFRESH_TIME
    _st = _U32
    _what = "INFORMATION_REFRESH_TIME"


class RemoteId(Option6):
    """OPTION_REMOTE_ID (37): enterprise number and relay-supplied remote-id (RFC 4649 §3)."""

    __slots__ = ("enterprise", "remote_id")
    CODE = OptionCode6.REMOTE_ID
    _FIELDS = ("enterprise", "remote_id")
    enterprise: int
    remote_id: bytes

    def __init__(self, enterprise: int, remote_id: bytes) -> None:
        self.enterprise = enterprise
        self.remote_id = remote_id

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 4, "REMOTE_ID")
        return cls(_U32.unpack_from(data)[0], data[4:])

    def to_wire(self) -> bytes:
        return _U32.pack(self.enterprise) + self.remote_id

    def to_json(self) -> Any:
        return {"enterprise": self.enterprise, "remote_id": self.remote_id.hex(":")}


class ClientFqdn(Option6):
    """OPTION_CLIENT_FQDN (39): flags S/O/N and a domain name (RFC 4704 §4).

    ``name`` ending in ``"."`` is fully qualified (wire form ends with the root label); without
    the dot it is a partial name (RFC 4704 §4.2: no terminating zero octet); ``""`` is empty.
    """

    __slots__ = ("flags", "name")
    CODE = OptionCode6.CLIENT_FQDN
    FLAG_S: ClassVar[int] = 0x01
    FLAG_O: ClassVar[int] = 0x02
    FLAG_N: ClassVar[int] = 0x04
    _FIELDS = ("flags", "name")
    flags: int
    name: str

    def __init__(self, flags: int, name: str = "") -> None:
        self.flags = flags
        self.name = name

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 1, "CLIENT_FQDN")
        end = len(data)
        if end == 1:
            return cls(data[0], "")
        name, pos, full = _decode_name(data, 1, end, allow_partial=True)
        if pos != end:
            raise FormError("CLIENT_FQDN has bytes after the domain name", "bad-length")
        return cls(data[0], name + "." if full else name)

    def to_wire(self) -> bytes:
        flags = _U8.pack(self.flags)
        if not self.name:
            return flags
        if self.name.endswith("."):
            return flags + values.encode_domain(self.name)
        return flags + values.encode_domain(self.name)[:-1]

    @property
    def s(self) -> bool:
        """S bit: the server should perform the AAAA update."""
        return bool(self.flags & self.FLAG_S)

    @property
    def o(self) -> bool:
        """O bit: the server overrode the client's S preference."""
        return bool(self.flags & self.FLAG_O)

    @property
    def n(self) -> bool:
        """N bit: the server should perform no DNS updates."""
        return bool(self.flags & self.FLAG_N)

    def to_json(self) -> Any:
        return {"flags": self.flags, "name": self.name}


NtpEntry = tuple[int, IPv6Address | str | bytes]


class NtpServer(Option6):
    """OPTION_NTP_SERVER (56): time source sub-options (RFC 5908 §4).

    Each entry is ``(NTP_SUBOPTION_SRV_ADDR, IPv6Address)``, ``(NTP_SUBOPTION_MC_ADDR,
    IPv6Address)``, ``(NTP_SUBOPTION_SRV_FQDN, "ntp.example.")`` or ``(code, bytes)`` for unknown
    sub-options. RFC 5908 wants exactly one time source per option instance (the option may
    repeat); many servers and clients also use several sub-options in one instance.
    """

    __slots__ = ("entries",)
    CODE = OptionCode6.NTP_SERVER
    _FIELDS = ("entries",)
    entries: list[NtpEntry]

    def __init__(self, entries: list[NtpEntry] | None = None) -> None:
        self.entries = [] if entries is None else entries

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        entries: list[NtpEntry] = []
        for sub in parse_options(data):
            body = sub.to_wire()
            if sub.code in (NTP_SUBOPTION_SRV_ADDR, NTP_SUBOPTION_MC_ADDR):
                _exact(body, 16, "NTP address sub-option")
                entries.append((sub.code, IPv6Address(body)))
            elif sub.code == NTP_SUBOPTION_SRV_FQDN:
                name, pos, _ = _decode_name(body, 0, len(body), allow_partial=False)
                if pos != len(body):
                    raise FormError("NTP FQDN sub-option has trailing bytes", "bad-length")
                entries.append((sub.code, name))
            else:
                entries.append((sub.code, body))
        return cls(entries)

    def to_wire(self) -> bytes:
        out = bytearray()
        for sub, value in self.entries:
            if isinstance(value, IPv6Address):
                body = value.packed
            elif isinstance(value, str):
                body = values.encode_domain(value)
            else:
                body = bytes(value)
            out += _HDR.pack(sub, len(body)) + body
        return bytes(out)

    def to_json(self) -> Any:
        out: list[Any] = []
        for sub, value in self.entries:
            if sub == NTP_SUBOPTION_SRV_ADDR:
                out.append({"address": str(value)})
            elif sub == NTP_SUBOPTION_MC_ADDR:
                out.append({"multicast": str(value)})
            elif sub == NTP_SUBOPTION_SRV_FQDN:
                out.append({"fqdn": value})
            else:
                out.append(
                    {"code": sub, "data": bytes(value).hex(":") if isinstance(value, bytes) else str(value)}
                )
        return out


class ClientLinkLayerAddr(Option6):
    """OPTION_CLIENT_LINKLAYER_ADDR (79): hardware type and client MAC, added by a relay (RFC 6939 §4)."""

    __slots__ = ("address", "hwtype")
    CODE = OptionCode6.CLIENT_LINKLAYER_ADDR
    _FIELDS = ("hwtype", "address")
    hwtype: int
    address: bytes

    def __init__(self, hwtype: int, address: bytes) -> None:
        self.hwtype = hwtype
        self.address = address

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        _at_least(data, 2, "CLIENT_LINKLAYER_ADDR")
        return cls(_U16.unpack_from(data)[0], data[2:])

    def to_wire(self) -> bytes:
        return _U16.pack(self.hwtype) + self.address

    def to_json(self) -> Any:
        return {"hwtype": self.hwtype, "address": self.address.hex(":")}


class SolMaxRt(_UIntOption):
    """OPTION_SOL_MAX_RT (82): upper bound for the Solicit retransmission time, s (RFC 8415 §21.24)."""

    __slots__ = ()
    CODE = OptionCode6.SOL_MAX_RT
    _st = _U32
    _what = "SOL_MAX_RT"


class InfMaxRt(_UIntOption):
    """OPTION_INF_MAX_RT (83): upper bound for Information-request retransmission, s (RFC 8415 §21.25)."""

    __slots__ = ()
    CODE = OptionCode6.INF_MAX_RT
    _st = _U32
    _what = "INF_MAX_RT"


class RelaySourcePort(_UIntOption):
    """OPTION_RELAY_SOURCE_PORT (135): downstream relay's source port, 0 if standard (RFC 8357 §5)."""

    __slots__ = ()
    CODE = OptionCode6.RELAY_SOURCE_PORT
    _st = _U16
    _what = "RELAY_SOURCE_PORT"

    def __init__(self, value: int = 0) -> None:
        self.value = value


class EchoRequest(Option6):
    """OPTION_ERO (43): option codes a relay asks the server to echo in Relay-reply (RFC 4994 §3)."""

    __slots__ = ("codes",)
    CODE = OptionCode6.ERO
    _FIELDS = ("codes",)
    codes: list[int]

    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = [] if codes is None else codes

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        if len(data) % 2:
            raise FormError(f"ERO body length {len(data)} is odd", "bad-length")
        return cls(list(struct.unpack(f"!{len(data) // 2}H", data)))

    def to_wire(self) -> bytes:
        return struct.pack(f"!{len(self.codes)}H", *self.codes)

    def to_json(self) -> Any:
        return [option_name(c) for c in self.codes]


#: Typed class per option code (RELAY_MSG (9) lives in :mod:`dhcpbridge.wire.v6.message`).
OPTION_CLASSES: dict[int, type[Option6]] = {
    cls.CODE: cls
    for cls in (
        ClientId,
        ServerId,
        IANA,
        IATA,
        IAAddr,
        OptionRequest,
        Preference,
        ElapsedTime,
        Unicast,
        StatusCode,
        RapidCommit,
        UserClass,
        VendorClass,
        VendorOpts,
        InterfaceId,
        ReconfAccept,
        DnsServers,
        DomainList,
        IAPD,
        IAPrefix,
        SntpServers,
        InformationRefreshTime,
        RemoteId,
        SubscriberId,
        ClientFqdn,
        EchoRequest,
        NtpServer,
        ClientLinkLayerAddr,
        SolMaxRt,
        InfMaxRt,
        RelaySourcePort,
    )
}


# ---------------------------------------------------------------------------------------------
# Configuration registry and display
# ---------------------------------------------------------------------------------------------


def _ntp_entries(value: Any) -> list[NtpEntry]:
    if isinstance(value, str):
        items: list[Any] = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    if not items:
        raise ValueError("expected at least one NTP server")
    entries: list[NtpEntry] = []
    for item in items:
        text = str(item).strip()
        try:
            addr = IPv6Address(text)
        except ValueError:
            if not text or ":" in text:
                raise ValueError(f"{text!r} is neither an IPv6 address nor a domain name") from None
            values.encode_domain(text)  # validate now, with a clear message
            entries.append((NTP_SUBOPTION_SRV_FQDN, text))
            continue
        entries.append((NTP_SUBOPTION_MC_ADDR if addr.is_multicast else NTP_SUBOPTION_SRV_ADDR, addr))
    return entries


def _encode_ntp(value: Any) -> bytes:
    return NtpServer(_ntp_entries(value)).to_wire()


def _decode_ntp(data: bytes) -> Any:
    return NtpServer.from_wire(data).to_json()


#: Value kinds DHCPv6 needs beyond :data:`dhcpbridge.wire.values.KINDS`.
KINDS6: dict[str, tuple[values.Encoder, values.Decoder]] = {
    "ntp-servers": (_encode_ntp, _decode_ntp),
}

#: Configuration name -> (option code, value kind).
OPTIONS6: dict[str, tuple[int, str]] = {
    "dns-servers": (OptionCode6.DNS_SERVERS, "ip6-list"),
    "domain-search": (OptionCode6.DOMAIN_LIST, "domain-list"),
    "ntp-servers": (OptionCode6.NTP_SERVER, "ntp-servers"),
    "sntp-servers": (OptionCode6.SNTP_SERVERS, "ip6-list"),
    "information-refresh-time": (OptionCode6.INFORMATION_REFRESH_TIME, "u32"),
    "preference": (OptionCode6.PREFERENCE, "u8"),
    "sol-max-rt": (OptionCode6.SOL_MAX_RT, "u32"),
    "inf-max-rt": (OptionCode6.INF_MAX_RT, "u32"),
    "unicast": (OptionCode6.UNICAST, "ip6"),
    "sip-server-domains": (OptionCode6.SIP_SERVER_D, "domain-list"),
    "sip-server-addresses": (OptionCode6.SIP_SERVER_A, "ip6-list"),
    "nis-servers": (OptionCode6.NIS_SERVERS, "ip6-list"),
    "nisp-servers": (OptionCode6.NISP_SERVERS, "ip6-list"),
    "nis-domain-name": (OptionCode6.NIS_DOMAIN_NAME, "domain-list"),
    "nisp-domain-name": (OptionCode6.NISP_DOMAIN_NAME, "domain-list"),
    "posix-timezone": (OptionCode6.NEW_POSIX_TIMEZONE, "string"),
    "tzdb-timezone": (OptionCode6.NEW_TZDB_TIMEZONE, "string"),
    "bootfile-url": (OptionCode6.BOOTFILE_URL, "string"),
    "aftr-name": (OptionCode6.AFTR_NAME, "domain-list"),
}
_ALIASES = {"domain-list": "domain-search", "dns-search": "domain-search", "ntp-server": "ntp-servers"}
_CODE_TO_KIND: dict[int, str] = {code: kind for code, kind in OPTIONS6.values()}
#: Codes the server builds itself (or that only clients/relays send): not configurable by code.
_RESERVED = frozenset(
    {
        OptionCode6.CLIENTID,
        OptionCode6.SERVERID,
        OptionCode6.IA_NA,
        OptionCode6.IA_TA,
        OptionCode6.IAADDR,
        OptionCode6.ORO,
        OptionCode6.ELAPSED_TIME,
        OptionCode6.RELAY_MSG,
        OptionCode6.STATUS_CODE,
        OptionCode6.RAPID_COMMIT,
        OptionCode6.IA_PD,
        OptionCode6.IAPREFIX,
        OptionCode6.INTERFACE_ID,
    }
)


def _kind_encode(kind: str, value: Any) -> bytes:
    if kind in KINDS6:
        try:
            return KINDS6[kind][0](value)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"invalid {kind} value {value!r}: {exc}") from None
    return values.encode(kind, value)


def _kind_decode(kind: str, data: bytes) -> Any:
    if kind in KINDS6:
        return KINDS6[kind][1](data)
    if kind == "domain-list":
        return decode_names(data)
    return values.decode(kind, data)


def _resolve(name_or_code: str | int) -> tuple[int, str, str]:
    """(code, kind, label) for a configured option name, ``"NNN"`` or ``"NNN:kind"``."""
    if isinstance(name_or_code, int) and not isinstance(name_or_code, bool):
        text = str(name_or_code)
    elif isinstance(name_or_code, str):
        text = name_or_code.strip()
    else:
        raise ValueError(f"option must be a name or a code, got {name_or_code!r}")
    key = _ALIASES.get(text.lower(), text.lower())
    if key in OPTIONS6:
        code, kind = OPTIONS6[key]
        return code, kind, key
    code_text, sep, kind = key.partition(":")
    if code_text.startswith("option-"):
        code_text = code_text[len("option-") :]
    if not code_text.isdigit():
        known = ", ".join(sorted(OPTIONS6))
        raise ValueError(
            f"unknown DHCPv6 option {name_or_code!r}: use a name ({known}) or a code like '65' or '65:string'"
        )
    code = int(code_text)
    if not 0 < code <= 0xFFFF:
        raise ValueError(f"DHCPv6 option code {code} is outside 1..65535")
    if code in _RESERVED:
        raise ValueError(
            f"DHCPv6 option {code} ({option_name(code)}) is built by the server and cannot be configured"
        )
    if not sep:
        kind = _CODE_TO_KIND.get(code, "hex")
    elif kind not in values.KINDS and kind not in KINDS6:
        known = ", ".join(sorted({*values.KINDS, *KINDS6}))
        raise ValueError(f"unknown value kind {kind!r} for option {code} (known: {known})")
    return code, kind, f"option {code}"


def encode_config_option6(name_or_code: str | int, value: Any) -> tuple[int, bytes]:
    """A configured DHCPv6 option as ``(code, body)``; ``ValueError`` with a readable reason.

    ``name_or_code``: a registry name (``dns-servers``, ``domain-search``, ``ntp-servers``, ...),
    a code (``"65"``: its registered kind, else hex) or ``"code:kind"`` (``"65:string"``) with a
    kind from :mod:`dhcpbridge.wire.values`. ``ntp-servers`` puts every server in ONE option 56
    (one sub-option each: the form dnsmasq/systemd emit); use :func:`encode_config_options6` for
    the RFC 5908 form with one option instance per server.
    """
    code, kind, label = _resolve(name_or_code)
    try:
        body = _kind_encode(kind, value)
    except ValueError as exc:
        raise ValueError(f"DHCPv6 {label}: {exc}") from None
    if len(body) > 0xFFFF:
        raise ValueError(f"DHCPv6 {label}: encoded value is {len(body)} bytes, more than 65535")
    return code, body


def encode_config_options6(name_or_code: str | int, value: Any) -> list[tuple[int, bytes]]:
    """Like :func:`encode_config_option6`, but ``ntp-servers`` yields one option per server (RFC 5908 §4)."""
    code, kind, label = _resolve(name_or_code)
    if kind == "ntp-servers":
        try:
            entries = _ntp_entries(value)
        except ValueError as exc:
            raise ValueError(f"DHCPv6 {label}: {exc}") from None
        return [(code, NtpServer([e]).to_wire()) for e in entries]
    return [encode_config_option6(name_or_code, value)]


def decode_option6_for_display(code: int, data: bytes) -> Any:
    """A JSON-friendly value for one option body; never raises.

    Typed options give structured values (IA_NA -> dict with nested options, ClientId -> DUID
    fields, ...), registry options their kind's value, anything else colon hex. A malformed body
    gives ``{"malformed": reason, "hex": ...}``.
    """
    try:
        if code == OptionCode6.RELAY_MSG:
            from dhcpbridge.wire.v6.message import message6_to_json, parse6  # local: v6 imports this module

            return message6_to_json(parse6(data))
        cls = OPTION_CLASSES.get(code)
        if cls is not None:
            return cls.from_wire(data).to_json()
        kind = _CODE_TO_KIND.get(code)
        if kind is not None:
            return _kind_decode(kind, data)
    except FormError as exc:
        return {"malformed": exc.reason, "error": str(exc), "hex": bytes(data).hex(":")}
    return bytes(data).hex(":")


def options_to_json(options: Iterable[Option6]) -> list[dict[str, Any]]:
    """``[{"code": 23, "name": "dns-servers", "value": [...]}, ...]`` for a list of options."""
    out: list[dict[str, Any]] = []
    for opt in options:
        if isinstance(opt, RawOption):
            value = decode_option6_for_display(opt.code, opt.data)
        else:
            value = opt.to_json()
        out.append({"code": opt.code, "name": option_name(opt.code), "value": value})
    return out
