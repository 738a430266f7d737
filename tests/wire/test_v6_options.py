"""Typed DHCPv6 options: wire layout per RFC, exact body consumption, errors, and the config registry."""

from __future__ import annotations

import ast
import importlib
from ipaddress import IPv6Address, IPv6Network
from pathlib import Path
from typing import Any

import pytest

from dhcpbridge.wire.duid import Duid
from dhcpbridge.wire.errors import FormError
from dhcpbridge.wire.v6 import message as message6
from dhcpbridge.wire.v6 import options as options6
from dhcpbridge.wire.v6.message import RelayMsg
from dhcpbridge.wire.v6.options import (
    IANA,
    IAPD,
    IATA,
    NTP_SUBOPTION_MC_ADDR,
    NTP_SUBOPTION_SRV_ADDR,
    NTP_SUBOPTION_SRV_FQDN,
    OPTION_CLASSES,
    OPTIONS6,
    ClientData,
    ClientFqdn,
    ClientId,
    ClientLinkLayerAddr,
    CltTime,
    DnsServers,
    DomainList,
    EchoRequest,
    ElapsedTime,
    IAAddr,
    IAPrefix,
    InfMaxRt,
    InformationRefreshTime,
    InterfaceId,
    LqClientLink,
    LqQuery,
    LqRelayData,
    MessageType6,
    NtpServer,
    Option6,
    OptionCode6,
    OptionContainer,
    OptionRequest,
    Preference,
    RapidCommit,
    RawOption,
    ReconfAccept,
    RelaySourcePort,
    RemoteId,
    ServerId,
    SntpServers,
    SolMaxRt,
    StatusCode,
    StatusCode6,
    SubscriberId,
    Unicast,
    UserClass,
    VendorClass,
    VendorOpts,
    decode_names,
    decode_option6_for_display,
    encode_config_option6,
    encode_config_options6,
    encode_names,
    encode_options,
    option_name,
    parse_options,
)

A1 = IPv6Address("2001:db8::1")
A2 = IPv6Address("2001:db8::2")
A1_HEX = "20010db8000000000000000000000001"
A2_HEX = "20010db8000000000000000000000002"

