"""Inputs the atheris fuzz targets (``fuzz/``) found, kept as regression tests.

DNS names (found by the ``wire6`` target, fixed): their text form was lossy — labels joined with
"." and bytes outside ASCII rendered with ``backslashreplace``, so a label holding a '.',
whitespace (``\\x1c`` counts) or non-ASCII bytes did not survive decode -> encode, and a long
non-ASCII label could not be encoded again at all. Names are now written in DNS presentation
format (RFC 1035 §5.1 escapes, as dnspython and Kea write them) and read back from it.
"""

from __future__ import annotations

import base64

import pytest

from dhcpbridge.wire.v6.message import parse6
from dhcpbridge.wire.v6.options import ClientFqdn, DomainList
from dhcpbridge.wire.values import decode_names, encode_names

#: crash-388ff575c853dde8449752ffba10dc3a45118b04: a CONFIRM whose Domain List option holds the
#: root name, a label "\x00\x1c" and a label "\x00"
FOUND_WIRE6 = base64.b64decode("CJn3RgABAA4AAAAAAAAAAAAAAAAAAAAYAAgAAgAcAAEAAAAAAAAAAAAA")
#: crash-dec9adb11e3cd80da022bf4832cb19a47d374813: a SOLICIT whose Domain List holds a label
#: "\x00\x0c." (a dot inside a label, whitespace) and "\x04\x00": not stable even after one round
FOUND_WIRE6_2 = base64.b64decode("AfSXVgAAAAAIBQABAAACAAYAFwQAAAIAGAAQAAMADC4AAAIEAAAAAAAAAA==")

LOSSY = [
    pytest.param(b"\x02\x00\x1c\x00", id="label-ending-in-whitespace"),
    pytest.param(b"\x03a.b\x00", id="label-with-a-dot"),
    pytest.param(b"\x02\xc3\xa9\x00", id="non-ascii-label"),
]


def test_the_found_input_parses_and_its_domain_list_decodes() -> None:
    """The packet parses and the option decodes, its odd labels escaped."""
    msg = parse6(FOUND_WIRE6)
    assert msg.msg_type == 8
    domains = msg.get(DomainList)
    assert domains is not None and domains.names == ["", "\\000\\028", "\\000"]


@pytest.mark.parametrize("found", [FOUND_WIRE6, FOUND_WIRE6_2], ids=["crash-388ff575", "crash-dec9adb1"])
def test_the_found_domain_lists_round_trip(found: bytes) -> None:
    domains = parse6(found).get(DomainList)
    assert domains is not None
    assert DomainList.from_wire(domains.to_wire()) == domains


@pytest.mark.parametrize("wire", LOSSY)
def test_names_round_trip(wire: bytes) -> None:
    assert encode_names(decode_names(wire)) == wire


def test_a_long_non_ascii_fqdn_label_encodes_again() -> None:
    fqdn = ClientFqdn.from_wire(b"\x01" + b"\x3f" + b"\xff" * 63 + b"\x00")
    assert ClientFqdn.from_wire(fqdn.to_wire()) == fqdn


@pytest.mark.parametrize(
    ("text", "wire"),
    [
        ("host-1.example.com", b"\x06host-1\x07example\x03com\x00"),
        ("a\\.b.c.", b"\x03a.b\x01c\x00"),
        ("back\\\\slash", b"\x0aback\\slash\x00"),
        ("\\255x", b"\x02\xffx\x00"),
    ],
)
def test_text_form_escapes_both_ways(text: str, wire: bytes) -> None:
    assert encode_names([text]) == wire
    assert decode_names(wire) == [text.rstrip(".")]


def test_a_typed_unicode_name_still_goes_out_in_idna_form() -> None:
    assert encode_names(["bücher.example"]) == b"\x0dxn--bcher-kva\x07example\x00"
