"""OPTION_STATUS_CODE (RFC 8415 §21.13): the outcome a server reports, in a message or an IA."""

from __future__ import annotations

from typing import Any, Self

from dhcpbridge.wire.parser import U16, Parser
from dhcpbridge.wire.v6.options.base import Option6
from dhcpbridge.wire.v6.options.codes import OptionCode6, StatusCode6

__all__ = ["StatusCode"]


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
        p = Parser(data, "STATUS_CODE")
        return cls(p.get_u16(), p.get_rest().decode("utf-8", "backslashreplace"))

    def to_wire(self) -> bytes:
        return U16.pack(self.status) + self.message.encode("utf-8")

    @property
    def name(self) -> str:
        """``Success``-style name (RFC spelling without spaces), ``status-NNN`` for unknown codes."""
        try:
            return "".join(p.capitalize() for p in StatusCode6(self.status).name.split("_"))
        except ValueError:
            return f"status-{self.status}"

    def to_json(self) -> Any:
        return {"status": self.status, "name": self.name, "message": self.message}