# (option object, expected body hex) — layouts written out from the RFC figures.
CASES: list[tuple[Option6, str]] = [
    (ClientId(Duid(bytes.fromhex("00030001026700000001"))), "00030001026700000001"),
    (ServerId(Duid.en(2495, b"ab")), "00020000" + "09bf" + "6162"),
    (IANA(0x01020304, 3600, 5400), "01020304" + "00000e10" + "00001518"),
    (
        IANA(2, 1000, 2000, [IAAddr(A1, 3000, 4000)]),
        "00000002000003e8000007d0" + "00050018" + A1_HEX + "00000bb8" + "00000fa0",
    ),
    (IATA(7, [IAAddr(A2, 1, 2)]), "00000007" + "00050018" + A2_HEX + "00000001" + "00000002"),
    (
        IAAddr(A1, 0, 0, [StatusCode(StatusCode6.NOT_ON_LINK, "no")]),
        A1_HEX + "00000000" + "00000000" + "000d0004" + "0004" + "6e6f",
    ),
    (OptionRequest([23, 24, 82]), "0017" + "0018" + "0052"),
    (OptionRequest([]), ""),
    (Preference(255), "ff"),
    (ElapsedTime(0xFFFF), "ffff"),
    (Unicast(A1), A1_HEX),
    (StatusCode(StatusCode6.NO_ADDRS_AVAIL, "none"), "0002" + "6e6f6e65"),
    (StatusCode(StatusCode6.SUCCESS), "0000"),
    (StatusCode(0, "é"), "0000c3a9"),
    (RapidCommit(), ""),
    (ReconfAccept(), ""),
    (UserClass([b"ab", b""]), "0002" + "6162" + "0000"),
    (VendorClass(40712, [b"dhcpcd"]), "00009f08" + "0006" + "646863706364"),
    (VendorOpts(4491, [(1, b"\x01\x02"), (32, b"")]), "0000118b" + "00010002" + "0102" + "00200000"),
    (InterfaceId(b"eth0"), "65746830"),
    (DnsServers([A1, A2]), A1_HEX + A2_HEX),
    (DomainList(["lab.test", "example.org"]), "036c616204746573740" + "0" + "076578616d706c65036f726700"),
    (IAPD(2, 1000, 2000), "00000002" + "000003e8" + "000007d0"),
    (
        IAPD(2, 0, 0, [IAPrefix(3000, 4000, 56, IPv6Address("fd67:1000:0:500::"))]),
        "00000002"
        + "00000000"
        + "00000000"
        + "001a0019"
        + "00000bb8"
        + "00000fa0"
        + "38"
        + "fd671000000005000000000000000000",
    ),
    (IAPrefix(1, 2, 128, A1), "00000001" + "00000002" + "80" + A1_HEX),
    (SntpServers([A2]), A2_HEX),
    (InformationRefreshTime(86400), "00015180"),
    (RemoteId(4491, b"\x00\x11"), "0000118b" + "0011"),
    (SubscriberId(b"sub-1"), "7375622d31"),
    (ClientFqdn(0x01, "host.example."), "01" + "04686f7374076578616d706c6500"),
    (ClientFqdn(0x00, "host"), "00" + "04686f7374"),
    (ClientFqdn(0x04, ""), "04"),
    (EchoRequest([37, 38]), "0025" + "0026"),
    (
        NtpServer([(NTP_SUBOPTION_SRV_ADDR, A1)]),
        "00010010" + A1_HEX,
    ),
    (
        NtpServer(
            [
                (NTP_SUBOPTION_MC_ADDR, IPv6Address("ff05::101")),
                (NTP_SUBOPTION_SRV_FQDN, "ntp.example"),
                (9, b"\xaa"),
            ]
        ),
        "00020010"
        + "ff050000000000000000000000000101"
        + "0003000d"
        + "036e7470076578616d706c6500"
        + "00090001aa",
    ),
    (ClientLinkLayerAddr(1, bytes.fromhex("026700000002")), "0001" + "026700000002"),
    (SolMaxRt(3600), "00000e10"),
    (InfMaxRt(86400), "00015180"),
    (RelaySourcePort(1547), "060b"),
    # RFC 5007 §4.1.2: query-type, link-address, query-options (an IAADDR with lifetimes 0)
    (
        LqQuery(1, IPv6Address("2001:db8::"), [IAAddr(A1)]),
        "01" + "20010db8000000000000000000000000" + "00050018" + A1_HEX + "00000000" + "00000000",
    ),
    (LqQuery(2), "02" + "00" * 16),
    (
        ClientData([ClientId(Duid(bytes.fromhex("00030001026700000002"))), CltTime(100)]),
        "0001000a" + "00030001026700000002" + "002e0004" + "00000064",
    ),
    (ClientData(), ""),
    (CltTime(3600), "00000e10"),
    (LqRelayData(IPv6Address("fe80::1"), bytes.fromhex("0c00")), "fe800000000000000000000000000001" + "0c00"),
    (LqClientLink([A1, A2]), A1_HEX + A2_HEX),
]


@pytest.mark.parametrize(
    ("opt", "body_hex"), CASES, ids=lambda x: type(x).__name__ if isinstance(x, Option6) else ""
)
def test_layout_and_round_trip(opt: Option6, body_hex: str) -> None:
    body = bytes.fromhex(body_hex)
    assert opt.to_wire() == body
    decoded = type(opt).from_wire(body)
    assert decoded.to_wire() == body
    if isinstance(opt, OptionContainer):  # nested options come back raw (lazy), same bytes
        assert isinstance(decoded, OptionContainer)
        assert decoded.options == [RawOption(o.code, o.to_wire()) for o in opt.options]
    else:
        assert decoded == opt
    assert opt.encode() == opt.code.to_bytes(2, "big") + len(body).to_bytes(2, "big") + body
    assert OPTION_CLASSES[opt.code] is type(opt)
    assert RawOption.of(opt) == RawOption(opt.code, body)


def test_every_typed_class_is_covered() -> None:
    # RELAY_MSG (9) registers itself from wire.v6.message; test_v6_messages covers it
    assert {type(o) for o, _ in CASES} | {RelayMsg} == set(OPTION_CLASSES.values())


def test_registry_is_filled_by_the_classes() -> None:
    for code, cls in OPTION_CLASSES.items():
        assert code == cls.CODE
    assert OPTION_CLASSES[9] is RelayMsg


def test_docstrings_cite_an_rfc() -> None:
    # read from the source: classes compiled with mypyc carry no __doc__
    sources = [*Path(options6.__file__).parent.glob("*.py"), Path(message6.__file__).parent / "message.py"]
    docs: dict[str, str] = {}
    for source in sources:
        tree = ast.parse(source.read_text())
        docs.update({n.name: ast.get_docstring(n) or "" for n in tree.body if isinstance(n, ast.ClassDef)})
    for cls in OPTION_CLASSES.values():
        assert "RFC" in docs[cls.__name__] and "§" in docs[cls.__name__], cls.__name__


