"""Packet captures with tshark on an interface of a test namespace, for asserting wire details.

One job: record the DHCP traffic of a test (``udp portrange 67-68 or udp portrange 546-547 or
arp`` by default) into a pcapng file and read fields back with tshark.

    with Capture(topo["srv"], "srv0") as cap:
        client.obtain()
    rows = cap.fields("dhcp.option.dhcp", "dhcp.flags.bc")

tshark prints "Capturing on 'srv0'" once the capture runs; :meth:`Capture.start` waits for it,
and :meth:`Capture.stop` gives the kernel a moment to deliver the last frames before SIGINT.
With veth tx checksum offload on (the default), replies sent from ordinary UDP sockets carry a
partial checksum that tshark flags as bad; turn offload off in the topology if that matters.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from dhcpbridge.testing.netns import Namespace, NetnsError
from dhcpbridge.testing.process import BackgroundProcess, StartStop

DHCP_FILTER = "udp portrange 67-68 or udp portrange 546-547 or arp"


class Capture(StartStop):
    """tshark on ``ifname`` in ``ns`` writing ``path`` (default: in the namespace's workdir)."""

    def __init__(
        self,
        ns: Namespace,
        ifname: str,
        *,
        capture_filter: str = DHCP_FILTER,
        path: Path | None = None,
        max_seconds: float = 300.0,
    ) -> None:
        self.ns = ns
        self.ifname = ifname
        self.capture_filter = capture_filter
        self.path = path or ns.workdir / f"capture-{ns.role}-{ifname}-{time.monotonic_ns()}.pcapng"
        self.max_seconds = max_seconds
        self.proc: BackgroundProcess | None = None

    def start(self, timeout: float = 15.0) -> Capture:
        argv = ["tshark", "-q", "-i", self.ifname, "-f", self.capture_filter, "-w", str(self.path)]
        argv += ["-a", f"duration:{int(self.max_seconds)}"]  # bounded even if nobody stops it
        self.proc = self.ns.popen(argv, name="tshark", log_path=self.path.with_suffix(".log"))
        deadline = time.monotonic() + timeout
        while "Capturing on" not in self.proc.log():
            if not self.proc.alive() or time.monotonic() > deadline:
                self.proc.stop()
                raise NetnsError(f"tshark did not start on {self.ifname}:\n{self.proc.log()}")
            time.sleep(0.05)
        time.sleep(0.2)
        return self

    def stop(self, settle: float = 0.3) -> Path:
        if self.proc is not None and self.proc.alive():
            time.sleep(settle)
            self.proc.signal(signal.SIGINT)
            if self.proc.wait(10) is None:
                self.proc.stop()
        return self.path

    def _read(self, *args: str) -> str:
        out = subprocess.run(
            ["tshark", "-r", str(self.path), *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if out.returncode != 0:
            raise NetnsError(f"tshark -r {self.path}: {out.stderr.strip()}")
        return out.stdout

    def summary(self, display_filter: str = "") -> list[str]:
        """tshark's one-line-per-packet summary (optionally with a display filter)."""
        args = ["-Y", display_filter] if display_filter else []
        return [line for line in self._read(*args).splitlines() if line.strip()]

    def fields(self, *fields: str, display_filter: str = "") -> list[list[str]]:
        """Selected fields per packet (``-T fields -e F ...``); multi-valued fields stay comma-joined."""
        args = ["-T", "fields", "-E", "separator=\t"]
        for f in fields:
            args += ["-e", f]
        if display_filter:
            args += ["-Y", display_filter]
        return [line.split("\t") for line in self._read(*args).splitlines() if line.strip()]
