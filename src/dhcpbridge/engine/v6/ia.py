"""IA options on the hot path: read the client's IA_NA / IA_TA / IA_PD (IAID and the addresses or
prefixes it names) and write the server's, with their status codes, straight from and to bytes.

The wire classes (``IANA``, ``IAPD``, ``IAAddr``, ``IAPrefix`` in ``wire.v6.options``) say the
same with ``IPv6Address`` objects; an IA_NA with one address through them costs about four times
what this does, twice per exchange, so the engine keeps this one fast reader and writer and
handlers that want objects use ``tx.ia_na`` / ``tx.ia_pd``.
"""

from __future__ import annotations

import struct
from typing import Final

from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.options import Encoded, OptionCode6

# Final: compiled, a module constant is a C static, not a lookup in the module's dict per use
_HDR: Final = struct.Struct("!HH")
_U32: Final = struct.Struct("!I")
_STATUS: Final = struct.Struct("!HHH")
_IAADDR_HDR: Final = _HDR.pack(5, 24)  # IAADDR in an IA_NA: address, preferred, valid
_IAPREFIX_HDR: Final = _HDR.pack(26, 25)  # IAPREFIX in an IA_PD: preferred, valid, length, prefix
IA_NA: Final = int(OptionCode6.IA_NA)
IA_TA: Final = int(OptionCode6.IA_TA)
IA_PD: Final = int(OptionCode6.IA_PD)
#: Preferred and valid lifetime 0: withdrawn (RFC 8415 §18.3.4); also T1 = T2 = 0.
ZERO8: Final = bytes(8)


def parse_ia(code: int, body: bytes) -> tuple[int, list[tuple[int, int]]]:
    """IAID and the addresses (IA_NA, option 3: IAADDR) or prefixes (IA_PD, option 25: IAPREFIX)
    of one IA body (RFC 8415 §21.4, §21.21) as ``(address, 128)`` / ``(prefix, length)``; the
    sub-options' own options are not looked at. ``FormError`` for anything that does not frame
    exactly."""
    n = len(body)
    pos = 4 if code == IA_TA else 12  # an IA_TA has no T1 / T2 (RFC 8415 §21.5)
    if n < pos:
        raise FormError(f"IA of {n} bytes is shorter than {pos}", "truncated")
    # byte by byte, not struct's unpack_from: compiled, no tuple and no method call
    iaid = body[0] << 24 | body[1] << 16 | body[2] << 8 | body[3]
    hints: list[tuple[int, int]] = []
    while pos < n:
        if pos + 4 > n:
            raise FormError("truncated option header inside an IA", "truncated")
        sub = body[pos] << 8 | body[pos + 1]
        length = body[pos + 2] << 8 | body[pos + 3]
        pos += 4
        end = pos + length
        if end > n:
            raise FormError(f"option {sub} runs past the end of its IA", "bad-length")
        if code != IA_PD and sub == 5:  # IA_NA or IA_TA
            if length < 24:
                raise FormError("IAADDR shorter than 24 bytes", "bad-length")
            hints.append((int.from_bytes(body[pos : pos + 16], "big"), 128))
        elif code == IA_PD and sub == 26:
            if length < 25 or body[pos + 8] > 128:
                raise FormError("IAPREFIX shorter than 25 bytes or longer than /128", "bad-length")
            hints.append((int.from_bytes(body[pos + 9 : pos + 25], "big"), body[pos + 8]))
        pos = end
    return iaid, hints


def ia_entry(code: int, address: int, length: int, lifetimes: bytes) -> bytes:
    """One IAADDR (in an IA_NA) or IAPREFIX (in an IA_PD) with its packed preferred + valid
    lifetimes, header included."""
    if code != IA_PD:  # IA_NA / IA_TA
        return _IAADDR_HDR + address.to_bytes(16, "big") + lifetimes
    return _IAPREFIX_HDR + lifetimes + bytes((length,)) + address.to_bytes(16, "big")


def ia_wire(code: int, iaid: int, timers: bytes, inner: bytes) -> Encoded:
    """An IA_NA / IA_PD with T1 + T2 already packed and its encoded sub-options (an IA_TA
    without the timers)."""
    # int.to_bytes, not struct: compiled, a direct call (no method lookup, no argument tuple)
    body = iaid.to_bytes(4, "big") + (timers if code != IA_TA else b"") + inner
    return Encoded(code, body, (code << 16 | len(body)).to_bytes(4, "big") + body)


def status_wire(code: int, message: str) -> bytes:
    """A Status Code option (13), header included."""
    text = message.encode("utf-8")
    return _STATUS.pack(13, 2 + len(text), code) + text


_STATUS_WIRE: Final[dict[tuple[int, str], bytes]] = {}


def status_bytes(status: tuple[int, str]) -> bytes:
    """``status_wire`` of the few statuses the engine sends, made once each."""
    wire = _STATUS_WIRE.get(status)
    if wire is None:
        wire = status_wire(*status)
        if len(_STATUS_WIRE) < 256:
            _STATUS_WIRE[status] = wire
    return wire


def status_ia(code: int, iaid: int, status: tuple[int, str]) -> Encoded:
    """An IA that carries only a status (IA_TA: IAID only, no timers)."""
    if code == IA_TA:
        body = _U32.pack(iaid) + status_bytes(status)
        return Encoded(IA_TA, body, _HDR.pack(IA_TA, len(body)) + body)
    return ia_wire(code, iaid, ZERO8, status_bytes(status))
