"""OPTION_STATUS_CODE (RFC 8415 §21.13): the outcome a server reports, in a message or an IA."""

from __future__ import annotations

from typing import Any

from dhcpbridge.wire.parser import U16
from dhcpbridge.wire.v6.options.codes import OptionCode6, StatusCode6
from dhcpbridge.wire.v6.options.shapes import FieldsOption

__all__ = ["StatusCode"]


class StatusCode(FieldsOption):
    """OPTION_STATUS_CODE (13): a status code and a UTF-8 message (RFC 8415 §21.13)."""

    CODE = OptionCode6.STATUS_CODE
    _FIELDS = ("status", "message")
    _head = U16
    status: int
    message: str

    @classmethod
    def _read(cls, data: bytes) -> Any:
        return data.decode("utf-8", "backslashreplace")

    def _write(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    @property
    def name(self) -> str:
        """``Success``-style name (RFC spelling without spaces), ``status-NNN`` for unknown codes."""
        try:
            return "".join(p.capitalize() for p in StatusCode6(self.status).name.split("_"))
        except ValueError:
            return f"status-{self.status}"

    def to_json(self) -> Any:
        return {"status": self.status, "name": self.name, "message": self.message}