# (class, malformed body hex, FormError reason)
BAD: list[tuple[type[Option6], str, str]] = [
    (ClientId, "0001", "bad-duid"),
    (ServerId, "00" * 131, "bad-duid"),
    (IANA, "0000000100000002000000", "truncated"),
    (IANA, "000000010000000200000003" + "0005", "truncated"),
    (IANA, "000000010000000200000003" + "00050018" + "00" * 23, "bad-length"),
    (IATA, "000001", "truncated"),
    (IAAddr, "00" * 23, "truncated"),
    (IAAddr, "00" * 24 + "000d0005" + "0000", "bad-length"),
    (OptionRequest, "001700", "bad-length"),
    (Preference, "", "bad-length"),
    (Preference, "0102", "bad-length"),
    (ElapsedTime, "00", "bad-length"),
    (ElapsedTime, "000000", "bad-length"),
    (Unicast, A1_HEX + "00", "bad-length"),
    (StatusCode, "00", "truncated"),
    (RapidCommit, "00", "bad-length"),
    (ReconfAccept, "01", "bad-length"),
    (UserClass, "0003" + "6162", "bad-length"),
    (UserClass, "00", "truncated"),
    (VendorClass, "000001", "truncated"),
    (VendorClass, "00000001" + "0001", "bad-length"),
    (VendorOpts, "00000001" + "00010005" + "00", "bad-length"),
    (DnsServers, A1_HEX + "00", "bad-length"),
    (SntpServers, "00" * 15, "bad-length"),
    (DomainList, "036c6162", "bad-domain"),
    (DomainList, "c00c", "bad-domain"),
    (DomainList, "05616263", "bad-domain"),
    (IAPD, "00" * 11, "truncated"),
    (IAPrefix, "00" * 24, "truncated"),
    (IAPrefix, "00" * 8 + "81" + "00" * 16, "bad-prefix"),
    (InformationRefreshTime, "000001", "bad-length"),
    (RemoteId, "000001", "truncated"),
    (ClientFqdn, "", "truncated"),
    (ClientFqdn, "01" + "03616263" + "00" + "ff", "bad-length"),
    (ClientFqdn, "01" + "0561", "bad-domain"),
    (EchoRequest, "00", "bad-length"),
    (NtpServer, "00010004" + "00000000", "bad-length"),
    (NtpServer, "0003000403616263", "bad-domain"),
    (NtpServer, "000300060361626300ff", "bad-length"),
    (NtpServer, "0001", "truncated"),
    (ClientLinkLayerAddr, "00", "truncated"),
    (SolMaxRt, "0000", "bad-length"),
    (InfMaxRt, "0000000000", "bad-length"),
    (RelaySourcePort, "00", "bad-length"),
    (LqQuery, "01" + "00" * 15, "truncated"),
    (LqQuery, "01" + "00" * 16 + "0005", "truncated"),
    (ClientData, "002e0004" + "0000", "bad-length"),
    (CltTime, "000000", "bad-length"),
    (LqRelayData, "00" * 15, "truncated"),
    (LqClientLink, "00" * 17, "bad-length"),
]


@pytest.mark.parametrize(
    ("cls", "body_hex", "reason"), BAD, ids=lambda x: getattr(x, "__name__", None) or str(x)[:12]
)
def test_malformed_bodies(cls: type[Option6], body_hex: str, reason: str) -> None:
    with pytest.raises(FormError) as exc:
        cls.from_wire(bytes.fromhex(body_hex))
    assert exc.value.reason == reason


def test_bodies_that_are_legal_though_odd() -> None:
    assert SubscriberId.from_wire(b"") == SubscriberId(b"")
    assert InterfaceId.from_wire(b"") == InterfaceId(b"")
    assert RemoteId.from_wire(b"\x00\x00\x00\x01") == RemoteId(1, b"")
    assert UserClass.from_wire(b"") == UserClass([])
    assert DnsServers.from_wire(b"") == DnsServers([])
    # A prefix hint with host bits set is kept exactly as sent (the network view masks them).
    hint = IAPrefix.from_wire(bytes(8) + b"\x38" + IPv6Address("fd67:1000:0:5ff::1").packed)
    assert str(hint.prefix) == "fd67:1000:0:5ff::1" and str(hint.network) == "fd67:1000:0:500::/56"


