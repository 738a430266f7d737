"""Typed pydantic models of the bridge contract (version 1), equivalent to the shipped JSON Schema.

``openapi.yaml`` is the contract; these models are its Python face, for the DHCP server (building
questions, reading answers) and for answer services written in Python. Tests hold the two to the
same verdict on every example and on a corpus of invalid documents, so a field added to one must be
added to the other.

The models follow JSON, not Python, leniency: no string-to-number coercion, booleans are not
integers, ``null`` is never a value (omit the field), unknown fields are ignored (the compatibility
rule of the contract). Addresses and networks stay ``str`` (checked with the same predicates the
schema's ``format`` uses) so that ``to_json()`` gives back exactly what came in.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationInfo,
    model_validator,
)

from dhcpbridge.contract import formats

CONTRACT_VERSION = 1


def _integral(value: Any) -> Any:
    """JSON Schema counts ``4.0`` as the integer 4 (strict pydantic would not) and ``true`` as no number."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _checked(predicate: Any, what: str) -> AfterValidator:
    def check(value: str) -> str:
        if not predicate(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_PATTERN = rf"^(?:{_OCTET}\.){{3}}{_OCTET}$"
IPV6_PATTERN = r"^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$"

U8 = Annotated[int, BeforeValidator(_integral), Field(ge=0, le=255)]
U16 = Annotated[int, BeforeValidator(_integral), Field(ge=0, le=65535)]
U32 = Annotated[int, BeforeValidator(_integral), Field(ge=0, le=4294967295)]
I32 = Annotated[int, BeforeValidator(_integral), Field(ge=-2147483648, le=2147483647)]
Seconds = U32
Iaid = U32
OptionCode = Annotated[int, BeforeValidator(_integral), Field(ge=1, le=65535)]
Version = Annotated[Literal[1], BeforeValidator(_integral)]

Hex = Annotated[str, Field(pattern=r"^(?:[0-9a-f]{2})*$")]
HexNonEmpty = Annotated[str, Field(pattern=r"^(?:[0-9a-f]{2})+$")]
HexValue = Annotated[str, Field(pattern=r"^(?:[0-9A-Fa-f]{2}(?::?[0-9A-Fa-f]{2})*)?$")]
Mac = Annotated[str, Field(pattern=r"^[0-9a-f]{2}(?::[0-9a-f]{2}){1,19}$")]
IPv4 = Annotated[str, Field(pattern=IPV4_PATTERN), _checked(formats.is_ipv4, "an IPv4 address")]
IPv6 = Annotated[str, Field(pattern=IPV6_PATTERN), _checked(formats.is_ipv6, "an IPv6 address")]
IPv4Network = Annotated[
    str,
    Field(pattern=rf"^(?:{_OCTET}\.){{3}}{_OCTET}/(?:3[0-2]|[12]?[0-9])$"),
    _checked(formats.is_ipv4_network, "an IPv4 network in CIDR form with no host bits set"),
]
IPv6Network = Annotated[
    str,
    Field(pattern=r"^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9])$"),
    _checked(formats.is_ipv6_network, "an IPv6 network in CIDR form with no host bits set"),
]
DomainName = Annotated[str, Field(min_length=1, max_length=255)]
Timestamp = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
    ),
]


_STRICT_JSON = ConfigDict(strict=True, regex_engine="python-re")


def _any_of(*types: Any) -> Any:
    """A predicate true when one of ``types`` accepts the string (the schema's ``anyOf``)."""
    adapters = [TypeAdapter(t, config=_STRICT_JSON) for t in types]

    def predicate(value: str) -> bool:
        for adapter in adapters:
            try:
                adapter.validate_python(value)
            except ValueError:
                continue
            return True
        return False

    return predicate


IP = Annotated[str, _checked(_any_of(IPv4, IPv6), "an IPv4 or IPv6 address")]
IPNetwork = Annotated[str, _checked(_any_of(IPv4Network, IPv6Network), "an IPv4 or IPv6 network")]


#: validation context key: refuse ``null`` for fields (the ``parse_*`` functions set it). Without it
#: (``Model(field=None)`` in code, plain ``model_validate``), ``None`` means "left out".
STRICT_NULLS = "contract_strict_nulls"
_JSON_CONTEXT = {STRICT_NULLS: True}


