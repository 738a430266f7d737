"""Write one ``.hex`` vector per DHCPv4 packet of a capture (run by hand; needs tshark).

Not a test and never run by the tests: the vectors it writes are committed, so the test suite
depends on neither /work/shared nor tshark. Each file has a ``#`` comment header naming the
capture and frame, then ``# tshark <field>=<JSON list>`` lines with what tshark 4.0 decoded
(the expectations tests/wire/test_v4_vectors.py checks dhcpbridge against), then the UDP payload
as hex, 64 digits per line.

    .venv/bin/python tests/wire/vectors4/extract_vectors.py OUT_DIR CAPTURE.pcapng[=DESCRIPTION] ...

``--filter EXPR`` (a tshark display filter, default ``bootp``) and ``--limit N`` (at most N
packets per DHCP message type) select what is written; ``--prefix NAME`` replaces the capture's
file name as the vector name prefix.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections import Counter
from pathlib import Path

FIELDS = [
    "ip.src",
    "ip.dst",
    "udp.srcport",
    "udp.dstport",
    "dhcp.type",
    "dhcp.hw.type",
    "dhcp.hw.len",
    "dhcp.hops",
    "dhcp.id",
    "dhcp.secs",
    "dhcp.flags",
    "dhcp.ip.client",
    "dhcp.ip.your",
    "dhcp.ip.server",
    "dhcp.ip.relay",
    "dhcp.hw.mac_addr",
    "dhcp.option.type",
    "dhcp.option.length",
    "dhcp.option.value",
    "dhcp.option.dhcp",
    "dhcp.option.request_list_item",
    "dhcp.option.dhcp_max_message_size",
    "dhcp.option.hostname",
    "dhcp.option.vendor_class_id",
    "dhcp.option.requested_ip_address",
    "dhcp.option.dhcp_server_id",
    "dhcp.option.ip_address_lease_time",
    "dhcp.option.renewal_time_value",
    "dhcp.option.rebinding_time_value",
    "dhcp.option.subnet_mask",
    "dhcp.option.router",
    "dhcp.option.domain_name_server",
    "dhcp.option.domain_name",
    "dhcp.option.broadcast_address",
    "dhcp.client_id.type",
    "dhcp.client_id.iaid",
    "dhcp.client_id.duid_type",
    "dhcp.client_id.link_layer_address",
    "dhcp.fqdn.flags",
    "dhcp.fqdn.rcode1",
    "dhcp.fqdn.rcode2",
    "dhcp.fqdn.name",
    "dhcp.option.agent_information_option.suboption",
    "dhcp.option.agent_information_option.agent_circuit_id",
    "dhcp.option.agent_information_option.agent_remote_id",
    "dhcp.option.agent_information_option.link_selection",
    "dhcp.option.agent_information_option.server_id_override",
    "dhcp.option.subnet_selection_option",
]
MSG_NAMES = {
    1: "discover",
    2: "offer",
    3: "request",
    4: "decline",
    5: "ack",
    6: "nak",
    7: "release",
    8: "inform",
}
AGG = "\x1f"


def tshark_rows(pcap: Path, display_filter: str) -> list[list[str]]:
    cmd = ["tshark", "-r", str(pcap), "-Y", display_filter, "-T", "fields", "-E", "occurrence=a"]
    cmd += ["-E", f"aggregator={AGG}", "-e", "frame.number", "-e", "udp.payload"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.split("\n") if line.strip()]


def write_vectors(
    out_dir: Path, pcap: Path, description: str, display_filter: str, limit: int, prefix: str | None
) -> list[Path]:
    stem = prefix or pcap.name.removesuffix(".pcapng")
    written: list[Path] = []
    per_type: Counter[int] = Counter()
    for row in tshark_rows(pcap, display_filter):
        frame, payload, *vals = row
        vals += [""] * (len(FIELDS) - len(vals))  # tshark drops trailing empty columns
        msg_type = int(vals[FIELDS.index("dhcp.option.dhcp")].split(AGG)[0] or 0)
        per_type[msg_type] += 1
        if limit and per_type[msg_type] > limit:
            continue
        name = f"{stem}-{int(frame):02d}-{MSG_NAMES.get(msg_type, str(msg_type))}.hex"
        lines = [
            f"# source: {pcap.name} frame {frame} ({description})",
            f"# payload: tshark -r {pcap.name} -Y frame.number=={frame} -T fields -e udp.payload",
        ]
        for field, value in zip(FIELDS, vals, strict=True):
            if value:
                lines.append(f"# tshark {field}={json.dumps(value.split(AGG))}")
        lines += [payload[i : i + 64] for i in range(0, len(payload), 64)]
        path = out_dir / name
        path.write_text("\n".join(lines) + "\n")
        written.append(path)
        print(name)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("captures", nargs="+")
    parser.add_argument("--filter", default="bootp")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--prefix")
    args = parser.parse_args()
    for spec in args.captures:
        path, _, description = spec.partition("=")
        write_vectors(
            args.out_dir, Path(path), description or "lab capture", args.filter, args.limit, args.prefix
        )


if __name__ == "__main__":
    main()
