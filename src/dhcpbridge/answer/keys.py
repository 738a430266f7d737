"""Lookup keys: which stored entries a question can match, and the canonical spelling of a key.

Every backend of the answer service (files, CSV, SQLite) stores entries under the same keys:

* client keys, most specific first: ``duid-<hex>``, ``client-id-<hex>``, the MAC address
  (``02:67:00:00:00:02``), ``circuit-id-<hex>``, ``remote-id-<hex>``, ``interface-id-<hex>``,
  ``subscriber-id-<hex>``;
* layer keys, most general first: ``default``, ``interface-<name>``, ``relay-<ip>``,
  ``subnet-<cidr>``.

File names and table cells may spell a key loosely (``02-67-00-00-00-02``, ``DUID-00:01:...``,
``subnet-10.67.0.0_24``); :func:`normalise_key` turns any accepted spelling into the canonical one.
"""

from __future__ import annotations

import functools
import ipaddress
import re

from dhcpbridge.contract.models import Question4, Question6

#: hex-valued key prefixes, in client-key precedence order
HEX_PREFIXES = ("duid", "client-id", "circuit-id", "remote-id", "interface-id", "subscriber-id")
LAYER_PREFIXES = ("interface", "relay", "subnet")

_HEX_SEPARATORS = re.compile(r"[:\-. ]")
_MAC = re.compile(r"^[0-9a-f]{2}(?:[:\-]?[0-9a-f]{2}){5}$")
_MAC_DOTTED = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")
_HEX = re.compile(r"^(?:[0-9a-f]{2})+$")
_INTERFACE = re.compile(r"^[A-Za-z0-9_.@:-]{1,64}$")


class InvalidKey(ValueError):
    """A file name or table key that is not a key of any kind."""


def normalise_mac(text: str) -> str | None:
    """``02-67-00-00-00-02`` / ``0267.0000.0002`` / ``026700000002`` -> ``02:67:00:00:00:02``."""
    low = text.strip().lower()
    if not (_MAC.match(low) or _MAC_DOTTED.match(low)):
        return None
    digits = _HEX_SEPARATORS.sub("", low)
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def normalise_hex(text: str) -> str | None:
    """Hex with optional ``:`` / ``-`` / ``.`` separators -> lowercase plain hex (None if not hex)."""
    digits = _HEX_SEPARATORS.sub("", text.strip().lower())
    return digits if _HEX.match(digits) else None


def normalise_key(text: str) -> str:
    """The canonical key for a loose spelling; raises :class:`InvalidKey` with the reason."""
    raw = text.strip()
    low = raw.lower()
    if low == "default":
        return "default"
    for prefix in HEX_PREFIXES:
        if low.startswith(prefix + "-"):
            value = normalise_hex(low[len(prefix) + 1 :])
            if value is None:
                raise InvalidKey(f"{raw!r}: the part after {prefix}- is not hex")
            return f"{prefix}-{value}"
    if low.startswith("subnet-"):
        spec = low[len("subnet-") :].replace("_", "/")
        try:
            network = ipaddress.ip_network(spec, strict=True)
        except ValueError as exc:
            raise InvalidKey(f"{raw!r}: {exc} (write subnet-10.67.0.0_24 or subnet-10.67.0.0/24)") from None
        if "/" not in spec:
            raise InvalidKey(f"{raw!r}: a subnet needs its prefix length (subnet-10.67.0.0_24)")
        return f"subnet-{network}"
    if low.startswith("relay-"):
        try:
            return f"relay-{ipaddress.ip_address(low[len('relay-') :])}"
        except ValueError:
            raise InvalidKey(f"{raw!r}: the part after relay- is not an IP address") from None
    if low.startswith("interface-"):
        name = raw[len("interface-") :]
        if not _INTERFACE.match(name):
            raise InvalidKey(f"{raw!r}: not an interface name")
        return f"interface-{name}"
    mac = normalise_mac(low.removeprefix("mac-"))
    if mac is not None:
        return mac
    raise InvalidKey(
        f"{raw!r} is not a key: expected a MAC address, duid-<hex>, client-id-<hex>, circuit-id-<hex>, "
        "remote-id-<hex>, interface-id-<hex>, subscriber-id-<hex>, default, interface-<name>, "
        "relay-<ip> or subnet-<cidr>"
    )


def is_layer_key(key: str) -> bool:
    """True for ``default`` and the ``interface-`` / ``relay-`` / ``subnet-`` keys."""
    return key == "default" or key.startswith(("interface-", "relay-", "subnet-"))


def client_keys(question: Question4 | Question6) -> list[str]:
    """The client keys a question can match, most specific first."""
    keys: list[str] = []
    if isinstance(question, Question6):
        if question.duid:
            keys.append("duid-" + question.duid)
    else:
        if question.client_id:
            keys.append("client-id-" + question.client_id)
        if question.duid:
            keys.append("duid-" + question.duid)
    if question.client_mac and len(question.client_mac) == 17:
        keys.append(question.client_mac)
    circuit = question.circuit_id if isinstance(question, Question4) else None
    interface_id = question.interface_id if isinstance(question, Question6) else None
    for prefix, relay_id in (
        ("circuit-id", circuit),
        ("remote-id", question.remote_id),
        ("interface-id", interface_id),
        ("subscriber-id", question.subscriber_id),
    ):
        if relay_id is not None and relay_id.hex:
            keys.append(f"{prefix}-{relay_id.hex}")
    return keys


def layer_keys(question: Question4 | Question6) -> list[str]:
    """The layer keys a question can match, most general first."""
    keys = ["default"]
    if question.interface:
        keys.append("interface-" + question.interface)
    if question.relay_ip and question.relay_ip not in ("0.0.0.0", "::"):
        keys.append("relay-" + _canonical_ip(question.relay_ip))
    if question.subnet:
        keys.append("subnet-" + _canonical_network(question.subnet))
    return keys


@functools.lru_cache(maxsize=4096)
def _canonical_ip(text: str) -> str:
    return str(ipaddress.ip_address(text))


@functools.lru_cache(maxsize=4096)
def _canonical_network(text: str) -> str:
    return str(ipaddress.ip_network(text))
