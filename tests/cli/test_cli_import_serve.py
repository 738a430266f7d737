"""After ``dhcpbridge leases import``, a real ``dhcpbridge serve`` (127.0.0.1, unprivileged port) gives
each imported client the address it had on the old server: a network switches without renumbering.
Loopback only; the server is started and ended here, by PID."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

CLI = [sys.executable, "-m", "dhcpbridge"]
CONFIG = """\
[server]
address = "127.0.0.1"
port = {port}
interfaces = []
raw-socket = false

[leases]
store = "sqlite://leases.db"

[[subnet4]]
subnet = "10.67.0.0/24"
pools = ["10.67.0.100-10.67.0.199"]
relay-addresses = ["127.0.0.1"]
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60)


def _offered(port: int, mac: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        out = _run(
            "probe",
            "--server",
            f"127.0.0.1:{port}",
            "--giaddr",
            "127.0.0.1",
            "--mac",
            mac,
            "--full",
            "--json",
        )
        if out.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # the server may still be opening its socket
    assert out.returncode == 0, out.stdout + out.stderr
    steps = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return str(steps[-1]["reply"]["yiaddr"])


def test_imported_clients_keep_their_addresses(tmp_path: Path) -> None:
    end = int(time.time()) + 3600
    kea = tmp_path / "kea-leases4.csv"
    kea.write_text(
        "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
        f"10.67.0.150,02:67:00:00:00:42,,3600,{end},1,0,0,kea-client,0,\n"
    )
    dhcpd = tmp_path / "dhcpd.leases"
    stamp = time.strftime("%w %Y/%m/%d %H:%M:%S", time.gmtime(end))
    dhcpd.write_text(
        f"lease 10.67.0.177 {{\n  starts 0 2026/01/01 00:00:00;\n  ends {stamp};\n  binding state active;\n"
        '  hardware ethernet 02:67:00:00:00:43;\n  client-hostname "dhcpd-client";\n}\n'
    )
    url = f"sqlite:///{tmp_path / 'leases.db'}"
    for fmt, path in (("kea-csv", kea), ("dhcpd", dhcpd)):
        out = _run("leases", "import", "--from", fmt, str(path), "--to", url)
        assert out.returncode == 0, out.stderr
    port = _free_port()
    config = tmp_path / "dhcpbridge.toml"
    config.write_text(CONFIG.format(port=port))
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*CLI, "serve", "--config", str(config)], stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        assert _offered(port, "02:67:00:00:00:42") == "10.67.0.150", log.read_text()
        assert _offered(port, "02:67:00:00:00:43") == "10.67.0.177"
        assert _offered(port, "02:67:00:00:00:44") not in ("10.67.0.150", "10.67.0.177")  # a new client
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