class ContractModel(BaseModel):
    """Base of every contract object: JSON-strict, unknown fields ignored, ``null`` refused."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, regex_engine="python-re")

    #: keys that must not appear at all (``false`` subschemas: they tell the option forms apart)
    _forbidden: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _refuse_null_and_forbidden(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict):
            if info.context and info.context.get(STRICT_NULLS) and None in data.values():
                for name, value in data.items():
                    if value is None and name in cls.model_fields:
                        raise ValueError(f"{name}: null is not a value in this contract; leave the field out")
            for name in cls._forbidden:
                if name in data:
                    raise ValueError(f"{name!r} is not allowed in this form of the object")
        return data

    def to_json(self) -> dict[str, Any]:
        """The JSON object (a dict) this model stands for, without the fields left out."""
        return self.model_dump(mode="json", exclude_none=True)


# ---------------------------------------------------------------------------------------------
# Questions


class RelayId(ContractModel):
    """An identifier added by a relay agent: the bytes, and their text when all printable."""

    hex: Hex
    text: str | None = None
    enterprise: U32 | None = None

    @classmethod
    def from_bytes(cls, data: bytes, enterprise: int | None = None) -> RelayId:
        """Build one the way the DHCP server must: ``text`` only when every byte is 0x20-0x7e."""
        text = data.decode("ascii") if data and all(0x20 <= b <= 0x7E for b in data) else None
        return cls(hex=data.hex(), text=text, enterprise=enterprise)


class _QuestionCommon(ContractModel):
    version: Version
    xid: Hex | None = None
    client_mac: Mac | None = None
    hostname: str | None = None
    fqdn: str | None = None
    interface: str | None = None
    vendor_class: str | None = None
    user_class: list[str] | None = None
    client_arch: list[U16] | None = None
    classes: list[str] | None = None
    remote_id: RelayId | None = None
    subscriber_id: RelayId | None = None


MsgType4 = Literal["DHCPDISCOVER", "DHCPREQUEST", "DHCPDECLINE", "DHCPRELEASE", "DHCPINFORM"]
MsgType6 = Literal[
    "SOLICIT", "REQUEST", "CONFIRM", "RENEW", "REBIND", "RELEASE", "DECLINE", "INFORMATION-REQUEST"
]


class Question4(_QuestionCommon):
    """A DHCPv4 request as a question."""

    protocol: Annotated[Literal[4], BeforeValidator(_integral)]
    msg_type: MsgType4
    request_state: Literal["selecting", "init-reboot", "renewing", "rebinding"] | None = None
    client_id: HexNonEmpty | None = None
    duid: HexNonEmpty | None = None
    iaid: Iaid | None = None
    client_ip: IPv4 | None = None
    requested_ip: IPv4 | None = None
    relay_ip: IPv4 | None = None
    server_ip: IPv4 | None = None
    subnet: IPv4Network | None = None
    circuit_id: RelayId | None = None
    requested_options: list[Annotated[int, BeforeValidator(_integral), Field(ge=1, le=254)]] | None = None


class Prefix6(ContractModel):
    """An IPv6 prefix (prefix + length), with the IA_PD it belongs to and optional lifetimes."""

    prefix: IPv6
    length: Annotated[int, BeforeValidator(_integral), Field(ge=0, le=128)]
    iaid: Iaid | None = None
    preferred_lifetime: Seconds | None = None
    valid_lifetime: Seconds | None = None


class Address6(ContractModel):
    """An IPv6 address for an IA_NA, with optional lifetimes."""

    address: IPv6
    iaid: Iaid | None = None
    preferred_lifetime: Seconds | None = None
    valid_lifetime: Seconds | None = None


class IaNaRequest(ContractModel):
    """An IA_NA as the client sent it."""

    iaid: Iaid
    addresses: list[IPv6] | None = None


class IaPdRequest(ContractModel):
    """An IA_PD as the client sent it (``::`` with a length is a length hint)."""

    iaid: Iaid
    prefixes: list[Prefix6] | None = None


class Question6(_QuestionCommon):
    """A DHCPv6 request (unwrapped from its relay messages) as a question."""

    protocol: Annotated[Literal[6], BeforeValidator(_integral)]
    msg_type: MsgType6
    duid: HexNonEmpty | None = None
    ia_na: list[IaNaRequest] | None = None
    ia_pd: list[IaPdRequest] | None = None
    client_ip: IPv6 | None = None
    relay_ip: IPv6 | None = None
    server_ip: IPv6 | None = None
    subnet: IPv6Network | None = None
    interface_id: RelayId | None = None
    vendor_class_enterprise: U32 | None = None
    requested_options: list[OptionCode] | None = None


def _protocol_tag(value: Any) -> str | None:
    protocol = value.get("protocol") if isinstance(value, dict) else getattr(value, "protocol", None)
    if isinstance(protocol, bool):
        return None
    if protocol == 4:
        return "4"
    if protocol == 6:
        return "6"
    return None


Question = Annotated[
    Annotated[Question4, Tag("4")] | Annotated[Question6, Tag("6")],
    Discriminator(
        _protocol_tag,
        custom_error_type="invalid_protocol",
        custom_error_message="protocol must be 4 or 6",
    ),
]

# ---------------------------------------------------------------------------------------------
# Answers


class Route(ContractModel):
    """One classless static route (RFC 3442)."""

    prefix: IPv4Network
    router: IPv4


ValueKind = Literal[
    "ip4",
    "ip4-list",
    "ip6",
    "ip6-list",
    "u8",
    "u16",
    "u32",
    "i32",
    "u8-list",
    "u16-list",
    "bool",
    "string",
    "hex",
    "domain-list",
    "routes",
]

_SCALAR_KIND: dict[str, TypeAdapter[Any]] = {
    "ip4": TypeAdapter(IPv4, config=_STRICT_JSON),
    "ip6": TypeAdapter(IPv6, config=_STRICT_JSON),
    "u8": TypeAdapter(U8, config=_STRICT_JSON),
    "u16": TypeAdapter(U16, config=_STRICT_JSON),
    "u32": TypeAdapter(U32, config=_STRICT_JSON),
    "i32": TypeAdapter(I32, config=_STRICT_JSON),
    "bool": TypeAdapter(bool, config=_STRICT_JSON),
    "string": TypeAdapter(str, config=_STRICT_JSON),
    "hex": TypeAdapter(HexValue, config=_STRICT_JSON),
}
_LIST_KIND: dict[str, TypeAdapter[Any]] = {
    "ip4-list": _SCALAR_KIND["ip4"],
    "ip6-list": _SCALAR_KIND["ip6"],
    "u8-list": _SCALAR_KIND["u8"],
    "u16-list": _SCALAR_KIND["u16"],
    "domain-list": TypeAdapter(DomainName, config=_STRICT_JSON),
    "routes": TypeAdapter(Route),
}


def check_value(kind: str, value: Any) -> None:
    """Raise ``ValueError`` unless ``value`` is a JSON value of ``kind`` (as the schema says)."""
    if kind in _SCALAR_KIND:
        _SCALAR_KIND[kind].validate_python(value)
        return
    if not isinstance(value, list) or not value:
        raise ValueError(f"a {kind} value is a non-empty array")
    item = _LIST_KIND[kind]
    for element in value:
        item.validate_python(element)


class OptionByName(ContractModel):
    """An option by its name in the DHCP server's option registry; the server types the value."""

    _forbidden = ("code", "type", "hex")
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    value: Any


