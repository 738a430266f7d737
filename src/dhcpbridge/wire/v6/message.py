"""DHCPv6 messages (RFC 8415 §8-9): bytes <-> Message6 / RelayMessage6, plus relay-chain helpers.

``parse6`` decodes a UDP payload into a client/server :class:`Message6` (msg-type, 24-bit
transaction id, options) or a :class:`RelayMessage6` (RELAY-FORW / RELAY-REPL: hop count, link
and peer address, options) whose Relay Message option (9) holds the nested message, to any depth
up to ``max_depth``. Options stay raw until asked for (see :mod:`dhcpbridge.wire.v6.options`), so
``encode6(parse6(x)) == x`` for every well-formed ``x``.

A server answers a relayed request inside the matching chain: :func:`unwrap_relay` returns the
inner client message and the RELAY-FORW layers; :func:`wrap_relay_reply` builds the RELAY-REPL
layers around the reply (RFC 8415 §19.3, Interface-ID echoed; RFC 8357 Relay Source Port and
RFC 4994 ERO-requested options copied). Sans-IO: no sockets, no clock.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from ipaddress import IPv6Address
from typing import Any, ClassVar, Final, Self

from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    IATA,
    EchoRequest,
    ElapsedTime,
    MessageType6,
    Option6,
    OptionCode6,
    OptionContainer,
    OptionRequest,
    encode_options,
    fields_equal,
    fields_repr,
    options_to_json,
    parse_options,
)

__all__ = [
    "MAX_RELAY_DEPTH",
    "Message6",
    "RelayMessage6",
    "RelayMsg",
    "encode6",
    "message6_to_json",
    "parse6",
    "reply_skeleton",
    "unwrap_relay",
    "wrap_relay_reply",
]

#: Default limit on nested RELAY-FORW/RELAY-REPL layers accepted by :func:`parse6`
#: (RFC 8415 §7.6 lets relays go to HOP_COUNT_LIMIT = 8; the slack tolerates odd deployments).
MAX_RELAY_DEPTH = 32

# MessageType6 / OptionCode6 values the parser tests on every message, as constants mypyc folds in
_RELAY_FORW: Final = 12
_RELAY_REPL: Final = 13
_OPT_RELAY_MSG: Final = 9

_OPT_INTERFACE_ID: Final = 18
_OPT_ERO: Final = 43
_OPT_RELAY_SOURCE_PORT: Final = 135
#: what every RELAY-REPL echoes of its RELAY-FORW (an ERO may ask for more)
_ECHOED: Final = frozenset({_OPT_INTERFACE_ID, _OPT_RELAY_SOURCE_PORT})

_WORD: Final = struct.Struct("!I")
_RELAY_HDR: Final = struct.Struct("!BB16s16s")
_RELAY_HDR_LEN: Final = 34  # _RELAY_HDR.size
#: relay link and peer addresses met lately, by their 16 bytes: an ``IPv6Address`` costs 4,000
#: instructions to make and a relay sends the same link address (and often the same peer) again
#: and again; the objects are immutable, so shared ones are as good as new (bounded: cleared)
_ADDRESSES: Final[dict[bytes, IPv6Address]] = {}
_ADDRESSES_LIMIT: Final = 4096


class _Message(OptionContainer):
    """Equality and repr by fields, as the dataclasses these were (plain classes compile with mypyc)."""

    __slots__ = ()
    _FIELDS: ClassVar[tuple[str, ...]] = ()

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other, self._FIELDS)  # type: ignore[no-any-return]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return fields_repr(self, self._FIELDS)


class Message6(_Message):
    """A client/server message (RFC 8415 §8): ``msg_type``, 24-bit ``transaction_id``, options.

    ``msg_type`` is a plain int (compare with :class:`MessageType6`); options are raw until
    decoded with ``get(ClassName)``; the properties below decode the usual ones.
    """

    __slots__ = ("msg_type", "options", "transaction_id")
    _FIELDS = ("msg_type", "transaction_id", "options")
    msg_type: int
    transaction_id: int
    options: list[Option6]

    def __init__(self, msg_type: int, transaction_id: int, options: list[Option6] | None = None) -> None:
        self.msg_type = msg_type
        self.transaction_id = transaction_id
        self.options = [] if options is None else options

    @property
    def client_id(self) -> Duid | None:
        """The DUID in OPTION_CLIENTID (1), None when absent; ``FormError`` if malformed."""
        raw = self.raw(OptionCode6.CLIENTID)
        return None if raw is None else Duid(raw)

    @property
    def server_id(self) -> Duid | None:
        """The DUID in OPTION_SERVERID (2), None when absent; ``FormError`` if malformed."""
        raw = self.raw(OptionCode6.SERVERID)
        return None if raw is None else Duid(raw)

    @property
    def ia_na(self) -> list[IANA]:
        """Every IA_NA (3), decoded."""
        return self.get_all(IANA)

    @property
    def ia_ta(self) -> list[IATA]:
        """Every IA_TA (4), decoded."""
        return self.get_all(IATA)

    @property
    def ia_pd(self) -> list[IAPD]:
        """Every IA_PD (25), decoded."""
        return self.get_all(IAPD)

    @property
    def oro(self) -> list[int]:
        """Requested option codes from OPTION_ORO (6); empty when absent."""
        opt = self.get(OptionRequest)
        return [] if opt is None else opt.codes

    @property
    def elapsed_time(self) -> int | None:
        """OPTION_ELAPSED_TIME (8) in hundredths of a second, None when absent."""
        opt = self.get(ElapsedTime)
        return None if opt is None else opt.value

    @property
    def rapid_commit(self) -> bool:
        """Whether OPTION_RAPID_COMMIT (14) is present."""
        return self.has(OptionCode6.RAPID_COMMIT)

    @property
    def type_name(self) -> str:
        """``SOLICIT``-style name, ``TYPE-NNN`` for unknown types."""
        return _type_name(self.msg_type)


class RelayMessage6(_Message):
    """RELAY-FORW (12) / RELAY-REPL (13) (RFC 8415 §9): the nested message is in option 9.

    ``link_address`` is the relay's link (``::`` from a Lightweight DHCPv6 Relay Agent, RFC 6221,
    which then always adds an Interface-ID); ``peer_address`` the client or previous relay the
    message came from.
    """

    __slots__ = ("hop_count", "link_address", "msg_type", "options", "peer_address")
    _FIELDS = ("msg_type", "hop_count", "link_address", "peer_address", "options")
    msg_type: int
    hop_count: int
    link_address: IPv6Address
    peer_address: IPv6Address
    options: list[Option6]

    def __init__(
        self,
        msg_type: int,
        hop_count: int,
        link_address: IPv6Address,
        peer_address: IPv6Address,
        options: list[Option6] | None = None,
    ) -> None:
        self.msg_type = msg_type
        self.hop_count = hop_count
        self.link_address = link_address
        self.peer_address = peer_address
        self.options = [] if options is None else options

    @property
    def message(self) -> Message6 | RelayMessage6 | None:
        """The message carried in the Relay Message option (9), None when absent."""
        for opt in self.options:
            if opt.code == _OPT_RELAY_MSG:
                if isinstance(opt, RelayMsg):
                    return opt.message
                return parse6(opt.to_wire())
        return None

    @property
    def interface_id(self) -> bytes | None:
        """Body of OPTION_INTERFACE_ID (18), None when absent."""
        return self.raw(OptionCode6.INTERFACE_ID)

    @property
    def type_name(self) -> str:
        """``RELAY_FORW`` or ``RELAY_REPL``."""
        return _type_name(self.msg_type)


class RelayMsg(Option6):
    """OPTION_RELAY_MSG (9): the message a relay forwards or returns (RFC 8415 §21.10).

    Defined here, with the messages it carries; like every option class it enters
    ``OPTION_CLASSES`` when defined (``wire.v6`` imports this module, so it is always there)."""

    __slots__ = ("message",)
    CODE = OptionCode6.RELAY_MSG
    _FIELDS = ("message",)
    message: Message6 | RelayMessage6

    def __init__(self, message: Message6 | RelayMessage6) -> None:
        self.message = message

    @classmethod
    def from_wire(cls, data: bytes) -> Self:
        return cls(parse6(data))

    def to_wire(self) -> bytes:
        return encode6(self.message)

    def to_json(self) -> Any:
        return message6_to_json(self.message)


def _type_name(msg_type: int) -> str:
    try:
        return MessageType6(msg_type).name
    except ValueError:
        return f"TYPE-{msg_type}"


# ---------------------------------------------------------------------------------------------
# Parse / encode
# ---------------------------------------------------------------------------------------------


def parse6(data: bytes, *, max_depth: int = MAX_RELAY_DEPTH) -> Message6 | RelayMessage6:
    """Decode one DHCPv6 UDP payload; raises only ``FormError``.

    Reasons: ``truncated`` (shorter than a header), ``bad-length`` (an option runs past its
    container), ``relay-depth`` (more than ``max_depth`` relay layers), ``no-relay-msg`` /
    ``bad-relay`` (a relay message without exactly one Relay Message option).
    """
    return _parse(bytes(data), 0, max_depth)


def _parse(data: bytes, depth: int, max_depth: int) -> Message6 | RelayMessage6:
    n = len(data)
    if n < 4:
        raise FormError(f"DHCPv6 message of {n} bytes is shorter than its 4-byte header", "truncated")
    msg_type = data[0]
    if msg_type != _RELAY_FORW and msg_type != _RELAY_REPL:
        tid = data[1] << 16 | data[2] << 8 | data[3]
        return Message6(msg_type, tid, parse_options(data, 4, n))
    if n < _RELAY_HDR_LEN:
        raise FormError(f"relay message of {n} bytes is shorter than its 34-byte header", "truncated")
    if depth >= max_depth:
        raise FormError(f"more than {max_depth} nested relay messages", "relay-depth")
    _, hop_count, link, peer = _RELAY_HDR.unpack_from(data)
    options = parse_options(data, _RELAY_HDR_LEN, n)
    found = -1
    for i, opt in enumerate(options):
        if opt.code == _OPT_RELAY_MSG:
            if found >= 0:
                raise FormError("relay message with more than one Relay Message option", "bad-relay")
            found = i
    if found < 0:
        raise FormError("relay message without a Relay Message option", "no-relay-msg")
    options[found] = RelayMsg(_parse(options[found].to_wire(), depth + 1, max_depth))
    return RelayMessage6(msg_type, hop_count, _address(link), _address(peer), options)


def _address(packed: bytes) -> IPv6Address:
    """``IPv6Address(packed)``, shared with the last messages that carried the same address."""
    addr = _ADDRESSES.get(packed)
    if addr is None:
        if len(_ADDRESSES) >= _ADDRESSES_LIMIT:
            _ADDRESSES.clear()
        addr = _ADDRESSES[packed] = IPv6Address(packed)
    return addr


def encode6(msg: Message6 | RelayMessage6) -> bytes:
    """The wire form of a message; ``ValueError`` for out-of-range header fields."""
    if type(msg) is Message6:
        tid = msg.transaction_id
        mt = msg.msg_type
        if not 0 <= tid <= 0xFFFFFF or not 0 <= mt <= 0xFF or mt in (_RELAY_FORW, _RELAY_REPL):
            raise ValueError(f"bad client/server header: msg_type={mt} transaction_id={tid}")
        return _WORD.pack(mt << 24 | tid) + encode_options(msg.options)
    if isinstance(msg, RelayMessage6):
        if msg.msg_type != _RELAY_FORW and msg.msg_type != _RELAY_REPL:
            raise ValueError(f"relay message type must be 12 or 13, not {msg.msg_type}")
        if not 0 <= msg.hop_count <= 0xFF:
            raise ValueError(f"hop_count {msg.hop_count} does not fit in one byte")
        head = _RELAY_HDR.pack(msg.msg_type, msg.hop_count, msg.link_address.packed, msg.peer_address.packed)
        return head + encode_options(msg.options)
    if isinstance(msg, Message6):
        return encode6(Message6(msg.msg_type, msg.transaction_id, msg.options))
    raise TypeError(f"cannot encode {type(msg).__name__} as DHCPv6")


# ---------------------------------------------------------------------------------------------
# Relay chains
# ---------------------------------------------------------------------------------------------


def unwrap_relay(msg: Message6 | RelayMessage6) -> tuple[Message6, list[RelayMessage6]]:
    """The innermost client message and the relay layers around it, outermost first.

    A message that was not relayed returns ``(msg, [])``. Raises ``FormError("no-relay-msg")``
    for a hand-built relay message without option 9. The caller checks the layer types (a
    server only accepts RELAY-FORW).
    """
    chain: list[RelayMessage6] = []
    cur: Message6 | RelayMessage6 | None = msg
    while isinstance(cur, RelayMessage6):
        chain.append(cur)
        cur = cur.message
    if cur is None:
        raise FormError("relay message without a Relay Message option", "no-relay-msg")
    return cur, chain


def _echoed(forw: RelayMessage6) -> list[Option6]:
    """Options of one RELAY-FORW that go back in its RELAY-REPL, in their original order."""
    ero = forw.find(_OPT_ERO)
    if ero is None:  # the usual relay: no set to build
        return [opt for opt in forw.options if opt.code in _ECHOED]
    wanted = set(_ECHOED)
    try:
        wanted.update(EchoRequest.from_wire(ero.to_wire()).codes)
    except FormError:
        pass  # a malformed ERO asks for nothing (RFC 4994: echoing is optional)
    wanted.discard(_OPT_RELAY_MSG)
    wanted.discard(_OPT_ERO)
    return [opt for opt in forw.options if opt.code in wanted]


def wrap_relay_reply(reply: Message6, chain: Sequence[RelayMessage6]) -> Message6 | RelayMessage6:
    """Wrap ``reply`` in one RELAY-REPL per RELAY-FORW of ``chain`` (outermost first, as returned by
    :func:`unwrap_relay`); with an empty chain the reply is returned unchanged.

    Each layer copies hop-count, link-address and peer-address from its RELAY-FORW (RFC 8415
    §19.3), echoes Interface-ID (RFC 8415 §21.18), the Relay Source Port option (RFC 8357 §5)
    and any option the relay named in an ERO (RFC 4994); options keep their RELAY-FORW order and
    precede the Relay Message option. The IO layer sends the result to the source address of
    the received RELAY-FORW, port 547, or that packet's source port when the outermost layer
    carries a Relay Source Port option (RFC 8357 §5).
    """
    out: Message6 | RelayMessage6 = reply
    for forw in reversed(chain):
        options = _echoed(forw)
        options.append(RelayMsg(out))
        out = RelayMessage6(_RELAY_REPL, forw.hop_count, forw.link_address, forw.peer_address, options)
    return out


# ---------------------------------------------------------------------------------------------
# Display
# ---------------------------------------------------------------------------------------------


def message6_to_json(msg: Message6 | RelayMessage6) -> dict[str, Any]:
    """A JSON-friendly dict of a whole message, options decoded where we know them.

    The nesting is bounded (``options.display.MAX_NESTING``, which every nested message and option
    passes through): options deeper than that are shown as hex, never decoded further."""
    if isinstance(msg, RelayMessage6):
        return {
            "msg_type": msg.msg_type,
            "type": msg.type_name,
            "hop_count": msg.hop_count,
            "link_address": str(msg.link_address),
            "peer_address": str(msg.peer_address),
            "options": options_to_json(msg.options),
        }
    return {
        "msg_type": msg.msg_type,
        "type": msg.type_name,
        "transaction_id": f"0x{msg.transaction_id:06x}",
        "options": options_to_json(msg.options),
    }


def reply_skeleton(request: Message6, msg_type: int, server_id: Option6) -> Message6:
    """A reply to ``request`` with its transaction id, the client's Client ID option echoed as-is
    (RFC 8415 §18.3) and ``server_id`` (pre-encode it once with ``RawOption.of(ServerId(duid))``).
    """
    options: list[Option6] = []
    client = request.find(OptionCode6.CLIENTID)
    if client is not None:
        options.append(client)
    options.append(server_id)
    return Message6(msg_type, request.transaction_id, options)
