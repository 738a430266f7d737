"""Full host names and several records per name, served by a real BIND 9 on 127.0.0.1 (free
ports; a static zone with the fragment ``$INCLUDE``d, reloaded by ``rndc``): a lease file's
``web.harvest.test`` is served as ``web.harvest.test`` (not ``web`` of some other zone),
``db.rack1.harvest.test`` keeps its two labels under the zone, a name two clients hold answers
with both addresses (v4 and v6), a client's older lease does not double its name, and a name of
another domain falls back to its first label."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dhcpbridge.testing.bind import BindServer, free_port
from dhcpbridge.testing.e2e import require_e2e

pytestmark = pytest.mark.e2e
DHCPBRIDGE = str(Path(sys.executable).with_name("dhcpbridge"))
ZONE = "harvest.test"


@pytest.fixture
def bind(tmp_path: Path) -> Iterator[tuple[BindServer, Path]]:
    require_e2e("named", "rndc")
    workdir = tmp_path / "bind"
    workdir.mkdir()
    include = workdir / "harvest.inc"
    include.write_text("; empty until the first harvest\n")
    (workdir / f"{ZONE}.zone").write_text(
        f"$TTL 60\n$ORIGIN {ZONE}.\n@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 60\n"
        f"@ IN NS ns.{ZONE}.\nns IN A 127.0.0.1\n$INCLUDE {include}\n"
    )
    server = BindServer(workdir, [], port=free_port(), rndc_port=free_port(), static_zones=[ZONE])
    with server:
        yield server, include


def _resolves(bind: BindServer, name: str, rdtype: str, want: list[str]) -> list[str]:
    deadline = time.monotonic() + 20  # named loads a reloaded zone asynchronously
    got: list[str] = []
    while time.monotonic() < deadline:
        got = sorted(bind.query(name, rdtype))
        if got == want:
            break
        time.sleep(0.2)
    return got


def test_full_names_under_the_zone_and_several_records_per_name(
    bind: tuple[BindServer, Path], tmp_path: Path
) -> None:
    server, include = bind
    expiry = int(time.time()) + 3600
    leases = tmp_path / "dnsmasq.leases"
    leases.write_text(
        f"{expiry} 02:00:00:00:0a:01 10.9.0.1 web.harvest.test *\n"
        f"{expiry} 02:00:00:00:0a:02 10.9.0.2 db.rack1.harvest.test *\n"
        f"{expiry} 02:00:00:00:0a:03 10.9.0.3 svc *\n"
        f"{expiry} 02:00:00:00:0a:04 10.9.0.4 svc.harvest.test *\n"
        f"{expiry} 02:00:00:00:0a:05 10.9.0.5 laptop.home.arpa *\n"
        "duid 00:01:00:01:2c:00:00:01:02:00:00:00:00:01\n"
        f"{expiry} 7 fd00:9::3 svc 00:03:00:01:02:00:00:00:0a:03\n"
        f"{expiry} 7 fd00:9::4 svc 00:03:00:01:02:00:00:00:0a:04\n"
    )
    argv = [DHCPBRIDGE, "harvest", "--leases", str(leases), "--dest", str(include), "--json"]
    argv += ["--zone", ZONE, "--rndc-server", "127.0.0.1", "--rndc-port", str(server.rndc_port)]
    argv += ["--rndc-key", str(server.rndc_key_path)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["reloaded"] and result["records"] == 7, result
    assert _resolves(server, f"web.{ZONE}", "A", ["10.9.0.1"]) == ["10.9.0.1"]
    assert _resolves(server, f"web.{ZONE}.{ZONE}", "A", []) == []  # not doubled under the zone
    assert _resolves(server, f"db.rack1.{ZONE}", "A", ["10.9.0.2"]) == ["10.9.0.2"]
    assert _resolves(server, f"svc.{ZONE}", "A", ["10.9.0.3", "10.9.0.4"]) == ["10.9.0.3", "10.9.0.4"]
    assert _resolves(server, f"svc.{ZONE}", "AAAA", ["fd00:9::3", "fd00:9::4"]) == ["fd00:9::3", "fd00:9::4"]
    assert _resolves(server, f"laptop.{ZONE}", "A", ["10.9.0.5"]) == ["10.9.0.5"]
    # the web host renews to a new address: its older lease does not give it a second record
    leases.write_text(leases.read_text() + f"{expiry + 60} 02:00:00:00:0a:01 10.9.0.11 web.harvest.test *\n")
    out = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _resolves(server, f"web.{ZONE}", "A", ["10.9.0.11"]) == ["10.9.0.11"]