class OptionTyped(ContractModel):
    """Any option by code, with a value of an explicit kind."""

    _forbidden = ("name", "hex")
    code: OptionCode
    type: ValueKind
    value: Any

    @model_validator(mode="after")
    def _value_fits_kind(self) -> OptionTyped:
        check_value(self.type, self.value)
        return self


class OptionHex(ContractModel):
    """Any option by code, with its raw body in hex."""

    _forbidden = ("name", "type", "value")
    code: OptionCode
    hex: HexValue


def _option_form(value: Any) -> str | None:
    if isinstance(value, dict):
        if "name" in value:
            return "name"
        if "hex" in value:
            return "hex"
        return "typed"
    if isinstance(value, OptionByName):
        return "name"
    if isinstance(value, OptionHex):
        return "hex"
    if isinstance(value, OptionTyped):
        return "typed"
    return None


Option = Annotated[
    Annotated[OptionByName, Tag("name")]
    | Annotated[OptionTyped, Tag("typed")]
    | Annotated[OptionHex, Tag("hex")],
    Discriminator(_option_form),
]


class _AnswerCommon(ContractModel):
    version: Version | None = None
    cache_ttl: Seconds | None = None
    message: str | None = None


class AnswerAssign(_AnswerCommon):
    """Answer the client: an address and/or configuration.

    ``action`` defaults here so that ``AnswerAssign(client_ip=...)`` reads well in code; parsing
    through ``Answer`` / ``parse_answer`` still requires it, as the schema does.
    """

    action: Literal["assign"] = "assign"
    client_ip: IPv4 | None = None
    addresses: list[Address6] | None = None
    prefixes: list[Prefix6] | None = None
    lease_time: Seconds | None = None
    renewal_time: Seconds | None = None
    rebinding_time: Seconds | None = None
    subnet_mask: IPv4 | None = None
    router: list[IPv4] | None = None
    dns_servers: list[IP] | None = None
    domain_name: DomainName | None = None
    domain_search: list[DomainName] | None = None
    ntp_servers: list[IP] | None = None
    routes: list[Route] | None = None
    next_server: IPv4 | None = None
    boot_server: str | None = None
    boot_file: str | None = None
    hostname: str | None = None
    options: list[Option] | None = None


