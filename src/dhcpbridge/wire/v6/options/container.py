"""``OptionContainer``: option lookup shared by messages and by options that carry options."""

from __future__ import annotations

from typing import TypeVar

from mypy_extensions import trait

from dhcpbridge.wire.v6.options.base import Option6
from dhcpbridge.wire.v6.options.status import StatusCode

__all__ = ["OptionContainer"]

T = TypeVar("T", bound=Option6)


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
