"""Helpers of the DHCPv4 end-to-end tests (``tests/e2e/test_v4_*.py``).

One job: what those tests share - ``dhcpbridge serve`` with a v4 config written from an address
plan (:class:`V4Server`), its lease table, counters and JSON log, sockets opened inside a test
namespace (:func:`socket_in`), and a small DHCPv4 codec of our own (independent of the server's
``wire`` package, so a codec bug cannot hide itself) used by a relay-agent load generator
(:class:`RelayLoader`) and a generator of malformed packets (:func:`bad_packets`).

pytest runs with ``--import-mode=importlib``, so test modules cannot import each other; each
loads this file with :func:`importlib.util.spec_from_file_location` (see the top of the tests).

Toolkit gaps worked around here: ``dhcpbridge_config`` writes no ``renew-timer``/``rebind-timer``
(the plan's T1/T2 are lost, so clients renew at 50 % instead of at ``renew4``), no
``control-socket``, reservations or global options; ``DhcpbridgeServer`` has no way to reach the
running server (lease table, counters) nor to kill it abruptly.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dhcpbridge.testing.netns import Namespace
from dhcpbridge.testing.plan import AddressPlan
from dhcpbridge.testing.server import DhcpbridgeServer, default_dhcpbridge_exe, to_toml, wait_for
from dhcpbridge.testing.sockets import socket_in as socket_in  # re-exported for the tests

EXE = str(default_dhcpbridge_exe())

# --------------------------------------------------------------------------------------------
# the server


def config4(
    plan: AddressPlan,
    lease_store: str,
    *,
    server: Mapping[str, Any] | None = None,
    leases: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The dhcpbridge TOML document (as a dict) serving ``plan.subnets4`` with the plan's lease
    time and T1/T2; ``server`` and ``leases`` add keys to those tables, ``extra`` top-level tables
    (``reservation``, ``options``, ``source``...)."""
    lt = plan.lifetimes
    subnets = []
    for s in plan.subnets4:
        options: dict[str, Any] = {}
        if s.routers:
            options["routers"] = list(s.routers)
        if s.dns_servers:
            options["domain-name-servers"] = list(s.dns_servers)
        if s.domain_name:
            options["domain-name"] = s.domain_name
        entry: dict[str, Any] = {"subnet": s.subnet, "pools": list(s.pools), "lease-time": lt.valid4}
        if lt.renew4 < lt.valid4:
            entry["renew-timer"] = lt.renew4
        if lt.renew4 <= lt.rebind4 <= lt.valid4:
            entry["rebind-timer"] = lt.rebind4
        if s.interface:
            entry["interface"] = s.interface
        entry["options"] = options
        subnets.append(entry)
    doc: dict[str, Any] = {
        "server": {"interfaces": list(plan.interfaces), **(server or {})},
        "leases": {"store": lease_store, **(leases or {})},
        "subnet4": subnets,
    }
    doc.update(extra or {})
    return doc


