"""The lease-file readers on the samples the real servers wrote and on the edge cases they did not."""

from __future__ import annotations

import calendar
import ipaddress
import struct
from pathlib import Path

import pytest

from dhcpbridge.engine.model import Lease, LeaseKind, LeaseState
from dhcpbridge.leases.files import NEVER, LeaseFileError, detect_format, read_lease_file
from dhcpbridge.leases.files.dhcpd import read_dhcpd
from dhcpbridge.leases.files.dnsmasq import read_dnsmasq
from dhcpbridge.leases.files.kea import read_kea_csv

SAMPLES = Path(__file__).parent / "samples"


def by_address(leases: list[Lease]) -> dict[str, Lease]:
    return {lease.address_text: lease for lease in leases}


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


# --- the samples -------------------------------------------------------------------------------
def test_dhcpd_sample() -> None:
    result = read_lease_file(SAMPLES / "dhcpd.leases")
    assert result.warnings == []
    leases = by_address(result.leases)
    assert result.records > len(leases)  # repeated blocks collapsed
    host1 = leases["10.68.135.107"]
    assert (host1.state, host1.hostname, host1.hwaddr.hex(":")) == (
        LeaseState.BOUND,
        "host-1",
        "02:00:00:00:01:01",
    )
    assert host1.client == b"\x01" + host1.hwaddr
    assert host1.starts == calendar.timegm((2026, 12, 6, 0, 13, 22, 0, 0, 0))
    assert host1.expires - host1.starts == 7200
    released = leases["10.68.135.110"]  # host-4 released: dhcpd wrote "binding state free"
    assert released.state == LeaseState.EXPIRED and released.hwaddr.hex(":") == "02:00:00:00:01:04"
    assert released.hostname == ""
    udhcpc = leases["10.67.0.199"]  # the uid is the client key, octal escapes decoded
    assert udhcpc.client == bytes.fromhex("01026700000002") and udhcpc.hostname == "udhcpc-host"


def test_dhcpd6_sample() -> None:
    result = read_lease_file(SAMPLES / "dhcpd6.leases")
    assert result.warnings == []
    leases = by_address(result.leases)
    na = leases["fd68::1c4:9a12"]  # IAID 1 written little-endian ("\\001\\000\\000\\000"), DUID-LL
    assert na.kind == LeaseKind.NA and na.client == struct.pack("!I", 1) + bytes.fromhex(
        "00030001020000000601"
    )
    assert (na.state, na.expires - na.starts) == (LeaseState.BOUND, 7200)
    assert leases["fd68::1a8:bf86"].state == LeaseState.RELEASED  # the later block wins
    pd = leases["fd68:10ff::"]
    assert (pd.kind, pd.prefix_len) == (LeaseKind.PD, 56) and pd.client[:4] == struct.pack("!I", 2)
    assert len(leases) == 5


def test_kea4_sample() -> None:
    result = read_lease_file(SAMPLES / "kea-leases4.csv")
    assert result.warnings == [] and result.records == 8
    leases = by_address(result.leases)
    assert "10.68.1.3" not in leases  # released: Kea's row with valid_lifetime 0 deletes it
    assert leases["10.68.1.1"].expires == 1796523219  # the last of three rows
    assert leases["10.68.1.1"].hostname == "host-2"
    assert leases["10.67.0.100"].client == bytes.fromhex("01026700000002")
    assert leases["10.68.1.0"].client == bytes.fromhex("01020000000101")  # no client-id: htype + MAC
    assert leases["10.68.1.0"].info == {"kea_subnet_id": 2}


def test_kea6_sample() -> None:
    result = read_lease_file(SAMPLES / "kea-leases6.csv")
    assert result.warnings == []
    leases = by_address(result.leases)
    assert "fd68::100:2" not in leases  # released
    na = leases["fd68::100:0"]
    assert (na.kind, na.prefix_len, na.state) == (LeaseKind.NA, 128, LeaseState.BOUND)
    assert na.client == struct.pack("!I", 1) + bytes.fromhex("00030001020000000601")  # IAID + DUID
    pd = leases["fd68:1000::"]
    assert (pd.kind, pd.prefix_len) == (LeaseKind.PD, 56)
    assert leases["fd67::100:0"].hostname == "dhclient6-host"  # option 39 of dhclient -6, trailing dot gone
    assert na.expires - na.starts == 4000