def test_ia_helpers() -> None:
    na = IANA(1, 2, 3, [IAAddr(A1, 4, 5), StatusCode(0, "ok"), IAAddr(A2, 6, 7)])
    assert [a.address for a in na.addresses] == [A1, A2]
    assert na.status == StatusCode(0, "ok")
    decoded = IANA.from_wire(na.to_wire())
    assert all(isinstance(o, RawOption) for o in decoded.options)  # lazy: nested stay raw
    assert decoded.addresses == na.addresses
    assert decoded.get(StatusCode) == StatusCode(0, "ok")
    assert decoded.codes() == [5, 13, 5]
    assert decoded.raw(13) == b"\x00\x00ok"
    assert decoded.raw_all(5) == [IAAddr(A1, 4, 5).to_wire(), IAAddr(A2, 6, 7).to_wire()]
    assert decoded.has(5) and not decoded.has(26)
    assert decoded.find(26) is None and decoded.raw(26) is None and decoded.get(IAPrefix) is None
    assert IATA(9, [IAAddr(A2)]).addresses == [IAAddr(A2)]
    pd = IAPD(1, 0, 0, [IAPrefix.of(IPv6Network("2001:db8:100::/40"), 1, 2)])
    assert [str(p.network) for p in IAPD.from_wire(pd.to_wire()).prefixes] == ["2001:db8:100::/40"]


def test_status_code_names() -> None:
    names = [StatusCode(s).name for s in StatusCode6]
    assert names == [
        "Success",
        "UnspecFail",
        "NoAddrsAvail",
        "NoBinding",
        "NotOnLink",
        "UseMulticast",
        "NoPrefixAvail",
        "UnknownQueryType",
        "MalformedQuery",
        "NotConfigured",
        "NotAllowed",
    ]
    assert StatusCode(99).name == "status-99"
    assert StatusCode.from_wire(b"\x00\x01\xff").message == "\\xff"  # invalid UTF-8 never raises


def test_fqdn_flags() -> None:
    f = ClientFqdn(ClientFqdn.FLAG_S | ClientFqdn.FLAG_N, "h.")
    assert (f.s, f.o, f.n) == (True, False, True)
    assert ClientFqdn.from_wire(b"\x02\x00") == ClientFqdn(2, ".")


def test_option_area_codec() -> None:
    opts: list[Option6] = [RawOption(0xFFFF, b"x"), ElapsedTime(5), RawOption(99, b"")]
    wire = encode_options(opts)
    assert wire == bytes.fromhex("ffff000178" + "000800020005" + "00630000")
    assert parse_options(wire) == [RawOption(0xFFFF, b"x"), RawOption(8, b"\x00\x05"), RawOption(99, b"")]
    assert parse_options(b"\x00\x01\x00\x00\xff", 0, 4) == [RawOption(1, b"")]
    with pytest.raises(FormError) as exc:
        parse_options(wire[:-1])
    assert exc.value.reason == "truncated"
    with pytest.raises(FormError) as exc:
        parse_options(b"\x00\x01\x00\x05abcd")
    assert exc.value.reason == "bad-length"
    with pytest.raises(ValueError, match="more than 65535"):
        RawOption(1, b"\x00" * 70000).encode()
    with pytest.raises(ValueError, match="more than 65535"):
        SubscriberId(b"\x00" * 70000).encode()


def test_names_codec() -> None:
    assert encode_names(["a.b", "c."]) == b"\x01a\x01b\x00\x01c\x00"
    assert decode_names(b"\x01a\x01b\x00\x00") == ["a.b", ""]
    with pytest.raises(FormError):
        decode_names(b"\x3fa")
    with pytest.raises(FormError):
        decode_names((b"\x3f" + b"a" * 63) * 5 + b"\x00")  # 320 bytes > 255


def test_constants() -> None:
    assert (int(MessageType6.RELAY_FORW), int(MessageType6.RELAY_REPL)) == (12, 13)
    assert (int(OptionCode6.NTP_SERVER), int(OptionCode6.RELAY_SOURCE_PORT)) == (56, 135)
    assert int(StatusCode6.NO_PREFIX_AVAIL) == 6
    assert option_name(23) == "dns-servers" and option_name(4242) == "option-4242"