class V4Server(DhcpbridgeServer):
    """``dhcpbridge serve --log-format json`` for DHCPv4 with a control socket in ``workdir``.

    Not pinned to a CPU by default: other engineers' benchmarks pin their servers to CPU 1.
    """

    def __init__(
        self,
        ns: Namespace,
        workdir: Path,
        plan: AddressPlan,
        *,
        server: Mapping[str, Any] | None = None,
        leases: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
        log_level: str = "info",
        cpu: int | None = None,
    ) -> None:
        super().__init__(
            ns,
            workdir,
            plan,
            family=4,
            extra_args=["--log-format", "json", "--log-level", log_level],
            cpu=cpu,
        )
        self.server_keys = {"control-socket": str(self.workdir / "control.sock"), **(server or {})}
        self.leases_keys = dict(leases or {})
        self.extra = dict(extra or {})

    def start(self, timeout: float = 20.0) -> V4Server:
        """Started when the control socket answers too: UDP 67 is bound before it, and a test that
        asks the control socket right after ``start`` must not race the server's last start step."""
        super().start(timeout)
        if not wait_for(lambda: self._control_accepts() or not self.alive(), timeout) or not self.alive():
            self.stop()
            raise RuntimeError(f"dhcpbridge serve did not open its control socket:\n{self.log()[-3000:]}")
        return self

    def _control_accepts(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(str(self.control_path))
            except OSError:
                return False
        return True

    def document(self) -> dict[str, Any]:
        return config4(
            self.plan, self.lease_store, server=self.server_keys, leases=self.leases_keys, extra=self.extra
        )

    def write_config(self) -> Path:
        self.config_path.write_text(to_toml(self.document()))
        return self.config_path

    @property
    def db_path(self) -> Path:
        return Path("/" + self.lease_store.removeprefix("sqlite:").lstrip("/"))

    @property
    def control_path(self) -> Path:
        return Path(self.server_keys["control-socket"])

    # -- looking at the running server -------------------------------------------------------
    def control(self, request: Mapping[str, Any], timeout: float = 15.0) -> Any:
        """One request on the control socket (a Unix socket: reachable from any namespace)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.control_path))
            s.sendall(json.dumps(dict(request)).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf)
        if not reply.get("ok"):
            raise RuntimeError(f"control {request}: {reply.get('error')}")
        return reply["result"]

    def stats(self) -> dict[str, dict[str, int]]:
        """The v4 counters: ``received``/``sent`` by message type, ``drops`` by reason, ``errors``."""
        result: dict[str, dict[str, int]] = self.control({"cmd": "stats"})["v4"]
        return result

    def leases_cli(self, *args: str) -> list[dict[str, Any]]:
        """``dhcpbridge leases list --config FILE --json [ARGS]`` (through the control socket when
        the server runs, else read from the store)."""
        argv = [EXE, "leases", "list", "--config", str(self.config_path), "--json", *args]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert out.returncode == 0, out.stderr
        rows: list[dict[str, Any]] = json.loads(out.stdout)
        return rows

    def lease_by_address(self) -> dict[str, dict[str, Any]]:
        """The v4 lease table by address, as ``dhcpbridge leases list --json`` prints it."""
        return {r["address"]: r for r in self.leases_cli() if r["kind"] == "v4"}

    def control_leases(self) -> dict[str, dict[str, Any]]:
        """The same table straight from the control socket ``{"cmd": "leases"}`` (any size)."""
        return {r["address"]: r for r in self.control({"cmd": "leases"}) if r["kind"] == "v4"}

    def db_rows(self) -> list[dict[str, Any]]:
        """The v4 rows of the SQLite store (file and journal), read-only (works while the server is dead)."""
        from dhcpbridge.leases.embedded.sqlite import read_rows

        keys = ("address", "client", "hwaddr", "state", "expires")
        return [{k: r[k] for k in keys} for r in read_rows(self.db_path) if r["kind"] == 4]

    def records(self) -> list[dict[str, Any]]:
        """The JSON log lines written so far (other lines, e.g. tracebacks, are skipped)."""
        out = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records() if r.get("event") == name]

    def kill9(self) -> None:
        """SIGKILL, no chance to flush anything (the crash the lease store must survive)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def reload(self, timeout: float = 15.0) -> dict[str, Any]:
        """SIGHUP; the next ``reloaded`` or ``reload rejected...`` log record."""
        assert self.proc is not None
        seen = len(self.records())
        self.proc.signal(signal.SIGHUP)
        found: list[dict[str, Any]] = []

        def answered() -> bool:
            found[:] = [
                r
                for r in self.records()[seen:]
                if r.get("event") == "reloaded" or str(r.get("event", "")).startswith("reload rejected")
            ]
            return bool(found)

        assert wait_for(answered, timeout), self.log()[-3000:]
        return found[0]


def udp_socket_drops(ns: Namespace, port: int = 67) -> int:
    """Datagrams the kernel dropped on the UDP sockets bound to ``port`` in ``ns`` (/proc/net/udp)."""
    text = ns.run(["cat", "/proc/net/udp"], timeout=10).stdout
    total = 0
    for line in text.splitlines()[1:]:
        cols = line.split()
        if len(cols) > 12 and cols[1].endswith(f":{port:04X}"):
            total += int(cols[-1])
    return total


# --------------------------------------------------------------------------------------------
# sockets inside a namespace (a thread enters it; the socket stays in that namespace for good)


def relay_socket(ns: Namespace, address: str, port: int = 67) -> socket.socket:
    """A UDP socket on ``address:port`` in ``ns``, as a relay agent has."""
    sock = socket_in(ns, socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((address, port))
    return sock


# --------------------------------------------------------------------------------------------
# DHCPv4 codec (RFC 2131/2132), deliberately our own

MAGIC = b"\x63\x82\x53\x63"
HEADER = struct.Struct("!BBBBIHHIIII16s64s128s")
DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = 1, 2, 3, 4, 5, 6, 7, 8
PRL = bytes([1, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59])


def ip2int(text: str) -> int:
    return int.from_bytes(socket.inet_aton(text), "big")


def int2ip(value: int) -> str:
    return socket.inet_ntoa(value.to_bytes(4, "big"))


def tlv(code: int, value: bytes) -> bytes:
    return bytes((code, len(value))) + value


def build(
    msg_type: int | None,
    xid: int,
    chaddr: bytes,
    options: Sequence[tuple[int, bytes]] = (),
    *,
    op: int = 1,
    htype: int = 1,
    hlen: int = 6,
    hops: int = 0,
    flags: int = 0,
    ciaddr: int = 0,
    giaddr: int = 0,
    sname: bytes = b"",
    file: bytes = b"",
    end: bool = True,
    pad_to: int = 300,
) -> bytes:
    """A BOOTREQUEST: header, cookie, option 53 (unless None), ``options`` in order, END, padding."""
    head = HEADER.pack(op, htype, hlen, hops, xid, 0, flags, ciaddr, 0, 0, giaddr, chaddr, sname, file)
    body = tlv(53, bytes((msg_type,))) if msg_type is not None else b""
    for code, value in options:
        body += tlv(code, value)
    data = head + MAGIC + body + (b"\xff" if end else b"")
    return data.ljust(pad_to, b"\0")


@dataclass
class Reply:
    op: int
    xid: int
    yiaddr: int
    ciaddr: int
    giaddr: int
    flags: int
    chaddr: bytes
    options: dict[int, bytes]

    @property
    def type(self) -> int:
        value = self.options.get(53, b"")
        return value[0] if len(value) == 1 else 0

    @property
    def server_id(self) -> bytes:
        return self.options.get(54, b"")


def parse(data: bytes) -> Reply | None:
    """A reply's header and options (options field only: our requests never ask for overload)."""
    if len(data) < 240 or data[236:240] != MAGIC:
        return None
    op, _ht, hlen, _hops, xid, _secs, flags, ciaddr, yiaddr, _si, giaddr, chaddr, _sn, _fi = (
        HEADER.unpack_from(data)
    )
    options: dict[int, bytes] = {}
    pos = 240
    while pos < len(data):
        code = data[pos]
        if code == 0:
            pos += 1
            continue
        if code == 255 or pos + 1 >= len(data):
            break
        length = data[pos + 1]
        options[code] = options.get(code, b"") + data[pos + 2 : pos + 2 + length]
        pos += 2 + length
    return Reply(op, xid, yiaddr, ciaddr, giaddr, flags, chaddr[: min(hlen, 16)], options)


def ipv4_udp(src: int, dst: int, sport: int, dport: int, payload: bytes, ttl: int = 64) -> bytes:
    """IPv4 header (with checksum) + UDP header (checksum 0 = none, valid over IPv4) + payload."""
    total = 20 + 8 + len(payload)
    head = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, ttl, 17, 0, src.to_bytes(4, "big"), dst.to_bytes(4, "big")
    )
    words = struct.unpack("!10H", head)
    s = sum(words)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    head = head[:10] + struct.pack("!H", ~s & 0xFFFF) + head[12:]
    return head + struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


# --------------------------------------------------------------------------------------------
# a relay agent doing DORA for many clients


def load_mac(i: int) -> bytes:
    return b"\x02\x4c" + i.to_bytes(4, "big")


@dataclass
class _Client:
    mac: bytes
    xid: int
    phase: int = DISCOVER
    packet: bytes = b""
    sent_at: float = 0.0
    tries: int = 0


@dataclass
class RelayLoader:
    """``count`` clients (MACs 02:4c:<i>) do DISCOVER/OFFER/REQUEST/ACK through us as a relay
    agent (giaddr, hops 1, source port 67), ``window`` at a time; unanswered messages are sent
    again after ``retry`` s. Every ACK is recorded (``acks``: mac -> yiaddr); run it in a thread
    with :meth:`start`, bounded by ``max_seconds``."""

    sock: socket.socket
    server: tuple[str, int]
    giaddr: str
    count: int
    window: int = 32
    retry: float = 1.0
    max_seconds: float = 90.0
    first: int = 0  # the first client's number (loaders with disjoint clients: first=0, 10000 ...)
    acks: dict[bytes, int] = field(default_factory=dict)
    conflicts: list[tuple[bytes, int, int]] = field(default_factory=list)
    naks: int = 0
    resent: int = 0
    unanswered: list[bytes] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def acked(self) -> int:
        with self._lock:
            return len(self.acks)

    def start(self) -> RelayLoader:
        self._thread = threading.Thread(target=self._run_safely, name="relay-loader", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout: float) -> bool:
        assert self._thread is not None
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run_safely(self) -> None:
        try:
            self._run()
        except Exception as exc:
            self.errors.append(repr(exc))

    def _options(self, *extra: tuple[int, bytes]) -> list[tuple[int, bytes]]:
        return [*extra, (55, PRL), (57, (1500).to_bytes(2, "big"))]

    def _send(self, c: _Client) -> None:
        with contextlib.suppress(OSError):  # e.g. ECONNREFUSED surfaced while the server is down
            self.sock.sendto(c.packet, self.server)
        c.sent_at = time.monotonic()
        c.tries += 1

    def _discover(self, c: _Client) -> None:
        c.phase = DISCOVER
        c.packet = build(DISCOVER, c.xid, c.mac, self._options(), hops=1, giaddr=ip2int(self.giaddr))
        self._send(c)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        todo = [load_mac(self.first + i) for i in range(self.count)]
        todo.reverse()
        inflight: dict[int, _Client] = {}
        rng = random.Random(0x4C0AD)
        self.sock.setblocking(False)
        while (todo or inflight) and not self._stop.is_set() and time.monotonic() < deadline:
            while todo and len(inflight) < self.window:
                c = _Client(todo.pop(), rng.getrandbits(32))
                inflight[c.xid] = c
                self._discover(c)
            ready, _, _ = select.select([self.sock], [], [], 0.02)
            while ready:
                try:
                    data = self.sock.recv(4096)
                except BlockingIOError:
                    break
                except OSError:
                    continue
                reply = parse(data)
                c = inflight.get(reply.xid) if reply is not None else None
                if reply is None or c is None or reply.chaddr != c.mac:
                    continue
                if reply.type == OFFER and c.phase == DISCOVER:
                    c.phase = REQUEST
                    c.tries = 0
                    c.packet = build(
                        REQUEST,
                        c.xid,
                        c.mac,
                        self._options((50, reply.yiaddr.to_bytes(4, "big")), (54, reply.server_id)),
                        hops=1,
                        giaddr=ip2int(self.giaddr),
                    )
                    self._send(c)
                elif reply.type == ACK and c.phase == REQUEST:
                    with self._lock:
                        old = self.acks.setdefault(c.mac, reply.yiaddr)
                    if old != reply.yiaddr:
                        self.conflicts.append((c.mac, old, reply.yiaddr))
                    del inflight[c.xid]
                elif reply.type == NAK:
                    self.naks += 1
                    c.tries = 0
                    self._discover(c)
            now = time.monotonic()
            for c in list(inflight.values()):
                if now - c.sent_at < self.retry:
                    continue
                if c.tries >= 30:
                    self.unanswered.append(c.mac)
                    del inflight[c.xid]
                    continue
                self.resent += 1
                self._send(c)
        self.unanswered += [c.mac for c in inflight.values()]


def exchange(
    sock: socket.socket,
    packet: bytes,
    dest: tuple[str, int],
    xid: int,
    *,
    wanted: Sequence[int] = (ACK, NAK),
    tries: int = 4,
    timeout: float = 2.0,
) -> Reply | None:
    """Send ``packet`` (again every ``timeout`` s, ``tries`` times) until a reply of a wanted type
    with ``xid`` arrives."""
    sock.setblocking(False)
    for _ in range(tries):
        sock.sendto(packet, dest)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            with contextlib.suppress(BlockingIOError):
                reply = parse(sock.recv(4096))
                if reply is not None and reply.xid == xid and reply.type in wanted:
                    return reply
    return None


# --------------------------------------------------------------------------------------------
# malformed input


@dataclass(frozen=True)
class Bad:
    kind: str
    data: bytes
    broadcast: bool  # True: a broadcast frame on the link; False: relay-style unicast


def bad_packets(
    count: int, seed: int, *, mac_prefix: bytes, giaddr: int, addresses: Sequence[int]
) -> Iterator[Bad]:
    """``count`` random or mutated DHCPv4 requests, reproducible from ``seed``.

    The kinds: random bytes, truncation, a wrong cookie (whole: RFC 951 BOOTP), an option whose length runs past the end,
    option 52 (overload) pointing at file/sname that hold option 52 again or with bad values,
    garbage option 82, hlen > 16 or 0, bad op codes, odd option 53 values, wrong lengths of
    options 50/54/57/61, split (RFC 3396) and random options, bit flips and oversized packets.
    Whatever the mutation, ciaddr and giaddr stay in ``addresses`` (0 or addresses inside the
    test's namespaces): the server's replies must not leave them.
    """
    rng = random.Random(seed)

    def rbytes(n: int) -> bytes:
        return rng.randbytes(n)

    def mac() -> bytes:
        return mac_prefix + rbytes(6 - len(mac_prefix))

    def addr() -> int:
        return rng.choice(addresses)

    def good(relayed: bool) -> bytes:
        t = rng.choice([DISCOVER, DISCOVER, REQUEST, REQUEST, INFORM, RELEASE, DECLINE])
        opts: list[tuple[int, bytes]] = []
        if rng.random() < 0.5:
            opts.append((61, b"\x01" + mac()))
        if t in (REQUEST, DECLINE):
            opts.append((50, rbytes(4)))
        if t in (REQUEST, RELEASE, DECLINE) and rng.random() < 0.7:
            opts.append((54, giaddr.to_bytes(4, "big") if rng.random() < 0.5 else rbytes(4)))
        opts.append((55, PRL))
        if relayed:
            opts.append((82, tlv(1, b"fuzz-circuit") + tlv(2, rbytes(6))))
        return build(
            t,
            rng.getrandbits(32),
            mac(),
            opts,
            hops=1 if relayed else 0,
            ciaddr=addr() if t in (REQUEST, RELEASE, INFORM) and rng.random() < 0.5 else 0,
            giaddr=giaddr if relayed else 0,
            flags=rng.choice([0, 0x8000]),
        )

    def header_only(msg_type: int, opts_blob: bytes, **kw: Any) -> bytes:
        head = HEADER.pack(
            kw.get("op", 1),
            1,
            kw.get("hlen", 6),
            0,
            rng.getrandbits(32),
            0,
            0,
            0,
            0,
            0,
            kw.get("giaddr", 0),
            mac().ljust(16, b"\0"),
            kw.get("sname", b""),
            kw.get("file", b""),
        )
        return head + MAGIC + tlv(53, bytes((msg_type,))) + opts_blob

    def mutate(kind: str, relayed: bool) -> bytes:
        base = good(relayed)
        g = giaddr if relayed else 0
        if kind == "random":
            return rbytes(rng.randrange(0, 700))
        if kind == "truncated":
            return base[: rng.randrange(0, 300)]
        if kind == "cookie":  # cut below 300 bytes: malformed; whole: an RFC 951 BOOTP request
            bad = base[:236] + rng.choice([b"\0\0\0\0", b"c\x82Sd", rbytes(4)]) + base[240:]
            return bad[: rng.choice([len(bad), rng.randrange(240, 300)])]
        if kind == "option-overrun":
            blob = (
                tlv(55, PRL) + bytes((rng.choice([12, 61, 82, 55, 43, 250]), rng.randrange(20, 256))) + b"abc"
            )
            return header_only(rng.choice([DISCOVER, REQUEST]), blob, giaddr=g)
        if kind == "overload-loop":
            # option 52 in the options field points at file and sname, which carry option 52 again
            # (and an overrun); the fields reference each other
            loop = tlv(52, b"\x03") + tlv(52, b"\x01") + tlv(52, b"\x02")
            file = (loop + tlv(12, b"x" * rng.randrange(0, 40)) + loop).ljust(128, b"\0")[:128]
            sname = (loop + tlv(52, b"\x03")).ljust(64, b"\0")[:64]
            if rng.random() < 0.3:
                sname = sname[:62] + b"\x0c\x30"  # option in sname running past its field
            return header_only(
                DISCOVER, tlv(52, b"\x03") + tlv(55, PRL) + b"\xff", giaddr=g, file=file, sname=sname
            )
        if kind == "overload-bad":
            value = rng.choice([b"", b"\x00", b"\x04", b"\xff", b"\x01\x02", rbytes(rng.randrange(2, 9))])
            return header_only(
                DISCOVER, tlv(52, value) + b"\xff", giaddr=g, file=rbytes(128), sname=rbytes(64)
            )
        if kind == "garbage-82":
            junk = rng.choice(
                [
                    b"",
                    rbytes(rng.randrange(1, 60)),
                    b"\x01",
                    b"\x01\x05ab",
                    tlv(1, b"") + tlv(5, rbytes(rng.choice([3, 4, 5]))) + tlv(11, rbytes(4)),
                    tlv(19, b"") + tlv(1, rbytes(200)),
                    tlv(5, rbytes(4)) + b"\x02",
                ]
            )
            msg_type = rng.choice([DISCOVER, REQUEST, INFORM])
            return header_only(msg_type, tlv(55, PRL) + tlv(82, junk) + b"\xff", giaddr=g)
        if kind == "hlen":
            hlen = rng.choice([0, 17, 32, 128, 255])
            opts = b"" if rng.random() < 0.5 else tlv(61, b"\x01" + mac())
            return header_only(DISCOVER, opts + b"\xff", hlen=hlen, giaddr=g)
        if kind == "op":
            return header_only(
                rng.choice([0, 2, 3, 7, 255]), tlv(55, PRL) + b"\xff", op=rng.choice([0, 2, 3, 255]), giaddr=g
            )
        if kind == "type":
            value = rng.choice([b"", b"\x00", b"\x02", b"\x05", b"\x09", b"\x0d", b"\xff", b"\x01\x01"])
            head = base[:240]
            return head + tlv(53, value) + tlv(55, PRL) + b"\xff"
        if kind == "bootp":
            return base[:240] + b"\xff" + bytes(60)
        if kind == "lengths":
            code = rng.choice([50, 54, 57, 61, 51, 12, 118])
            value = rbytes(rng.choice([0, 1, 2, 3, 5, 7]))
            return header_only(
                rng.choice([DISCOVER, REQUEST, INFORM, RELEASE, DECLINE]),
                tlv(code, value) + b"\xff",
                giaddr=g,
            )
        if kind == "split":
            # RFC 3396: one option in several pieces (concatenated), some of them huge in total
            pieces = b"".join(
                tlv(rng.choice([12, 43, 55, 61, 77, 125]), rbytes(rng.randrange(0, 256)))
                for _ in range(rng.randrange(1, 6))
            )
            return header_only(DISCOVER, pieces + b"\xff", giaddr=g)
        if kind == "random-options":
            blob = b"".join(
                tlv(rng.randrange(1, 255), rbytes(rng.randrange(0, 40))) for _ in range(rng.randrange(0, 30))
            )
            return header_only(rng.randrange(0, 20), blob + rng.choice([b"\xff", b""]), giaddr=g)
        if kind == "flips":
            data = bytearray(base)
            for _ in range(rng.randrange(1, 12)):
                pos = rng.randrange(len(data))
                data[pos] ^= 1 << rng.randrange(8)
            return bytes(data)
        if kind == "oversized":
            blob = b"".join(tlv(rng.choice([43, 77, 124, 125, 224]), rbytes(255)) for _ in range(5))
            return header_only(
                rng.choice([DISCOVER, REQUEST, INFORM]),
                tlv(57, b"\x02\x40") + tlv(55, bytes(range(1, 255))) + blob + b"\xff",
                giaddr=g,
            )
        if kind == "no-end":
            return base[:240] + tlv(53, b"\x01") + tlv(55, PRL)
        raise ValueError(kind)

    kinds = [
        "random",
        "truncated",
        "cookie",
        "option-overrun",
        "overload-loop",
        "overload-bad",
        "garbage-82",
        "hlen",
        "op",
        "type",
        "bootp",
        "lengths",
        "split",
        "random-options",
        "flips",
        "oversized",
        "no-end",
    ]
    for _ in range(count):
        kind = rng.choice(kinds)
        broadcast = rng.random() < 0.3
        data = mutate(kind, relayed=not broadcast)
        if len(data) >= 28:  # keep ciaddr and giaddr inside the test's namespaces
            ciaddr = int.from_bytes(data[12:16], "big")
            gi = int.from_bytes(data[24:28], "big")
            fixed_ci = ciaddr if ciaddr in addresses else addr()
            fixed_gi = gi if gi in (0, giaddr) else (0 if broadcast else giaddr)
            data = (
                data[:12]
                + fixed_ci.to_bytes(4, "big")
                + data[16:24]
                + fixed_gi.to_bytes(4, "big")
                + data[28:]
            )
        yield Bad(kind, data, broadcast and len(data) <= 1472)  # a frame cannot be fragmented
