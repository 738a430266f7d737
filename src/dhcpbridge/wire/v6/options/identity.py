"""Who is talking: client and server identifiers, user class, vendor class and vendor options
(RFC 8415 §21.2-21.3, §21.15-21.17)."""

from __future__ import annotations

from typing import Any

from dhcpbridge.wire.parser import U16, U32, Parser
from dhcpbridge.wire.v6.options.base import HDR, parse_options
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.shapes import DuidOption, FieldsOption

__all__ = ["ClientId", "ServerId", "UserClass", "VendorClass", "VendorOpts"]


class ClientId(DuidOption):
    """OPTION_CLIENTID (1): the client's DUID (RFC 8415 §21.2)."""

    CODE = OptionCode6.CLIENTID


class ServerId(DuidOption):
    """OPTION_SERVERID (2): the server's DUID (RFC 8415 §21.3)."""

    CODE = OptionCode6.SERVERID


class ClassData(FieldsOption):
    """User and vendor class: ``data``, the ``*-class-data`` items of RFC 8415 §21.15/21.16 (2-byte
    length, data; repeated to the end), shown as text."""

    data: list[bytes]

    @classmethod
    def _read(cls, data: bytes) -> Any:
        p = Parser(data, OptionCode6(cls.CODE).name)
        out: list[bytes] = []
        while p.remaining():
            out.append(p.get_counted_bytes())
        return out

    def _write(self, value: Any) -> bytes:
        return b"".join([U16.pack(len(x)) + x for x in value])

    def to_json(self) -> Any:
        texts = [x.decode("utf-8", "backslashreplace") for x in self.data]
        return {**super().to_json(), "data": texts} if self._head else texts


class UserClass(ClassData):
    """OPTION_USER_CLASS (15): a list of opaque user-class-data items (RFC 8415 §21.15)."""

    CODE = OptionCode6.USER_CLASS
    _FIELDS = ("data",)


class VendorClass(ClassData):
    """OPTION_VENDOR_CLASS (16): enterprise number and vendor-class-data items (RFC 8415 §21.16)."""

    CODE = OptionCode6.VENDOR_CLASS
    _FIELDS = ("enterprise", "data")
    _head = U32
    enterprise: int


class VendorOpts(FieldsOption):
    """OPTION_VENDOR_OPTS (17): enterprise number and (code, data) sub-options (RFC 8415 §21.17)."""

    CODE = OptionCode6.VENDOR_OPTS
    _FIELDS = ("enterprise", "suboptions")
    _head = U32
    enterprise: int
    suboptions: list[tuple[int, bytes]]

    @classmethod
    def _read(cls, data: bytes) -> Any:
        return [(o.code, o.to_wire()) for o in parse_options(data)]

    def _write(self, value: Any) -> bytes:
        return b"".join([HDR.pack(c, len(d)) + d for c, d in value])

    def to_json(self) -> Any:
        return {
            "enterprise": self.enterprise,
            "suboptions": [{"code": c, "data": d.hex(":")} for c, d in self.suboptions],
        }