# --- configuration registry ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "code", "body_hex"),
    [
        ("dns-servers", ["2001:db8::1", "2001:db8::2"], 23, A1_HEX + A2_HEX),
        ("dns-servers", "2001:db8::1, 2001:db8::2", 23, A1_HEX + A2_HEX),
        ("domain-search", ["lab.test"], 24, "036c61620474657374" + "00"),
        ("domain-list", "lab.test", 24, "036c61620474657374" + "00"),
        ("sntp-servers", ["2001:db8::2"], 31, A2_HEX),
        ("information-refresh-time", 3600, 32, "00000e10"),
        ("preference", 255, 7, "ff"),
        ("sol-max-rt", "0x10", 82, "00000010"),
        ("inf-max-rt", 86400, 83, "00015180"),
        ("unicast", "2001:db8::1", 12, A1_HEX),
        ("ntp-servers", ["2001:db8::1"], 56, "00010010" + A1_HEX),
        (
            "ntp-servers",
            ["2001:db8::1", "ff05::101", "ntp.example"],
            56,
            "00010010"
            + A1_HEX
            + "00020010"
            + "ff050000000000000000000000000101"
            + "0003000d"
            + "036e7470076578616d706c6500",
        ),
        ("65001", "01:02", 65001, "0102"),
        ("65001:string", "hi", 65001, "6869"),
        ("option-65001:u16", 7, 65001, "0007"),
        ("23", ["2001:db8::1"], 23, A1_HEX),
        ("32:u32", 1, 32, "00000001"),
        (" DNS-Servers ", "2001:db8::1", 23, A1_HEX),
    ],
)
def test_encode_config_option6(name: str, value: Any, code: int, body_hex: str) -> None:
    assert encode_config_option6(name, value) == (code, bytes.fromhex(body_hex))


