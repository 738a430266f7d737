"""Options that steer the message exchange: requested options, preference, elapsed time, unicast,
rapid commit, reconfigure accept and the refresh/retransmission timers (RFC 8415 §21.7-21.9,
§21.12, §21.14, §21.20, §21.23-21.25)."""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import Any

from dhcpbridge.wire.parser import U8, expect_length
from dhcpbridge.wire.v6.options.codes import OptionCode6
from dhcpbridge.wire.v6.options.shapes import (
    CodeListOption,
    EmptyOption,
    FieldsOption,
    U16Option,
    U32Option,
    UIntOption,
)

__all__ = [
    "ElapsedTime",
    "InfMaxRt",
    "InformationRefreshTime",
    "OptionRequest",
    "Preference",
    "RapidCommit",
    "ReconfAccept",
    "SolMaxRt",
    "Unicast",
]


class OptionRequest(CodeListOption):
    """OPTION_ORO (6): the option codes a client asks for (RFC 8415 §21.7)."""

    __slots__ = ()
    CODE = OptionCode6.ORO


class Preference(UIntOption):
    """OPTION_PREFERENCE (7): server preference 0-255 (RFC 8415 §21.8)."""

    CODE = OptionCode6.PREFERENCE
    _st = U8


class ElapsedTime(U16Option):
    """OPTION_ELAPSED_TIME (8): hundredths of a second since the exchange began (RFC 8415 §21.9)."""

    __slots__ = ()
    CODE = OptionCode6.ELAPSED_TIME


class Unicast(FieldsOption):
    """OPTION_UNICAST (12): the server address a client may unicast to (RFC 8415 §21.12)."""

    CODE = OptionCode6.UNICAST
    _FIELDS = ("address",)
    address: IPv6Address

    @classmethod
    def _read(cls, data: bytes) -> Any:
        expect_length(data, 16, "UNICAST")
        return IPv6Address(data)

    def _write(self, value: Any) -> bytes:
        return bytes(value.packed)


class RapidCommit(EmptyOption):
    """OPTION_RAPID_COMMIT (14): two-message exchange requested/used; empty body (RFC 8415 §21.14)."""

    CODE = OptionCode6.RAPID_COMMIT


class ReconfAccept(EmptyOption):
    """OPTION_RECONF_ACCEPT (20): the client accepts Reconfigure messages; empty (RFC 8415 §21.20)."""

    CODE = OptionCode6.RECONF_ACCEPT


class InformationRefreshTime(U32Option):
    """OPTION_INFORMATION_REFRESH_TIME (32): seconds before refreshing stateless info (RFC 8415 §21.23)."""

    CODE = OptionCode6.INFORMATION_REFRESH_TIME


class SolMaxRt(U32Option):
    """OPTION_SOL_MAX_RT (82): upper bound for the Solicit retransmission time, s (RFC 8415 §21.24)."""

    CODE = OptionCode6.SOL_MAX_RT


class InfMaxRt(U32Option):
    """OPTION_INF_MAX_RT (83): upper bound for Information-request retransmission, s (RFC 8415 §21.25)."""

    CODE = OptionCode6.INF_MAX_RT
