"""Lease files of other DHCP servers, read into dhcpbridge ``Lease`` records: ISC dhcpd
(``dhcpd.leases``), Kea memfile CSV (v4 and v6) and dnsmasq (``dnsmasq.leases``, v4 and v6).

One reader per format (``dhcpd``, ``kea``, ``dnsmasq``) behind ``read_lease_file(path, format)``;
``dhcpbridge leases import`` and ``dhcpbridge harvest`` both use it. Readers are pure (text in,
records out); a damaged record becomes a warning, not an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dhcpbridge.leases.files.common import NEVER, LeaseFileError, ReadResult
from dhcpbridge.leases.files.dhcpd import read_dhcpd
from dhcpbridge.leases.files.dnsmasq import read_dnsmasq
from dhcpbridge.leases.files.kea import read_kea_csv

__all__ = ["FORMATS", "NEVER", "LeaseFileError", "ReadResult", "detect_format", "read_lease_file"]

FORMATS: dict[str, Callable[[str, float], ReadResult]] = {
    "kea-csv": lambda text, mtime: read_kea_csv(text),
    "dhcpd": lambda text, mtime: read_dhcpd(text),
    "dnsmasq": read_dnsmasq,
}
"""Format name (as ``--from`` takes it) -> reader of the file's text (and its modification time)."""


def detect_format(text: str) -> str:
    """The format a lease file's text looks like (``LeaseFileError`` when none fits)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith("address,"):
        return "kea-csv"
    if first.startswith("#") or first.split(" ", 1)[0] in (
        "lease",
        "authoring-byte-order",
        "server-duid",
        "ia-na",
        "ia-pd",
        "failover",
    ):
        return "dhcpd"
    head = first.split()
    if head and (head[0] == "duid" or (head[0].isdigit() and len(head) >= 4)):
        return "dnsmasq"
    if not first:
        raise LeaseFileError("empty file: name its format")
    raise LeaseFileError(f"unknown lease file format (first line {first[:60]!r})")


def read_lease_file(path: Path, fmt: str = "auto") -> ReadResult:
    """The leases of the file at ``path`` in format ``fmt`` (a ``FORMATS`` name, or ``auto``).
    Raises ``LeaseFileError`` for an unreadable file or unknown format, ``OSError`` passes."""
    data = path.read_bytes()
    text = data.decode("utf-8", errors="replace")
    if fmt == "auto":
        fmt = detect_format(text)
    reader = FORMATS.get(fmt)
    if reader is None:
        raise LeaseFileError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    return reader(text, float(int(path.stat().st_mtime)))  # whole seconds, as the files write times