def test_encode_config_options6_splits_ntp_per_rfc5908() -> None:
    assert encode_config_options6("ntp-servers", ["2001:db8::1", "ntp.example"]) == [
        (56, bytes.fromhex("00010010" + A1_HEX)),
        (56, bytes.fromhex("0003000d" + "036e7470076578616d706c6500")),
    ]
    assert encode_config_options6("dns-servers", "2001:db8::1") == [(23, A1.packed)]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("no-such-option", 1, "unknown DHCPv6 option 'no-such-option'"),
        ("dns-servers", "10.0.0.1", "DHCPv6 dns-servers: invalid ip6-list value"),
        ("dns-servers", [], "expected at least one value"),
        ("preference", 256, "does not fit in an unsigned 8-bit"),
        ("ntp-servers", [], "expected at least one NTP server"),
        ("ntp-servers", ["2001:db8::zz"], "neither an IPv6 address nor a domain name"),
        ("ntp-servers", ["bad..name"], "DHCPv6 ntp-servers"),
        ("65001:nosuchkind", 1, "unknown value kind 'nosuchkind'"),
        ("0", "00", "outside 1..65535"),
        ("70000", "00", "outside 1..65535"),
        ("1", "0001", "built by the server"),
        ("3", "00", "built by the server"),
        ("65001", "xyz", "is not hex"),
    ],
)
def test_encode_config_errors(name: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        encode_config_option6(name, value)


def test_registry_names() -> None:
    required = {
        "dns-servers",
        "domain-search",
        "ntp-servers",
        "sntp-servers",
        "information-refresh-time",
        "preference",
        "sol-max-rt",
        "inf-max-rt",
    }
    assert required <= set(OPTIONS6)
    for name, (_code, _kind) in OPTIONS6.items():
        assert encode_config_option6 is not None and name == name.lower()


@pytest.mark.parametrize(
    ("code", "body_hex", "expected"),
    [
        (23, A1_HEX, ["2001:db8::1"]),
        (24, "036c61620474657374" + "00", ["lab.test"]),
        (7, "0a", 10),
        (82, "00000e10", 3600),
        (14, "", True),
        (6, "00170018", ["dns-servers", "domain-list"]),
        (13, "0000" + "6f6b", {"status": 0, "name": "Success", "message": "ok"}),
        (
            3,
            "00000002000003e8000007d0" + "00050018" + A1_HEX + "00000bb8" + "00000fa0",
            {
                "iaid": 2,
                "t1": 1000,
                "t2": 2000,
                "options": [
                    {
                        "code": 5,
                        "name": "iaaddr",
                        "value": {"address": "2001:db8::1", "preferred": 3000, "valid": 4000},
                    }
                ],
            },
        ),
        (
            56,
            "00010010" + A1_HEX + "0003000d" + "036e7470076578616d706c6500",
            [{"address": "2001:db8::1"}, {"fqdn": "ntp.example"}],
        ),
        (42, "6869", "hi"),  # config-only code: decoded with its registry kind
        (4242, "0102", "01:02"),  # unknown: colon hex
        (1, "00030001026700000001", Duid(bytes.fromhex("00030001026700000001")).to_json()),
        (
            23,
            "00",
            {
                "malformed": "bad-length",
                "error": "DNS_SERVERS body length 1 is not a multiple of 16",
                "hex": "00",
            },
        ),
        (
            9,
            "01",
            {
                "malformed": "truncated",
                "error": "DHCPv6 message of 1 bytes is shorter than its 4-byte header",
                "hex": "01",
            },
        ),
        (9, "07000001", {"msg_type": 7, "type": "REPLY", "transaction_id": "0x000001", "options": []}),
    ],
)
def test_decode_for_display(code: int, body_hex: str, expected: Any) -> None:
    assert decode_option6_for_display(code, bytes.fromhex(body_hex)) == expected


# The JSON view each option gives (Option6.to_json from _FIELDS, or the class's own where it
# shows more than its fields): bytes as colon hex, addresses as text, class data as text.
@pytest.mark.parametrize(
    ("opt", "expected"),
    [
        (RemoteId(4491, b"\x00\x11"), {"enterprise": 4491, "remote_id": "00:11"}),
        (ClientLinkLayerAddr(1, b"\x02\x67"), {"hwtype": 1, "address": "02:67"}),
        (ClientFqdn(0x01, "host.example."), {"flags": 1, "name": "host.example."}),
        (VendorClass(40712, [b"dhcpcd"]), {"enterprise": 40712, "data": ["dhcpcd"]}),
        (UserClass([b"ab", b""]), ["ab", ""]),
        (
            VendorOpts(4491, [(1, b"\x01\x02")]),
            {"enterprise": 4491, "suboptions": [{"code": 1, "data": "01:02"}]},
        ),
        (
            StatusCode(StatusCode6.NO_ADDRS_AVAIL, "none"),
            {"status": 2, "name": "NoAddrsAvail", "message": "none"},
        ),
        (Unicast(A1), "2001:db8::1"),
        (InterfaceId(b"eth0"), "65:74:68:30"),
        (DomainList(["lab.test"]), ["lab.test"]),
        (RapidCommit(), True),
        (Preference(3), 3),
        (OptionRequest([23, 24]), ["dns-servers", "domain-list"]),
        (IATA(7), {"iaid": 7, "options": []}),
        (IAAddr(A1, 1, 2), {"address": "2001:db8::1", "preferred": 1, "valid": 2}),
        (RawOption(4242, b"\x01\x02"), "01:02"),
    ],
    ids=lambda x: type(x).__name__ if isinstance(x, Option6) else "",
)
def test_json_view(opt: Option6, expected: Any) -> None:
    assert opt.to_json() == expected


def test_a_field_left_out_is_what_an_empty_body_reads_as() -> None:
    assert RemoteId(9).remote_id == b"" and RemoteId(9) == RemoteId.from_wire(bytes.fromhex("00000009"))
    assert StatusCode(0).message == "" and UserClass().data == [] and VendorClass(1).data == []
    assert ClientFqdn(0x04).name == "" and ClientFqdn(0x04).to_wire() == b"\x04"
    assert repr(RemoteId(9, b"x")) == "RemoteId(enterprise=9, remote_id=b'x')"


def test_config_round_trips_through_display() -> None:
    for name, value in [
        ("dns-servers", ["2001:db8::1"]),
        ("domain-search", ["a.example", "b.example"]),
        ("sntp-servers", ["2001:db8::2"]),
        ("information-refresh-time", 600),
        ("preference", 3),
        ("sol-max-rt", 120),
        ("inf-max-rt", 3600),
    ]:
        code, body = encode_config_option6(name, value)
        assert decode_option6_for_display(code, body) == value


def test_the_package_re_exports_every_option_module() -> None:
    # each family module's public names stay importable from dhcpbridge.wire.v6.options
    for name in ("base", "codes", "container", "dns", "exchange", "ia", "identity", "ntp", "relay", "status"):
        module = importlib.import_module(f"dhcpbridge.wire.v6.options.{name}")
        for public in module.__all__:
            if public not in ("HDR", "ntp_entries"):  # module-level helpers, not package API
                assert getattr(options6, public) is getattr(module, public), f"{name}.{public}"