def test_dnsmasq_sample_v4_and_v6() -> None:
    path = SAMPLES / "dnsmasq.leases"
    result = read_lease_file(path)
    assert result.warnings == []
    leases = by_address(result.leases)
    assert {lease.kind for lease in result.leases} == {LeaseKind.V4, LeaseKind.NA}
    v4 = leases["10.67.0.139"]
    assert (v4.hostname, v4.client.hex()) == ("udhcpc-host", "01026700000002")
    assert v4.expires == 1796523246 and v4.starts <= path.stat().st_mtime
    assert leases["10.68.118.70"].client == bytes.fromhex("01020000000103")  # '*': htype + MAC
    v6 = leases["fd68::16f:b9fe"]
    assert v6.client == struct.pack("!I", 1) + bytes.fromhex("00030001020000000601")
    assert v6.hostname == ""
    assert leases["fd67::11c:7390"].hostname == "dhclient6-host"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("dhcpd.leases", "dhcpd"),
        ("dhcpd6.leases", "dhcpd"),
        ("kea-leases4.csv", "kea-csv"),
        ("kea-leases6.csv", "kea-csv"),
        ("dnsmasq.leases", "dnsmasq"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format((SAMPLES / name).read_text()) == fmt
    assert read_lease_file(SAMPLES / name, fmt).leases == read_lease_file(SAMPLES / name).leases


# --- dhcpd edge cases ----------------------------------------------------------------------------
DHCPD_EDGES = """\
# comment { with braces } and "quotes
authoring-byte-order little-endian;
lease 10.0.0.5 {
  starts 1 2026/01/05 10:00:00;
  ends never;
  binding state active;
  hardware ethernet 00:11:22:33:44:55;
  client-hostname "printer.lab.example.";   # trailing comment
  on commit { set x = "y"; }
}
lease 10.0.0.6 {
  starts epoch 1767607200; # Mon Jan 05 10:00:00 2026
  ends epoch 1767614400;
  binding state abandoned;
}
lease 10.0.0.7 {
  starts 1 2026/01/05 10:00:00;
  ends 1 2026/01/05 12:00:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:77;
  uid 01:00:11:22:33:44:77;
}
lease 10.0.0.7 {
  starts 1 2026/01/05 12:00:00;
  ends 1 2026/01/05 12:00:00;
  binding state free;
}
lease 10.0.0.8 {
  starts 1 2026/01/05 10:00:00;
  ends 1 2026/01/05 12:00:00;
  binding state released;
  hardware token-ring 00:11:22:33:44:88;
  set ddns-fwd-name = "eight.lab.example";
}
lease 10.0.0.300 {
  binding state active;
}
lease 10.0.0.9 {
  starts 1 2026/13/45 10:00:00;
  hardware ethernet 00:11:22:33:44:99;
}
ia-na "\\001\\000\\000\\000\\000\\001\\000\\001\\023\\024\\025\\026" {
  cltt 1 2026/01/05 10:00:00;
  iaaddr 2001:db8::10 {
    binding state active;
    preferred-life 375;
    max-life 600;
    ends 1 2026/01/05 10:10:00;
  }
}
ia-pd "\\002\\000\\000\\000\\000\\001\\000\\001\\023\\024\\025\\026" {
  cltt 1 2026/01/05 10:00:00;
  iaprefix 2001:db8:1::/48 {
    binding state expired;
    ends 1 2026/01/05 10:10:00;
  }
}
lease 10.0.0.10 {
  starts 1 2026/01/05 10:00:00;
  binding state active;
  hardware ethernet 00:11:22:33:44:10;
"""


def test_dhcpd_edge_cases() -> None:
    result = read_dhcpd(DHCPD_EDGES)
    leases = by_address(result.leases)
    never = leases["10.0.0.5"]
    assert never.expires == NEVER and never.hostname == "printer.lab.example"
    abandoned = leases["10.0.0.6"]
    assert abandoned.state == LeaseState.DECLINED and abandoned.starts == 1767607200
    assert abandoned.expires == 1767614400
    assert "10.0.0.7" not in leases  # the later free block without a client forgets it
    released = leases["10.0.0.8"]
    assert released.state == LeaseState.RELEASED and released.client[0] == 6  # token-ring htype
    assert released.hostname == "eight.lab.example"
    na = leases["2001:db8::10"]  # IAID written little-endian (authoring-byte-order)
    assert na.kind == LeaseKind.NA and na.client == bytes.fromhex("00000001") + bytes.fromhex(
        "0001000113141516"
    )
    assert na.expires - na.starts == 600
    pd = leases["2001:db8:1::"]
    assert (pd.kind, pd.prefix_len, pd.state) == (LeaseKind.PD, 48, LeaseState.EXPIRED)
    assert pd.client[:4] == bytes.fromhex("00000002")
    text = "\n".join(result.warnings)
    assert "10.0.0.300" not in leases and "line 35" in text  # a bad address: skipped, named
    assert "line 38" in text and "10.0.0.9" not in leases  # a bad date
    assert "not closed" in text and "10.0.0.10" not in leases  # a file cut while written


def test_dhcpd_big_endian_iaid() -> None:
    text = 'authoring-byte-order big-endian;\nia-na "\\000\\000\\000\\007\\000\\003\\000\\001\\002\\000\\000\\000\\000\\001" {\n cltt 1 2026/01/05 10:00:00;\n iaaddr 2001:db8::7 { binding state active; ends never; }\n}\n'
    (lease,) = read_dhcpd(text).leases
    assert lease.client[:4] == struct.pack("!I", 7)


def test_dhcpd_not_a_lease_file() -> None:
    assert read_dhcpd("").leases == []
    assert read_dhcpd("# only a comment\n").leases == []
    with pytest.raises(LeaseFileError):
        read_dhcpd("{ }")


# --- Kea edge cases ------------------------------------------------------------------------------
KEA4_HEADER = (
    "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
)


def test_kea4_edge_cases() -> None:
    text = KEA4_HEADER + (
        "10.1.0.1,00:11:22:33:44:01,,3600,1767610800,1,1,1,a&#x2cb.lab.example.,0,\n"
        "10.1.0.2,00:11:22:33:44:02,,3600,1767610800,1,0,0,,1,\n"  # declined
        "10.1.0.3,00:11:22:33:44:03,,3600,1767610800,1,0,0,,2,\n"  # expired-reclaimed
        "10.1.0.4,00:11:22:33:44:04,,4294967295,1767610800,1,0,0,,0,\n"  # infinite
        '10.1.0.5,00:11:22:33:44:05,,3600,1767610800,1,0,0,,0,{ "a": 1 }\n'
        "10.1.0.999,00:11:22:33:44:06,,3600,1767610800,1,0,0,,0,\n"
        "10.1.0.7,zz,,3600,1767610800,1,0,0,,0,\n"
        "10.1.0.8,00:11\n"
        "\n"
    )
    result = read_kea_csv(text)
    leases = by_address(result.leases)
    assert leases["10.1.0.1"].hostname == "a,b.lab.example"
    assert leases["10.1.0.1"].starts == 1767610800 - 3600
    assert leases["10.1.0.2"].state == LeaseState.DECLINED
    assert leases["10.1.0.3"].state == LeaseState.EXPIRED
    assert leases["10.1.0.4"].expires == NEVER
    assert leases["10.1.0.5"].info == {"kea_subnet_id": 1, "kea_user_context": {"a": 1}}
    assert len(result.leases) == 5
    text_warnings = "\n".join(result.warnings)
    assert "line 7" in text_warnings and "line 8" in text_warnings and "line 9" in text_warnings


def test_kea_not_a_csv() -> None:
    with pytest.raises(LeaseFileError):
        read_kea_csv("lease 10.0.0.1 {\n}\n")
    assert read_kea_csv("").leases == []


def test_kea6_temporary_addresses_are_skipped() -> None:
    header = "address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context\n"
    text = header + "2001:db8::1,00:01:02,3600,1767610800,1,3000,1,5,128,0,0,,,0,\n"
    assert read_kea_csv(text).leases == []


# --- dnsmasq edge cases ----------------------------------------------------------------------------
def test_dnsmasq_edge_cases() -> None:
    text = (
        "0 00:11:22:33:44:01 10.2.0.1 forever *\n"  # infinite lease
        "1767610800 06-00:11:22:33:44:02 10.2.0.2 * 01:00:11:22:33:44:02\n"  # token ring, client-id
        "1767610800 00:11:22:33:44:03 10.2.0.3\n"  # too short
        "1767610800 00:11:22:33:44:04 10.2.0.300 x *\n"  # bad address
        "duid 00:01:00:01:aa:bb\n"
        "1767610800 T9 2001:db8::9 * 00:01:02\n"  # temporary address
        "1767610800 9 2001:db8::a six.lab 00:01:02\n"
        "1767610800 10 2001:db8::b * *\n"  # no DUID
    )
    result = read_dnsmasq(text, starts=1767600000)
    leases = by_address(result.leases)
    assert leases["10.2.0.1"].expires == NEVER and leases["10.2.0.1"].hostname == "forever"
    assert leases["10.2.0.2"].client == bytes.fromhex("01001122334402")
    assert leases["10.2.0.2"].hwaddr == bytes.fromhex("001122334402")
    assert leases["2001:db8::a"].client == struct.pack("!I", 9) + bytes.fromhex("000102")
    assert leases["2001:db8::a"].starts == 1767600000
    assert set(leases) == {"10.2.0.1", "10.2.0.2", "2001:db8::a"}
    assert [w.split(":")[0] for w in result.warnings] == ["line 3", "line 4", "line 8"]


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_text("hello world\n")
    with pytest.raises(LeaseFileError):
        read_lease_file(path)
    with pytest.raises(LeaseFileError):
        read_lease_file(path, "nope")
