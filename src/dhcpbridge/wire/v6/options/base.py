"""The DHCPv6 option object model: ``Option6``, raw and pre-encoded options, the code -> class
registry the classes fill themselves, and the codec of an option area (RFC 8415 §21.1).

Parsing is lazy: :func:`parse_options` turns an option area into :class:`RawOption` objects (code +
exact body bytes) and nothing more. Typed classes are built only when someone asks for them
(``msg.get(IANA)``), so options the server never looks at cost one slice. Every typed class has
``from_wire(body)`` (which must consume the body exactly, else ``FormError``) and ``to_wire() ->
body``; ``encode()`` adds the 4-byte option header. Unknown options stay raw and are re-encoded
verbatim, in order.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any, ClassVar, Final, Self

from dhcpbridge.wire.errors import FormError

__all__ = [
    "HDR",
    "OPTION_CLASSES",
    "Encoded",
    "Option6",
    "RawOption",
    "encode_options",
    "fields_equal",
    "fields_json",
    "fields_repr",
    "json_value",
    "parse_options",
]

#: The option header: code, length (RFC 8415 §21.1). Final: compiled, a C static, not a lookup
#: in the module's dict per option encoded.
HDR: Final = struct.Struct("!HH")

#: Typed class per option code, filled by each class as it is defined (``Option6.__init_subclass__``).
OPTION_CLASSES: dict[int, type[Option6]] = {}


def fields_equal(a: object, b: object, names: tuple[str, ...]) -> Any:
    """``a == b`` as a dataclass has it: same class and equal ``names``, else ``NotImplemented``."""
    if type(b) is not type(a):
        return NotImplemented
    return all(getattr(a, f) == getattr(b, f) for f in names)


def json_value(value: object) -> Any:
    """One option field as logs, the API and the probe show it: bytes as colon hex, numbers and
    text as they are, lists item by item, DUIDs and options by their ``to_json``, the rest (IPv6
    addresses) as text."""
    if isinstance(value, bytes):
        return value.hex(":")
    if value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, list):
        return [json_value(v) for v in value]
    to_json = getattr(value, "to_json", None)
    return str(value) if to_json is None else to_json()


def fields_json(obj: object, names: tuple[str, ...]) -> dict[str, Any]:
    """``{name: json_value(obj.name), ...}`` in the order of ``names``."""
    return {f: json_value(getattr(obj, f)) for f in names}


def fields_repr(obj: object, names: tuple[str, ...]) -> str:
    """``Class(name=value, ...)`` as a dataclass prints it."""
    fields = ", ".join(f"{f}={getattr(obj, f)!r}" for f in names)
    return f"{type(obj).__name__}({fields})"


class Option6:
    """Base of every DHCPv6 option object: a ``code`` and a body (``to_wire``).

    A typed option class names its code in ``CODE``; ``opt.code`` reads it (a :class:`RawOption`
    carries its own). A class with a non-zero ``CODE`` enters :data:`OPTION_CLASSES` when it is
    defined. Two options are equal when they are of the same class with equal fields
    (``_FIELDS``), as dataclasses would be; ``repr`` and the JSON view come from them too. The
    classes are plain so that mypyc compiles them; compiled, their layout is fixed by the field
    annotations, so only the per-packet ones (IAs, ORO, ELAPSED_TIME) repeat their fields in
    ``__slots__`` for the interpreted fallback.
    """

    __slots__ = ()

    CODE: ClassVar[int] = 0
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        if cls.CODE:
            OPTION_CLASSES[cls.CODE] = cls

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
        return HDR.pack(self.code, len(body)) + body

    def to_json(self) -> Any:
        """A JSON-friendly value for logs, the API and the diagnostic probe, from ``_FIELDS``: one
        field gives its value, several a dict by name, none ``True`` (a flag option is present)."""
        names = self._FIELDS
        if len(names) == 1:
            return json_value(getattr(self, names[0]))
        return fields_json(self, names) if names else True

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

    def to_json(self) -> Any:
        return self.data.hex(":")

    def encode(self) -> bytes:
        n = len(self.data)
        if n > 0xFFFF:
            raise ValueError(f"option {self.code} body is {n} bytes, more than 65535")
        return HDR.pack(self.code, n) + self.data


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
        self.wire = wire or HDR.pack(code, len(data)) + data

    def encode(self) -> bytes:
        return self.wire


def parse_options(data: bytes, start: int = 0, end: int | None = None) -> list[Option6]:
    """Split an option area (RFC 8415 §21.1) into :class:`RawOption` objects, in wire order.

    ``FormError`` ("truncated" / "bad-length") when a header or body runs past ``end``.
    """
    # Hand-written bounds checks rather than wire.parser.Parser: this loop is the hot path.
    stop = len(data) if end is None else end
    pos = start
    out: list[Option6] = []
    append = out.append
    while pos < stop:
        if pos + 4 > stop:
            raise FormError(f"truncated option header at offset {pos}", "truncated")
        # byte by byte, not HDR.unpack_from: compiled, no tuple and no call (a tenth of the cost)
        code = data[pos] << 8 | data[pos + 1]
        length = data[pos + 2] << 8 | data[pos + 3]
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
