"""Unit tests: key files, name choice and sanitising, option 81/39 flags, DHCID digests, the
persisted queue and the [dns] config checks."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from types import SimpleNamespace

import dns.name
import dns.tsig
import pydantic
import pytest

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns import dhcid, names
from dhcpbridge.dns.jobs import Job, Record
from dhcpbridge.dns.keys import KeyFileError, load_key, parse_keys
from dhcpbridge.dns.queue import Batch, UpdateQueue
from dhcpbridge.dns.updater import queue_path

TSIG_KEYGEN = """key "ddns-key" {
\talgorithm hmac-sha256;
\tsecret "ZGhjcGJyaWRnZS10ZXN0LXNlY3JldC0zMi1ieXRlcyE=";
};
"""


def test_key_file_in_tsig_keygen_format() -> None:
    key = parse_keys(TSIG_KEYGEN)["ddns-key"]
    assert key.algorithm == dns.tsig.HMAC_SHA256
    assert key.secret == b"dhcpbridge-test-secret-32-bytes!"


def test_key_file_with_comments_several_keys_and_a_name(tmp_path: Path) -> None:
    path = tmp_path / "keys.conf"
    path.write_text('# two keys\nkey other { algorithm hmac-sha512; secret "YWJj"; };\n// x\n' + TSIG_KEYGEN)
    assert load_key(path).name.to_text() == "other."
    assert load_key(path, "ddns-key.").algorithm == dns.tsig.HMAC_SHA256
    with pytest.raises(KeyFileError, match="no key 'nope'"):
        load_key(path, "nope")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "no key"),
        ('key "k" { algorithm hmac-sha256; };', "no secret"),
        ('key "k" { algorithm hmac-foo; secret "YWJj"; };', "unknown algorithm"),
        ('key "k" { algorithm hmac-sha256; secret "%%%"; };', "not base64"),
    ],
)
def test_bad_key_files_say_why(text: str, error: str) -> None:
    with pytest.raises(KeyFileError, match=error):
        parse_keys(text)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="No such file"):
        load_key(tmp_path / "absent.key")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Laptop_1", "laptop-1"),
        ("  -x--y- ", "x-y"),
        ("ünï", "n"),
        ("___", ""),
        ("a" * 80, "a" * 63),
        # already a label (returned as it is) and almost one (rewritten)
        ("host-1", "host-1"),
        ("a" * 63, "a" * 63),
        ("fd00-1--5", "fd00-1-5"),
        ("-a", "a"),
        ("a-", "a"),
        ("", ""),
    ],
)
def test_sanitise_label(text: str, label: str) -> None:
    assert names.sanitise_label(text) == label


def test_qualify_keeps_names_in_our_zones_and_moves_others() -> None:
    zones = ["example.test.", "lab.example.test."]
    assert names.qualify("pc", "example.test.", zones) == "pc.example.test."
    assert names.qualify("pc.lab.example.test.", "example.test.", zones) == "pc.lab.example.test."
    assert names.qualify("pc.evil.org", "example.test.", zones) == "pc.example.test."
    assert names.qualify("_.example.test", "example.test.", zones) is None


def _tx4(options: dict[int, bytes], hostname: str = "", answer_name: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        request=SimpleNamespace(options=options, htype=1),
        hostname=hostname,
        answer=SimpleNamespace(hostname=answer_name) if answer_name is not None else None,
        client_id=b"",
        client_mac=b"\xaa" * 6,
    )


def _want(tx: object, family: int = 4, **kw: object) -> names.Wanted | None:
    return names.wanted(family, "10.0.0.5", "", tx, "example.test.", ["example.test."], **kw)  # type: ignore[arg-type]


def test_source_of_truth_beats_the_client() -> None:
    tx = _tx4({81: b"\x01\0\0myname"}, hostname="opt12", answer_name="from-bridge")
    assert _want(tx) == names.Wanted("from-bridge.example.test.", True, True, "source")


def test_option81_then_option12() -> None:
    assert _want(_tx4({81: b"\x05\0\0\x06client\x07example\x04test\0"}, "opt12")) == names.Wanted(
        "client.example.test.", True, True, "option81"
    )
    assert _want(_tx4({}, "opt12")) == names.Wanted("opt12.example.test.", True, True, "option12")
    assert _want(_tx4({})) is None
    assert _want(_tx4({}), generated_prefix="dhcp") == names.Wanted(
        "dhcp-10-0-0-5.example.test.", True, True, "generated"
    )


def test_option81_flags_n_and_s() -> None:
    assert _want(_tx4({81: b"\x08\0\0name"})) is None  # N: no updates at all
    assert _want(_tx4({81: b"\x00\0\0name"})) == names.Wanted("name.example.test.", False, True, "option81")
    assert _want(_tx4({81: b"\x00\0\0name"}), override_client_update=True) == names.Wanted(
        "name.example.test.", True, True, "option81"
    )
    assert names.parse_option81(b"\x04\0\0\x09bad") is None  # E set, name runs past the end


def test_option39_for_v6() -> None:
    raw = b"\x01\x04host\x07example\x04test\x00"
    tx = SimpleNamespace(request=SimpleNamespace(raw=lambda code: raw if code == 39 else b""), answer=None)
    assert _want(tx, family=6) == names.Wanted("host.example.test.", True, True, "option39")
    tx_n = SimpleNamespace(request=SimpleNamespace(raw=lambda code: b"\x04"), answer=None)
    assert _want(tx_n, family=6) is None


def test_dhcid_digest_rfc4701_example() -> None:
    # RFC 4701 §3.6.1: DUID 00:01:00:06:41:2d:f1:66:01:02:03:04:05:06, FQDN chi6.example.com
    duid = bytes.fromhex("000100064 12df166010203040506".replace(" ", ""))
    digest = dhcid.rdata(dhcid.DUID, duid, "CHI6.example.com.")
    assert base64.b64encode(digest).decode() == "AAIBY2/AuCccgoJbsaxcQc9TUapptP69lOjxfNuVAA2kjEA="
    wire = b"\x04chi6\x07example\x03com\x00"
    assert digest == b"\x00\x02\x01" + hashlib.sha256(duid + wire).digest()


def test_dhcid_identity_v4() -> None:
    tx = SimpleNamespace(client_id=b"", client_mac=b"\x00\x11" * 3, request=SimpleNamespace(htype=1))
    assert dhcid.identity4(b"", b"", tx) == (0, b"\x01" + b"\x00\x11" * 3)
    tx.client_id = b"\x01\x02\x03"
    assert dhcid.identity4(b"", b"", tx) == (1, b"\x01\x02\x03")
    tx.client_id = b"\xff\0\0\0\1DUIDDUID"
    assert dhcid.identity4(b"", b"", tx) == (2, b"DUIDDUID")
    assert dhcid.identity6(b"\0\0\0\1DUID", None) == (2, b"DUID")


def test_queue_persists_jobs_and_records(tmp_path: Path) -> None:
    queue = UpdateQueue(tmp_path / "q.sqlite")
    queue.open()
    rec = Record(4, "10.0.0.5", "a.example.test.", True, True, 1, "0102")
    jobs = [
        Job(1, "add", rec, 1.0),
        Job(2, "remove", rec, 2.0),
        Job(3, "add", rec.renamed("b.example.test."), 3.0),
    ]
    queue.save(Batch(added=jobs, published={rec.key: rec}))
    jobs[1].attempts, jobs[1].due = 4, 99.0
    queue.save(Batch(retried={2: jobs[1]}, done={1}))
    queue.close_db()
    again = UpdateQueue(tmp_path / "q.sqlite")
    again.open()
    loaded, published = again.load()
    assert [(j.id, j.op, j.attempts, j.due, j.record) for j in loaded] == [
        (2, "remove", 4, 99.0, rec),
        (3, "add", 0, 0.0, rec.renamed("b.example.test.")),
    ]
    assert loaded[1].record.asked == "a.example.test." and loaded[1].record.same_request(rec)
    assert published == {rec.key: rec}
    again.save(Batch(published={rec.key: None}))
    assert again.load()[1] == {}
    again.close_db()


def test_queue_path_follows_the_lease_store(tmp_path: Path) -> None:
    cfg = DnsConfig.model_validate({"zone": [{"name": "example.test", "server": "127.0.0.1"}]})
    assert queue_path(cfg, "sqlite:///var/lib/x/leases.db", tmp_path) == Path(
        "/var/lib/x/leases.db.dns-queue"
    )
    assert queue_path(cfg, "sqlite:rel.db", tmp_path) == tmp_path / "rel.db.dns-queue"
    assert queue_path(cfg, "memory://", tmp_path) == tmp_path / "dns-queue.sqlite"


@pytest.mark.parametrize(
    ("doc", "error"),
    [
        ({"zone": [{"name": "0.10.in-addr.arpa", "server": "127.0.0.1"}]}, "at least one forward zone"),
        ({"zone": [{"name": "a.test", "server": "127.0.0.1"}] * 2}, "may appear once"),
        ({"zone": [{"name": "a.test", "server": "not-an-ip"}]}, "server"),
        ({"zone": [{"name": "a.test", "server": "127.0.0.1"}], "conflict-resolution": "x"}, "conflict"),
        ({"zone": [{"name": "a.test", "server": "127.0.0.1"}], "retry-min": 9, "retry-max": 1}, "retry-min"),
    ],
)
def test_bad_dns_config(doc: dict[str, object], error: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=error):
        DnsConfig.model_validate(doc)


@pytest.mark.parametrize(
    "fqdn", ["Laptop-1.Example.test.", "a.b", "x\\.y.test.", "ü.test.", "a" * 63 + ".t."]
)
def test_dhcid_canonical_wire_matches_dnspython(fqdn: str) -> None:
    assert dhcid.canonical_wire(fqdn) == dns.name.from_text(fqdn).canonicalize().to_wire()
