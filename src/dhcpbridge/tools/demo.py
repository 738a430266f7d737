"""``dhcpbridge demo`` (what ``make demo`` runs): a real server on 127.0.0.1 with the embedded SQLite
store, and the probe acting as a relay agent that walks a few clients through DISCOVER/OFFER/
REQUEST/ACK, a renewal and a release, printing every exchange and the final lease table.

No root needed: the server listens on a free unprivileged port and the probe, unable to use port
67, adds the RFC 8357 relay-source-port sub-option so the server answers the probe's own port.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table

from dhcpbridge import control, logs
from dhcpbridge.config import load
from dhcpbridge.engine.model import Lease, LeaseState
from dhcpbridge.server import Server
from dhcpbridge.tools.probe import ProbeSocket
from dhcpbridge.tools.probe4 import Exchange4, Probe, ProbeSettings
from dhcpbridge.wire.v4.message import ip4_int, ip4_str
from dhcpbridge.wire.v4.options import MESSAGE_NAMES

console = Console()

CONFIG = """\
# dhcpbridge demo config (written by `dhcpbridge demo`)
[server]
address = "127.0.0.1"
port = {port}                      # unprivileged: no root needed
interfaces = []                    # no broadcast interfaces: everything arrives relayed
control-socket = "control.sock"    # lets `dhcpbridge leases ...` talk to the running server
log-level = "warning"

[leases]
store = "sqlite://leases.db"       # the embedded default, next to this file

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
lease-time = 3600
relay-addresses = ["127.0.0.1"]    # requests relayed with giaddr 127.0.0.1 belong here
options = {{ routers = ["10.67.0.1"], domain-name-servers = ["10.67.0.1"], domain-name = "lab.example" }}

[[reservation]]
mac = "02:67:00:00:00:02"
ip = "10.67.0.10"
hostname = "printer"
options = {{ boot-file-name = "pxelinux.0" }}
"""


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _summary(label: str, ex: Exchange4) -> Table:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", width=22)
    table.add_column()
    sent = ex.sent
    reply = ex.reply
    sent_type = MESSAGE_NAMES.get(sent.msg_type, "?")
    if reply is None:
        table.add_row(
            label, f"{sent_type} -> [red]no reply[/red]" if label != "release" else f"{sent_type} sent"
        )
        return table
    opts = reply.options
    parts = [
        f"{sent_type} -> [green]{MESSAGE_NAMES.get(reply.msg_type, '?')}[/green] {ip4_str(reply.yiaddr)}"
    ]
    if 51 in opts:
        parts.append(f"lease {int.from_bytes(opts[51], 'big')}s")
    if 3 in opts:
        parts.append(f"router {ip4_str(int.from_bytes(opts[3][:4], 'big'))}")
    if 15 in opts:
        parts.append(f"domain {opts[15].decode()}")
    if 12 in opts:
        parts.append(f"hostname {opts[12].decode()}")
    if 67 in opts:
        parts.append(f"boot file {opts[67].decode()}")
    parts.append(f"({ex.elapsed_ms:.1f} ms)")
    table.add_row(label, "  ".join(parts))
    return table


async def _settled(server: Server, releases: int, timeout: float = 3.0) -> list[Lease]:
    """The lease table once the server has handled the probe's RELEASEs. A RELEASE gets no reply,
    so the probe's walk can end before the server has read it: wait (a bounded while) for it."""
    assert server.store is not None
    deadline = time.monotonic() + timeout
    while True:
        rows = sorted(await server.store.leases(), key=lambda lease: lease.address)
        done = sum(1 for lease in rows if lease.state is LeaseState.RELEASED)
        if done >= releases or time.monotonic() >= deadline:
            return rows
        await asyncio.sleep(0.02)


def _walk(settings: list[ProbeSettings], release_last: bool) -> list[list[tuple[str, Exchange4]]]:
    """Runs in a worker thread: the probe uses blocking sockets while the server runs on the loop."""
    results: list[list[tuple[str, Exchange4]]] = []
    for i, s in enumerate(settings):
        steps: list[tuple[str, Exchange4]] = []
        sock = ProbeSocket("127.0.0.1", 0)
        try:
            probe = Probe(s, sock)
            offer = probe.discover()
            steps.append(("discover", offer))
            if offer.reply is not None:
                ack = probe.request(offer.reply)
                steps.append(("request", ack))
                if ack.reply is not None and ack.reply.msg_type == 5:
                    steps.append(("renew (via relay)", probe.renew(ack.reply)))
                    if release_last and i == len(settings) - 1:
                        steps.append(("release", probe.release(ack.reply)))
        finally:
            sock.close()
        results.append(steps)
    return results


async def _run(workdir: Path, clients: int) -> int:
    port = _free_udp_port()
    config_path = workdir / "dhcpbridge.toml"
    config_path.write_text(CONFIG.format(port=port), encoding="utf-8")
    console.print(Panel.fit(Syntax(config_path.read_text(), "toml"), title=str(config_path)))
    config = load(config_path)
    control_socket = config.resolve_path(config.server.control_socket or "control.sock")
    server = Server(config, config_path, control.addons(control_socket))
    await server.start()
    try:
        macs = [bytes.fromhex("026700000002")] + [
            bytes([0x02, 0x67, 0xD0, 0, 0, i]) for i in range(1, clients)
        ]
        settings = [
            ProbeSettings(
                mac=mac,
                server=("127.0.0.1", port),
                giaddr=ip4_int("127.0.0.1"),
                hostname=f"demo-{i}",
                circuit_id=f"demo-port-{i}".encode(),
                timeout=1.0,
            )
            for i, mac in enumerate(macs)
        ]
        console.rule("clients (the probe acts as a relay agent with giaddr 127.0.0.1)")
        results = await asyncio.to_thread(_walk, settings, True)
        ok = True
        for s, steps in zip(settings, results, strict=True):
            console.print(f"[bold]client {s.mac.hex(':')}[/bold]")
            for label, ex in steps:
                console.print(_summary(label, ex))
                if label != "release" and (ex.reply is None or ex.reply.msg_type not in (2, 5)):
                    ok = False
        assert server.store is not None
        rows = await _settled(server, sum(label == "release" for steps in results for label, _ in steps))
        table = Table(title=f"lease table ({config.leases.store} in {workdir})")
        for col in ("address", "state", "hwaddr", "hostname", "expires", "source"):
            table.add_column(col)
        now = time.time()
        for lease in rows:
            table.add_row(
                lease.address_text,
                lease.state.name.lower(),
                lease.hwaddr.hex(":"),
                lease.hostname,
                f"in {int(lease.expires - now)}s" if lease.expires > now else "now",
                lease.source,
            )
        console.print(table)
        stats = server.stats4.snapshot()
        console.print(
            f"server counters: received {stats['received']} sent {stats['sent']} dropped {stats['drops']}"
        )
        console.print(f"try: dhcpbridge leases list --config {config_path}   (while a server runs, or after)")
        return 0 if ok else 1
    finally:
        await server.stop()


def run_demo(clients: int = 3, workdir: Path | None = None) -> int:
    logs.configure("warning")
    if workdir is None:
        workdir = Path(tempfile.mkdtemp(prefix="dhcpbridge-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    status = asyncio.run(_run(workdir.resolve(), max(1, clients)))
    console.print("[green]demo finished[/green]" if status == 0 else "[red]demo had failures[/red]")
    return status
