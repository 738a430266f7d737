"""A bounded reader over a bytes buffer, in the style of dnspython's ``Parser``.

``Parser(data, what)`` reads big-endian integers and byte strings from a position that moves
forward; every read that would pass the end raises :class:`FormError` (reason ``truncated``), so
decoders need no hand-written bounds checks. :meth:`Parser.restrict_to` narrows the end to the
next ``n`` bytes for a nested body and raises ``FormError`` (reason ``bad-length``) unless that
body is consumed exactly. The shared ``struct`` layouts of the wire formats live here too.
"""

from __future__ import annotations

import struct
from types import TracebackType

from dhcpbridge.wire.errors import FormError

__all__ = ["U8", "U16", "U16U16", "U32", "Parser", "Restriction", "expect_length", "fixed_items"]

#: Network-order layouts used across the codecs.
U8 = struct.Struct("!B")
U16 = struct.Struct("!H")
U32 = struct.Struct("!I")
U16U16 = struct.Struct("!HH")


def expect_length(data: bytes, size: int, what: str) -> None:
    """``FormError`` (``bad-length``) unless ``data`` is exactly ``size`` bytes: the fast check for
    fixed-size bodies on the hot path (cheaper than a :class:`Parser`)."""
    if len(data) != size:
        raise FormError(f"{what} body must be {size} bytes, got {len(data)}", "bad-length")


def fixed_items(data: bytes, size: int, what: str) -> list[bytes]:
    """``data`` cut into items of ``size`` bytes (addresses, codes, ...); ``FormError``
    (``bad-length``) unless ``size`` divides its length."""
    n = len(data)
    if n % size:
        raise FormError(f"{what} length {n} is not a multiple of {size}", "bad-length")
    return [data[i : i + size] for i in range(0, n, size)]


class Parser:
    """Reads ``data[pos:end]`` front to back; ``what`` names the thing for error messages."""

    __slots__ = ("data", "end", "pos", "what")

    data: bytes
    pos: int
    end: int
    what: str

    def __init__(self, data: bytes, what: str = "option", pos: int = 0, end: int = -1) -> None:
        self.data = data
        self.what = what
        self.pos = pos
        self.end = len(data) if end < 0 else end

    def remaining(self) -> int:
        """Bytes left before the current end."""
        return self.end - self.pos

    def _take(self, n: int) -> int:
        start = self.pos
        if start + n > self.end:
            raise FormError(
                f"{self.what} body needs {n} more bytes at offset {start}, only {self.end - start} left",
                "truncated",
            )
        self.pos = start + n
        return start

    def get_u8(self) -> int:
        """One unsigned byte."""
        return self.data[self._take(1)]

    def get_u16(self) -> int:
        """A big-endian unsigned 16-bit integer."""
        i = self._take(2)
        data = self.data
        return data[i] << 8 | data[i + 1]

    def get_u32(self) -> int:
        """A big-endian unsigned 32-bit integer."""
        i = self._take(4)
        data = self.data
        return data[i] << 24 | data[i + 1] << 16 | data[i + 2] << 8 | data[i + 3]

    def get_bytes(self, n: int) -> bytes:
        """The next ``n`` bytes."""
        start = self._take(n)
        return self.data[start : start + n]

    def get_rest(self) -> bytes:
        """Everything up to the current end (possibly nothing)."""
        return self.get_bytes(self.end - self.pos)

    def get_counted_bytes(self) -> bytes:
        """A 2-byte length, then that many bytes; ``bad-length`` if the length runs past the end."""
        n = self.get_u16()
        if self.pos + n > self.end:
            raise FormError(f"{self.what}: item of {n} bytes runs past the end", "bad-length")
        return self.get_bytes(n)

    def restrict_to(self, n: int) -> Restriction:
        """``with p.restrict_to(n):`` read a body of exactly ``n`` bytes; ``FormError`` if the body
        runs past the end (``bad-length``) or is not consumed exactly (``bad-length``)."""
        if n < 0 or self.pos + n > self.end:
            raise FormError(
                f"{self.what}: body of {n} bytes at offset {self.pos}, only {self.end - self.pos} left",
                "bad-length",
            )
        return Restriction(self, self.pos + n)


class Restriction:
    """The context manager :meth:`Parser.restrict_to` returns: narrows, checks, restores ``end``."""

    __slots__ = ("parser", "saved", "stop")

    parser: Parser
    stop: int
    saved: int

    def __init__(self, parser: Parser, stop: int) -> None:
        self.parser = parser
        self.stop = stop
        self.saved = parser.end

    def __enter__(self) -> Parser:
        self.parser.end = self.stop
        return self.parser

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        parser = self.parser
        parser.end = self.saved
        if kind is None and parser.pos != self.stop:
            raise FormError(
                f"{parser.what}: {self.stop - parser.pos} bytes left unread in a restricted body",
                "bad-length",
            )
