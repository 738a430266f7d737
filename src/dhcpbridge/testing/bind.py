"""A real BIND 9 (``named -g``) for tests: primary zones that accept TSIG-signed dynamic updates,
on a loopback address (of the host, or of a test namespace) and a non-standard port.

One job: write ``named.conf``, a key file and minimal zone files into a work directory, start
``named`` in the foreground (stopped by PID), wait until it answers, and look records up with
dnspython (from inside the namespace when there is one).
"""

from __future__ import annotations

import base64
import contextlib
import random
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Self

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from dhcpbridge.testing.netns import Namespace
from dhcpbridge.testing.process import BackgroundProcess, StartStop
from dhcpbridge.testing.sockets import socket_in as socket_in  # re-exported for test_dns_updates


class BindError(RuntimeError):
    """named did not start (the message carries its log)."""


def key_text(name: str, secret: bytes, algorithm: str = "hmac-sha256") -> str:
    """A key statement as ``tsig-keygen`` prints it."""
    return (
        f'key "{name}" {{\n\talgorithm {algorithm};\n\tsecret "{base64.b64encode(secret).decode()}";\n}};\n'
    )


def _zone_file(origin: str) -> str:
    return (
        "$TTL 300\n"
        f"$ORIGIN {origin}\n"
        "@ IN SOA ns.dns-test. hostmaster.dns-test. 1 3600 600 86400 60\n"
        "@ IN NS ns.dns-test.\n"
    )


