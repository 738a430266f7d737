"""Who is talking: client and server identifiers, user class, vendor class and vendor options
(RFC 8415 §21.2-21.3, §21.15-21.17)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

from dhcpbridge.wire.parser import U16, U32, Parser
from dhcpbridge.wire.v6.options.base import HDR, Option6, parse_options
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.shapes import DuidOption

__all__ = ["ClientId", "ServerId", "UserClass", "VendorClass", "VendorOpts"]


class ClientId(DuidOption):
    """OPTION_CLIENTID (1): the client's DUID (RFC 8415 §21.2)."""

    __slots__ = ()
    CODE = OptionCode6.CLIENTID


class ServerId(DuidOption):
    """OPTION_SERVERID (2): the server's DUID (RFC 8415 §21.3)."""

    __slots__ = ()
    CODE = OptionCode6.SERVERID


def _opaque_list(p: Parser) -> list[bytes]:
    """RFC 8415 §21.15/21.16 ``*-class-data``: 2-byte length, data; repeated to the end."""
    out: list[bytes] = []
    while p.remaining():
        out.append(p.get_counted_bytes())
    return out


def _opaque_join(items: Sequence[bytes]) -> bytes:
    return b"".join([U16.pack(len(x)) + x for x in items])


def _texts(items: list[bytes]) -> list[str]:
    return [x.decode("utf-8", "backslashreplace") for x in items]


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
        return cls(_opaque_list(Parser(data, "USER_CLASS")))

    def to_wire(self) -> bytes:
        return _opaque_join(self.data)

    def to_json(self) -> Any:
        return _texts(self.data)


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
        p = Parser(data, "VENDOR_CLASS")
        return cls(p.get_u32(), _opaque_list(p))

    def to_wire(self) -> bytes:
        return U32.pack(self.enterprise) + _opaque_join(self.data)

    def to_json(self) -> Any:
        return {"enterprise": self.enterprise, "data": _texts(self.data)}


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
        enterprise = Parser(data, "VENDOR_OPTS").get_u32()
        return cls(enterprise, [(o.code, o.to_wire()) for o in parse_options(data, 4)])

    def to_wire(self) -> bytes:
        return U32.pack(self.enterprise) + b"".join([HDR.pack(c, len(d)) + d for c, d in self.suboptions])

    def to_json(self) -> Any:
        return {
            "enterprise": self.enterprise,
            "suboptions": [{"code": c, "data": d.hex(":")} for c, d in self.suboptions],
        }
