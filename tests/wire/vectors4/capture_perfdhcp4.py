"""Capture perfdhcp -4 DISCOVER/REQUEST packets on a private namespace loopback (run by hand, as root).

Not a test: it produced the ``perfdhcp4-*.hex`` vectors next to it. It creates a network
namespace of its own (unique name ``dhcpb4vec-PID``, only ``lo`` up, ``127.0.0.2/8`` added so
perfdhcp can act as a relay from it), starts tshark on that ``lo`` and a tiny listener of its own
on ``127.0.0.1:67`` that records every payload and answers DISCOVER with OFFER and REQUEST with
ACK (to giaddr:67, so perfdhcp goes on to send REQUESTs), then runs bounded perfdhcp runs:

* ``plain``:   ``perfdhcp -4 -l 127.0.0.2 -r 10 -R 10 -p 2 127.0.0.1``
* ``options``: the same with ``-B`` (broadcast flag) and ``-o`` options 12 (host name),
  60 (vendor class), 81 (client FQDN, wire-form name) and 82 (relay agent
  information with circuit-id, remote-id and link-selection sub-options).

Every packet stays inside the namespace, which is deleted at exit (also on failure). The
listener's recorded payloads are checked against the capture, then extract_vectors.py writes a
few packets of each type:

    sudo .venv/bin/python tests/wire/vectors4/capture_perfdhcp4.py tests/wire/vectors4
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVE_SECONDS = 14.0
IDLE_SECONDS = 2.5
MAX_PACKETS = 200
HERE = Path(__file__).resolve().parent

FQDN = bytes((0x05, 0, 0)) + b"\x09perf-host\x07example\x00"  # S and E flags, RFC 4702 §2.1
RAI = (
    b"\x01\x06port-7"  # circuit-id
    + b"\x02\x06\x02\x00\x00\x00\x00\x07"  # remote-id (a MAC)
    + b"\x05\x04\x0a\x45\x00\x00"  # link selection 10.69.0.0 (RFC 3527)
)
OPTION_ARGS = [
    "-B",
    "-o", "12," + b"perf-host".hex(),
    "-o", "60," + b"perfdhcp-vectors".hex(),
    "-o", "81," + FQDN.hex(),
    "-o", "82," + RAI.hex(),
]  # fmt: skip
RUNS = {
    "plain": ["-r", "10", "-R", "10", "-p", "2"],
    "options": ["-r", "4", "-R", "4", "-p", "2", *OPTION_ARGS],
}


def serve(seconds: float, record: Path) -> None:
    """Record each datagram on 127.0.0.1:67 and answer it; bounded in time and count."""
    sys.path.insert(0, str(HERE.parents[2] / "src"))
    from dhcpbridge.wire.v4.message import BOOTREPLY, Message4, encode, parse

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 67))
    sock.settimeout(0.2)
    deadline = time.monotonic() + seconds
    seen: list[str] = []
    last = time.monotonic()
    while time.monotonic() < deadline and len(seen) < MAX_PACKETS:
        if seen and time.monotonic() - last > IDLE_SECONDS:
            break  # perfdhcp has finished its bounded run
        try:
            data, _peer = sock.recvfrom(65535)
        except TimeoutError:
            continue
        last = time.monotonic()
        seen.append(data.hex())
        req = parse(data)
        kind = {1: 2, 3: 5}.get(req.msg_type)
        if kind is None:
            continue
        yiaddr = (10 << 24) | (69 << 16) | (1 << 8) | (req.xid & 0xFF)
        reply = Message4(
            op=BOOTREPLY, xid=req.xid, flags=req.flags, yiaddr=yiaddr, giaddr=req.giaddr,
            chaddr=req.chaddr, hops=req.hops,
            options={53: bytes((kind,)), 54: bytes((127, 0, 0, 1)), 51: (600).to_bytes(4, "big"),
                     1: bytes((255, 255, 255, 0))},
        )  # fmt: skip
        if 82 in req.options:
            reply.options[82] = req.options[82]
        sock.sendto(encode(reply), (socket.inet_ntoa(req.giaddr.to_bytes(4, "big")), 67))
    record.write_text(json.dumps(seen))


def capture(out_dir: Path) -> None:
    ns = f"dhcpb4vec-{os.getpid()}"
    tmp = Path(f"/tmp/{ns}")
    tmp.mkdir()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        nsx = ["ip", "netns", "exec", ns]
        subprocess.run([*nsx, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run([*nsx, "ip", "addr", "add", "127.0.0.2/8", "dev", "lo"], check=True)
        for run, args in RUNS.items():
            pcap = tmp / f"perfdhcp4-{run}.pcapng"
            record = tmp / f"{run}.json"
            tshark = subprocess.Popen(
                [*nsx, "timeout", "40", "tshark", "-q", "-i", "lo", "-f", "udp port 67", "-w", str(pcap)],
                stderr=subprocess.DEVNULL,
            )
            procs.append(tshark)
            time.sleep(2.0)
            listener = subprocess.Popen(
                [*nsx, sys.executable, __file__, "--serve", str(SERVE_SECONDS), str(record)]
            )
            procs.append(listener)
            time.sleep(1.0)
            subprocess.run(
                [*nsx, "timeout", "-k", "2", "8", "perfdhcp", "-4", "-l", "127.0.0.2", *args, "127.0.0.1"],
                check=False,
                stdout=subprocess.DEVNULL,
            )
            listener.wait(timeout=SERVE_SECONDS + 5)
            time.sleep(1.0)
            tshark.terminate()
            tshark.wait(timeout=10)
            recorded = json.loads(record.read_text())
            captured = subprocess.run(
                ["tshark", "-r", str(pcap), "-Y", "bootp && ip.dst==127.0.0.1", "-T", "fields", "-e", "udp.payload"],
                check=True, capture_output=True, text=True,
            ).stdout.split()  # fmt: skip
            assert recorded and recorded == captured, (run, len(recorded), len(captured))
            print(f"{run}: {len(recorded)} packets recorded and captured")
            subprocess.run(
                [sys.executable, str(HERE / "extract_vectors.py"), str(out_dir),
                 f"{pcap}=perfdhcp 2.2 -4 {' '.join(args)} on a private netns loopback, relay 127.0.0.2 -> 127.0.0.1",
                 "--filter", "bootp && ip.dst==127.0.0.1", "--limit", "2", "--prefix", f"perfdhcp4-{run}"],
                check=True,
            )  # fmt: skip
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        subprocess.run(["ip", "netns", "del", ns], check=False)
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(float(sys.argv[2]), Path(sys.argv[3]))
    elif len(sys.argv) == 2:
        capture(Path(sys.argv[1]))
    else:
        sys.exit(__doc__)