class AnswerNone(_AnswerCommon):
    """No answer from this source: the server asks the next one in its chain."""

    action: Literal["none"] = "none"


class AnswerIgnore(_AnswerCommon):
    """Drop the request without a reply."""

    action: Literal["ignore"] = "ignore"


class AnswerDeny(_AnswerCommon):
    """Refuse: DHCPNAK / NoAddrsAvail."""

    action: Literal["deny"] = "deny"


Answer = Annotated[AnswerAssign | AnswerNone | AnswerIgnore | AnswerDeny, Field(discriminator="action")]

# ---------------------------------------------------------------------------------------------
# Notifications


class Lease(ContractModel):
    """What a lease holds."""

    client_mac: Mac | None = None
    client_id: HexNonEmpty | None = None
    duid: HexNonEmpty | None = None
    iaid: Iaid | None = None
    hostname: str | None = None
    subnet: IPNetwork | None = None
    client_ip: IPv4 | None = None
    addresses: list[Address6] | None = None
    prefixes: list[Prefix6] | None = None
    lease_time: Seconds | None = None
    expires_at: Timestamp | None = None


class Notification(ContractModel):
    """A lease event, sent to the optional commit URL after the fact."""

    version: Version
    event: Literal["commit", "release", "decline", "expire"]
    protocol: Annotated[Literal[4, 6], BeforeValidator(_integral)]
    time: Timestamp | None = None
    question: Question | None = None
    lease: Lease


QUESTION: TypeAdapter[Question4 | Question6] = TypeAdapter(Question)
ANSWER: TypeAdapter[AnswerAssign | AnswerNone | AnswerIgnore | AnswerDeny] = TypeAdapter(Answer)
NOTIFICATION: TypeAdapter[Notification] = TypeAdapter(Notification)


def parse_question(data: Any) -> Question4 | Question6:
    """A question from a decoded JSON object; ``pydantic.ValidationError`` if it is not one."""
    return QUESTION.validate_python(data, context=_JSON_CONTEXT)


def parse_question_json(body: bytes | str) -> Question4 | Question6:
    """A question from JSON text (the fast path of an answer service)."""
    return QUESTION.validate_json(body, context=_JSON_CONTEXT)


def parse_answer(data: Any) -> AnswerAssign | AnswerNone | AnswerIgnore | AnswerDeny:
    """An answer from a decoded JSON object; ``pydantic.ValidationError`` if it is not one."""
    return ANSWER.validate_python(data, context=_JSON_CONTEXT)


def parse_answer_json(body: bytes | str) -> AnswerAssign | AnswerNone | AnswerIgnore | AnswerDeny:
    """An answer from JSON text (the fast path of the DHCP server's HTTP source)."""
    return ANSWER.validate_json(body, context=_JSON_CONTEXT)


def parse_notification(data: Any) -> Notification:
    """A notification from a decoded JSON object."""
    return NOTIFICATION.validate_python(data, context=_JSON_CONTEXT)


def parse_notification_json(body: bytes | str) -> Notification:
    """A notification from JSON text."""
    return NOTIFICATION.validate_json(body, context=_JSON_CONTEXT)
