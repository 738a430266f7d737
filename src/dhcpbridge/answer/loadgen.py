"""A bounded loopback load generator for answer services (``python -m dhcpbridge.answer.loadgen``).

Sends DHCPv4 DISCOVER/REQUEST questions for ``clients`` distinct MAC addresses over ``connections``
keep-alive HTTP/1.1 connections, each connection one request at a time, and prints one line::

    requests=20000 ok=20000 errors=0 seconds=2.51 rate=7968 p50_ms=1.95 p99_ms=3.40

Bounded in count (``--requests``) and in time (``--seconds``), and it refuses any target that is
not a loopback address. ``--make-dir DIR`` writes one client file per MAC (plus a subnet layer)
for the files backend, so a run measures known clients.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SUBNET = "10.67.0.0/16"


def mac_of(index: int) -> str:
    """The MAC address of client ``index`` (02:67:00:xx:xx:xx)."""
    return "02:67:00:" + ":".join(f"{(index >> shift) & 0xFF:02x}" for shift in (16, 8, 0))


def ip_of(index: int) -> str:
    """The address the generated client files give client ``index``."""
    return str(ipaddress.IPv4Address("10.67.0.0") + 10 + index)


def make_dir(directory: Path, clients: int) -> None:
    """One JSON file per client plus a subnet layer, as the files backend reads them."""
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(clients):
        name = mac_of(index).replace(":", "-") + ".json"
        (directory / name).write_text(json.dumps({"client_ip": ip_of(index), "hostname": f"host-{index}"}))
    layer = {
        "lease_time": 3600,
        "subnet_mask": "255.255.0.0",
        "router": ["10.67.0.1"],
        "dns_servers": ["10.67.0.1"],
    }
    (directory / "subnet-10.67.0.0_16.json").write_text(json.dumps(layer))


def question_bodies(clients: int) -> list[bytes]:
    """DISCOVER then REQUEST per client, as JSON bodies."""
    bodies = []
    for index in range(clients):
        for msg_type in ("DHCPDISCOVER", "DHCPREQUEST"):
            question = {
                "version": 1,
                "protocol": 4,
                "msg_type": msg_type,
                "client_mac": mac_of(index),
                "interface": "srv0",
                "server_ip": "10.67.0.1",
                "subnet": SUBNET,
                "requested_options": [1, 3, 6, 15, 51, 54],
            }
            if msg_type == "DHCPREQUEST":
                question["request_state"] = "selecting"
                question["requested_ip"] = ip_of(index)
            bodies.append(json.dumps(question, separators=(",", ":")).encode())
    return bodies


@dataclass
class Result:
    """What a run measured."""

    requests: int
    ok: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def line(self) -> str:
        """The one-line summary."""
        return (
            f"requests={self.requests} ok={self.ok} errors={self.errors} seconds={self.seconds:.2f} "
            f"rate={self.rate:.0f} p50_ms={self.percentile(0.5):.2f} p99_ms={self.percentile(0.99):.2f}"
        )


def loopback_target(url: str) -> tuple[str, int, str]:
    """(host, port, path) of a loopback URL; ``ValueError`` for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"{url!r}: expected http://HOST:PORT/PATH")
    host = parts.hostname
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{host} is not a loopback address: this tool only loads 127.0.0.0/8 or ::1")
    return host, parts.port or 80, parts.path or "/v1/question"


async def run(
    url: str, *, clients: int, connections: int, requests: int, seconds: float, check: bool = False
) -> Result:
    """Drive the target until ``requests`` were answered or ``seconds`` passed."""
    host, port, path = loopback_target(url)
    bodies = question_bodies(clients)
    head = f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
    wire = [(head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body for body in bodies]
    deadline = time.perf_counter() + seconds
    counter = {"next": 0, "ok": 0, "errors": 0}
    latencies: list[float] = []
    validate = None
    if check:
        from dhcpbridge.contract.schema import answer_errors

        validate = answer_errors

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while counter["next"] < requests and time.perf_counter() < deadline:
                index = counter["next"]
                counter["next"] += 1
                started = time.perf_counter()
                writer.write(wire[index % len(wire)])
                status_line = await reader.readline()
                length = 0
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                latencies.append((time.perf_counter() - started) * 1000)
                good = status_line.split(b" ", 2)[1:2] == [b"200"]
                if good and validate is not None:
                    good = not validate(json.loads(body))
                counter["ok" if good else "errors"] += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    done = counter["ok"] + counter["errors"]
    return Result(done, counter["ok"], counter["errors"], elapsed, latencies)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8067/v1/question")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20000, help="stop after this many (bound)")
    parser.add_argument("--seconds", type=float, default=10.0, help="stop after this long (bound, max 120)")
    parser.add_argument("--check", action="store_true", help="validate every answer against the schema")
    parser.add_argument("--make-dir", type=Path, help="write client files for --clients into DIR and exit")
    args = parser.parse_args(argv)
    if args.make_dir is not None:
        make_dir(args.make_dir, args.clients)
        return 0
    try:
        loopback_target(args.url)
    except ValueError as exc:
        parser.error(str(exc))
    result = asyncio.run(
        run(
            args.url,
            clients=args.clients,
            connections=args.connections,
            requests=min(args.requests, 10_000_000),
            seconds=min(args.seconds, 120.0),
            check=args.check,
        )
    )
    print(result.line())
    return 0 if result.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