TCP_TAKEN = "creating TCP socket: address in use"  # named's log line when its TCP port is taken
#: where ``free_port`` looks: below the kernel's range of ephemeral ports (the ``ip_local_port_range``
#: default starts at 32768), so the local end of some unrelated outgoing TCP connection cannot take
#: a port between the moment a test picks it and the moment named binds it
PICK_FROM = 10_000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(address: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP on ``address`` now (named listens on both), so test runs
    side by side on one machine do not talk to each other's BIND. Picked at random outside the
    ephemeral range: a test module picks its port when it is collected, minutes before named binds
    it, and an ephemeral port (what binding port 0 gives) can meanwhile be the local end of any
    outgoing connection; named then listens on UDP only (``creating TCP socket: address in use``)."""
    top = _ephemeral_low()
    low = PICK_FROM if top > PICK_FROM + 1000 else 1024
    for _ in range(200):
        port = random.randrange(low, top)
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        ):
            try:
                udp.bind((address, port))
                tcp.bind((address, port))
            except OSError:
                continue
            return port
    raise OSError("no port free for both UDP and TCP")


class BindServer(StartStop):
    """``named -g -c WORKDIR/named.conf`` serving ``zones`` on ``address:port``; updates allowed
    with the key ``key_name`` (secret ``secret``). A context manager; ``stop``/``start`` again
    keep the zones' journals (what was updated survives)."""

    def __init__(
        self,
        workdir: Path,
        zones: Sequence[str],
        *,
        port: int = 53053,
        address: str = "127.0.0.1",
        key_name: str = "ddns-key",
        secret: bytes = b"dhcpbridge-test-secret-32-bytes!",
        ns: Namespace | None = None,
        rndc_port: int | None = None,
        static_zones: Sequence[str] = (),
        cpu: int | None = None,
    ) -> None:
        self.cpu = cpu  # in a namespace: the CPU named is pinned to (None: any)
        self.workdir = Path(workdir)
        self.rndc_port = rndc_port  # a control channel for rndc (key ``rndc_key_path``) when set
        self.static_zones = [z.rstrip(".") for z in static_zones]  # no updates; ``rndc reload`` works
        self.zones = [z.rstrip(".") for z in zones]
        self.port = port
        self.address = address
        self.key_name = key_name
        self.secret = secret
        self.ns = ns
        self.proc: BackgroundProcess | None = None

    @property
    def key_path(self) -> Path:
        return self.workdir / "ddns.key"

    @property
    def rndc_key_path(self) -> Path:
        return self.workdir / "rndc.key"

    def _controls(self) -> str:
        if self.rndc_port is None:
            return "controls { };\n"
        self.rndc_key_path.write_text(key_text("rndc-key", b"dhcpbridge-test-rndc-secret-32b!"))
        return (
            f'include "{self.rndc_key_path}";\n'
            f"controls {{ inet {self.address} port {self.rndc_port} allow {{ {self.address}; }} "
            'keys { "rndc-key"; }; };\n'
        )

    @property
    def log_path(self) -> Path:
        return self.workdir / "named.out"

    def write(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.key_path.write_text(key_text(self.key_name, self.secret))
        zones = []
        for zone in self.zones:
            path = self.workdir / f"{zone}.zone"
            if not path.exists():
                path.write_text(_zone_file(zone + "."))
            zones.append(
                f'zone "{zone}" {{ type primary; file "{path}"; '
                f"update-policy {{ grant {self.key_name} zonesub ANY; }}; }};"
            )
        for zone in self.static_zones:
            path = self.workdir / f"{zone}.zone"
            if not path.exists():
                path.write_text(_zone_file(zone + "."))
            zones.append(f'zone "{zone}" {{ type primary; file "{path}"; }};')
        conf = self.workdir / "named.conf"
        conf.write_text(
            f'include "{self.key_path}";\n'
            "options {\n"
            f'  directory "{self.workdir}";\n'
            f"  listen-on port {self.port} {{ {self.address}; }};\n"
            "  listen-on-v6 { none; };\n"
            "  pid-file none;\n  session-keyfile none;\n  recursion no;\n  dnssec-validation no;\n"
            "  notify no;\n  allow-query { any; };\n"
            "};\n" + self._controls() + "\n".join(zones) + "\n"
        )
        return conf

    def start(self, timeout: float = 20.0) -> Self:
        conf = self.write()
        before = len(self.log())  # the log is appended to across restarts: read only this start's lines
        argv = ["named", "-g", "-n", "1", "-c", str(conf)]
        if self.ns is not None:
            self.proc = self.ns.popen(argv, name="named", log_path=self.log_path, cpu=self.cpu)
        else:
            self.proc = BackgroundProcess.start(argv, self.log_path, "named")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.proc.alive():
                raise BindError(f"named exited: {self.log()[-3000:]}")
            with contextlib.suppress(dns.exception.DNSException, OSError):
                if self.query([*self.zones, *self.static_zones][0], "SOA", timeout=0.5):
                    if TCP_TAKEN in self.log()[before:]:
                        break  # it answers on UDP only: updates over TCP would be refused
                    return self
            time.sleep(0.1)
        if TCP_TAKEN in self.log()[before:]:
            self.stop()
            raise BindError(f"named could not listen on TCP {self.address}#{self.port}: the port is taken")
        self.stop()
        raise BindError(f"named did not answer within {timeout} s: {self.log()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def _socket(self) -> socket.socket:
        if self.ns is None:
            return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        return socket_in(self.ns, socket.AF_INET, socket.SOCK_DGRAM)

    def query(self, name: str, rdtype: str, timeout: float = 2.0) -> list[str]:
        """The records of ``name``/``rdtype`` as text ([] for NXDOMAIN or no data)."""
        msg = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
        with self._socket() as sock:
            sock.setblocking(False)  # dnspython waits with select; a blocking socket ignores the timeout
            response = dns.query.udp(msg, self.address, timeout=timeout, port=self.port, sock=sock)
        if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            raise RuntimeError(f"{name} {rdtype}: {dns.rcode.to_text(response.rcode())}")
        out: list[str] = []
        for rrset in response.answer:
            if rrset.rdtype == dns.rdatatype.from_text(rdtype):
                out += [r.to_text() for r in rrset]
        return sorted(out)
