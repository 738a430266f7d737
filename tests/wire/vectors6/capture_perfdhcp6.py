"""Capture perfdhcp -6 -A 1 Relay-forward exchanges on a private namespace loopback (run by hand, as root).

Not a test: it produced the ``perfdhcp6-relay-*.hex`` vectors next to it (via extract_vectors.py).
It creates a network namespace of its own (unique name, only ``lo``, ``fd69::2/128`` added),
starts tshark on that ``lo``, a tiny responder on ``[::1]:547`` that answers each RELAY-FORW with
a RELAY-REPL built by dhcpbridge's own codec (so perfdhcp goes on to send a Request), and runs two
bounded perfdhcp runs (address-only, address-and-prefix). The namespace is deleted at exit, also
on failure. No packet leaves the namespace.

    sudo .venv/bin/python tests/wire/vectors6/capture_perfdhcp6.py /tmp/perfdhcp6-relay.pcapng
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVE_SECONDS = 12.0
MAX_PACKETS = 40


def serve(seconds: float) -> None:
    """Answer RELAY-FORW(SOLICIT/REQUEST) with RELAY-REPL(ADVERTISE/REPLY); bounded in time and count."""
    from dhcpbridge.wire.duid import Duid
    from dhcpbridge.wire.v6.message import encode6, parse6, reply_skeleton, unwrap_relay, wrap_relay_reply
    from dhcpbridge.wire.v6.options import (
        IANA,
        IAPD,
        DnsServers,
        IAAddr,
        IAPrefix,
        MessageType6,
        Option6,
        RawOption,
        ServerId,
    )

    server_id = RawOption.of(ServerId(Duid.en(2495, b"dhcpbridge-vectors")))
    dns = DnsServers([ipaddress.IPv6Address("fd69::1")])
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind(("::1", 547))
    sock.settimeout(0.2)
    deadline = time.monotonic() + seconds
    handled = 0
    while time.monotonic() < deadline and handled < MAX_PACKETS:
        try:
            data, peer = sock.recvfrom(65535)
        except TimeoutError:
            continue
        handled += 1
        inner, chain = unwrap_relay(parse6(data))
        if inner.msg_type == MessageType6.SOLICIT:
            reply_type = MessageType6.ADVERTISE
        elif inner.msg_type == MessageType6.REQUEST:
            reply_type = MessageType6.REPLY
        else:
            continue
        reply = reply_skeleton(inner, reply_type, server_id)
        n = inner.transaction_id & 0xFF
        for ia in inner.ia_na:
            addr = ipaddress.IPv6Address(f"fd69::100:{n + 1:x}")
            reply.options.append(IANA(ia.iaid, 1000, 2000, [IAAddr(addr, 3000, 4000)]))
        for pd in inner.ia_pd:
            net = ipaddress.IPv6Network(f"fd69:1000:0:{n + 1:x}00::/56")
            opts: list[Option6] = [IAPrefix.of(net, 3000, 4000)]
            reply.options.append(IAPD(pd.iaid, 1000, 2000, opts))
        reply.options.append(dns)
        sock.sendto(encode6(wrap_relay_reply(reply, chain)), peer)


def capture(pcap: Path) -> None:
    ns = f"dhcpb6vec-{os.getpid()}"
    jfile = Path(f"/tmp/{ns}.relays")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True)
        nsx = ["ip", "netns", "exec", ns]
        subprocess.run([*nsx, "ip", "link", "set", "lo", "up"], check=True)
        subprocess.run([*nsx, "ip", "addr", "add", "fd69::2/128", "dev", "lo", "nodad"], check=True)
        jfile.write_text("fd69::2\n")
        procs.append(
            subprocess.Popen(
                [*nsx, "timeout", "30", "tshark", "-q", "-i", "lo", "-f", "udp port 547", "-w", str(pcap)],
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(2.0)
        procs.append(subprocess.Popen([*nsx, sys.executable, __file__, "--serve", str(SERVE_SECONDS)]))
        time.sleep(1.0)
        for etype in ("address-only", "address-and-prefix"):
            subprocess.run(
                [*nsx, "timeout", "-k", "2", "6", "perfdhcp", "-6", "-g", "single", "-A", "1", "-J", str(jfile),
                 "-l", "fd69::2", "-e", etype, "-r", "1", "-R", "2", "-n", "2", "-p", "3", "::1"],
                check=False,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        time.sleep(1.0)
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=5)
        subprocess.run(["ip", "netns", "del", ns], check=False)
        jfile.unlink(missing_ok=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(float(sys.argv[2]))
    elif len(sys.argv) == 2:
        capture(Path(sys.argv[1]))
    else:
        sys.exit(__doc__)
