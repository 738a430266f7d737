"""TSIG keys from BIND key files: ``key "name" { algorithm hmac-sha256; secret "..."; };``, the
format ``tsig-keygen`` prints and ``named.conf`` includes. Errors name the file and what is wrong."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

import dns.name
import dns.tsig

ALGORITHMS = {
    "hmac-md5": dns.tsig.HMAC_MD5,
    "hmac-md5.sig-alg.reg.int": dns.tsig.HMAC_MD5,
    "hmac-sha1": dns.tsig.HMAC_SHA1,
    "hmac-sha224": dns.tsig.HMAC_SHA224,
    "hmac-sha256": dns.tsig.HMAC_SHA256,
    "hmac-sha384": dns.tsig.HMAC_SHA384,
    "hmac-sha512": dns.tsig.HMAC_SHA512,
}
_COMMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|#[^\n]*", re.S)
_KEY = re.compile(r'key\s+("([^"]+)"|([^\s{]+))\s*\{(.*?)\}\s*;', re.S)
_STATEMENT = re.compile(r'\s*(algorithm|secret)\s+("([^"]*)"|([^\s;]+))\s*;', re.S)


class KeyFileError(ValueError):
    """A key file that cannot be used (the message says why)."""


def parse_keys(text: str, origin: str = "key file") -> dict[str, dns.tsig.Key]:
    """Every ``key`` statement of ``text`` by name (lower case, without the final dot)."""
    text = _COMMENTS.sub("", text)
    keys: dict[str, dns.tsig.Key] = {}
    for match in _KEY.finditer(text):
        name = (match.group(2) or match.group(3)).rstrip(".").lower()
        fields: dict[str, str] = {}
        for stmt in _STATEMENT.finditer(match.group(4)):
            fields[stmt.group(1)] = stmt.group(3) if stmt.group(3) is not None else stmt.group(4)
        if "secret" not in fields:
            raise KeyFileError(f"{origin}: key {name!r} has no secret")
        algorithm = fields.get("algorithm", "hmac-sha256").lower().rstrip(".")
        if algorithm not in ALGORITHMS:
            raise KeyFileError(f"{origin}: key {name!r}: unknown algorithm {algorithm!r}")
        try:
            secret = base64.b64decode(fields["secret"], validate=True)
        except (binascii.Error, ValueError):
            raise KeyFileError(f"{origin}: key {name!r}: the secret is not base64") from None
        if not secret:
            raise KeyFileError(f"{origin}: key {name!r}: empty secret")
        keys[name] = dns.tsig.Key(dns.name.from_text(name), secret, ALGORITHMS[algorithm])
    if not keys:
        raise KeyFileError(f'{origin}: no key "name" {{ algorithm ...; secret "..."; }}; statement')
    return keys


def load_key(path: Path, name: str | None = None) -> dns.tsig.Key:
    """The key ``name`` (default: the file's first key) from a BIND key file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise KeyFileError(f"{path}: {exc.strerror or exc}") from None
    keys = parse_keys(text, str(path))
    if name is None:
        return next(iter(keys.values()))
    key = keys.get(name.rstrip(".").lower())
    if key is None:
        raise KeyFileError(f"{path}: no key {name!r} (found: {', '.join(keys)})")
    return key
