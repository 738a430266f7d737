"""``dhcpbridge serve`` and ``dhcpbridge probe -6`` over loopback, no namespaces or root needed: the
probe acts as a relay (RELAY-FORW to [::1]:PORT; without root from an ephemeral port with the RFC
8357 Relay Source Port option), walks SOLICIT -> REQUEST -> RENEW -> RELEASE, and SIGHUP reloads
a changed config while serving."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dhcpbridge.testing.server import default_dhcpbridge_exe

EXE = str(default_dhcpbridge_exe())


def free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        return int(s.getsockname()[1])


def config(port: int, prefix: str) -> str:
    return f"""
[server]
interfaces = ["lo"]

[server6]
port = {port}
server-duid = "en:32473:0a0b"

[leases]
store = "memory://"

[[subnet6]]
subnet = "fd69::/64"
pools = ["fd69::100:0/120"]
pd-pools = [{{prefix = "{prefix}", delegated-length = 56}}]
options = {{ dns-servers = ["fd69::53"] }}
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    port = free_port()
    path = tmp_path / "d.toml"
    path.write_text(config(port, "fd69:1000::/48"))
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [EXE, "serve", "--config", str(path)], stdout=log, stderr=subprocess.STDOUT, text=True, env=os.environ
    )
    deadline = time.monotonic() + 20
    while "serving" not in (tmp_path / "server.log").read_text():
        assert proc.poll() is None, (tmp_path / "server.log").read_text()
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield proc, port, path
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def probe(port: int, *args: str) -> list[dict[str, object]]:
    argv = [EXE, "probe", "-6", "--server", f"[::1]:{port}", "--link-address", "fd69::1", "--json", *args]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def prefixes(step: dict[str, object]) -> list[str]:
    reply = step["reply"]
    assert isinstance(reply, dict)
    out = []
    for opt in reply["options"]:
        if opt["code"] == 25:
            out += [sub["value"]["prefix"] for sub in opt["value"]["options"] if sub["code"] == 26]
    return out


def test_probe_walks_a_full_exchange_over_loopback(server: tuple[subprocess.Popen[str], int, Path]) -> None:
    _, port, _ = server
    steps = probe(port, "--ia-pd", "--full", "--renew", "--release")
    assert [s["step"] for s in steps] == [
        "SOLICIT -> ADVERTISE",
        "REQUEST -> REPLY",
        "RENEW -> REPLY",
        "RELEASE -> REPLY",
    ]
    assert prefixes(steps[1])[0].startswith("fd69:1000:")
    assert prefixes(steps[1]) == prefixes(steps[2])
    deep = probe(port, "--relays", "5", "--no-ia-na", "--ia-pd")
    assert prefixes(deep[0])[0].startswith("fd69:1000:")
    # from an ephemeral port (what a probe without root does): the RELAY-FORW carries a Relay Source
    # Port option (RFC 8357) and the server answers that port
    steps = probe(port, "--source-port", "0", "--full")
    assert [s["step"] for s in steps] == ["SOLICIT -> ADVERTISE", "REQUEST -> REPLY"]


def test_sighup_reloads_and_a_bad_config_keeps_the_old_one(
    server: tuple[subprocess.Popen[str], int, Path],
) -> None:
    proc, port, path = server
    path.write_text(config(port, "fd69:2000::/48"))
    proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not prefixes(probe(port, "--ia-pd", "--no-ia-na")[0])[0].startswith("fd69:2000:"):
        assert time.monotonic() < deadline, "reload did not take effect"
        time.sleep(0.2)
    path.write_text(config(port, "fd69:3000::/48").replace("[[subnet6]]", "[[subnet6]]\nbogus = 1"))
    proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert prefixes(probe(port, "--ia-pd", "--no-ia-na")[0])[0].startswith("fd69:2000:")
    assert proc.poll() is None


def test_check_config_and_probe_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(config(547, "fd69:1000::/48"))
    ok = subprocess.run([EXE, "check-config", str(path)], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and "1 subnet6, 256 pool addresses, 256 delegated prefixes" in ok.stdout
    bad = subprocess.run([EXE, "probe", "-6"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "give exactly one of --interface IF or --server" in bad.stderr
    bad = subprocess.run(
        [EXE, "probe", "-6", "--server", "[::1]:1", "--remote-id", "nonsense"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2 and "ENTERPRISE:VALUE" in bad.stderr
    assert sys.executable  # the CLI runs from the same venv
