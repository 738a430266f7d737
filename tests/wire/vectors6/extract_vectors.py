"""Write one ``.hex`` vector per DHCPv6 packet of the lab captures (run by hand; needs tshark).

Not a test and never run by the tests: the vectors it writes are committed, so the test suite
does not depend on /work/shared or tshark. Each file has a ``#`` comment header naming the
capture and frame, then ``# tshark <field>=<JSON list>`` lines with what tshark decoded (the
expectations tests/wire/test_v6_vectors.py checks dhcpbridge against), then the UDP payload as
hex, 64 digits per line.

    .venv/bin/python tests/wire/vectors6/extract_vectors.py OUT_DIR CAPTURE.pcapng[=DESCRIPTION] ...
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIELDS = [
    "dhcpv6.msgtype",
    "dhcpv6.xid",
    "dhcpv6.hopcount",
    "dhcpv6.linkaddr",
    "dhcpv6.peeraddr",
    "dhcpv6.option.type",
    "dhcpv6.duid.bytes",
    "dhcpv6.iaid",
    "dhcpv6.iaid.t1",
    "dhcpv6.iaid.t2",
    "dhcpv6.iaaddr.ip",
    "dhcpv6.iaaddr.pref_lifetime",
    "dhcpv6.iaaddr.valid_lifetime",
    "dhcpv6.iaprefix.pref_lifetime",
    "dhcpv6.iaprefix.valid_lifetime",
    "dhcpv6.iaprefix.pref_len",
    "dhcpv6.iaprefix.pref_addr",
    "dhcpv6.requested_option_code",
    "dhcpv6.status_code",
    "dhcpv6.status_msg",
    "dhcpv6.dns_server",
    "dhcpv6.search_list_entry",
    "dhcpv6.vendorclass.enterprise",
    "dhcpv6.vendorclass.data",
]
MSG_NAMES = {
    1: "solicit",
    2: "advertise",
    3: "request",
    7: "reply",
    8: "release",
    12: "relayforw",
    13: "relayrepl",
}
AGG = "\x1f"


def tshark_rows(pcap: Path) -> list[list[str]]:
    cmd = ["tshark", "-r", str(pcap), "-Y", "dhcpv6", "-T", "fields", "-E", "occurrence=a"]
    cmd += ["-E", f"aggregator={AGG}", "-e", "frame.number", "-e", "udp.payload"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.split("\n") if line.strip()]


def write_vectors(out_dir: Path, pcap: Path, description: str) -> None:
    stem = pcap.name.removesuffix(".pcapng")
    for row in tshark_rows(pcap):
        frame, payload, *vals = row
        vals += [""] * (len(FIELDS) - len(vals))  # tshark drops trailing empty columns
        outer_type = int(vals[0].split(AGG)[0])
        name = f"{stem}-{int(frame):02d}-{MSG_NAMES.get(outer_type, str(outer_type))}.hex"
        lines = [
            f"# source: {pcap.name} frame {frame} ({description})",
            f"# payload: tshark -r {pcap.name} -Y frame.number=={frame} -T fields -e udp.payload",
        ]
        for field, value in zip(FIELDS, vals, strict=True):
            if value:
                lines.append(f"# tshark {field}={json.dumps(value.split(AGG))}")
        lines += [payload[i : i + 64] for i in range(0, len(payload), 64)]
        (out_dir / name).write_text("\n".join(lines) + "\n")
        print(name)


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    out_dir = Path(argv[0])
    for spec in argv[1:]:
        path, _, description = spec.partition("=")
        write_vectors(out_dir, Path(path), description or "lab capture")


if __name__ == "__main__":
    main(sys.argv[1:])
