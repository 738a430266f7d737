"""The compose file in ``contrib/container/`` is whole: its services build the Dockerfile's targets
and mount files that exist; the server's config there passes ``check-config`` (with a key as the
compose file's keygen makes it); BIND's config and zones pass ``named-checkconf -z`` laid out as the
containers see them; the sample answer passes the answer service's checks; and every address the
server's config uses is one the compose file publishes on the host's loopback."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dhcpbridge.answer.entries import check_entry

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "contrib" / "container"
DHCPBRIDGE = Path(sys.executable).with_name("dhcpbridge")


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((HERE / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _key(tmp_path: Path) -> Path:
    if shutil.which("tsig-keygen") is None:
        pytest.skip("tsig-keygen is missing (bind9-utils: make system-deps)")
    key = tmp_path / "ddns.key"
    made = subprocess.run(["tsig-keygen", "-a", "hmac-sha256", "ddns-key"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    key.write_text(made.stdout)
    return key


def test_the_services_build_the_dockerfile_targets_and_mount_what_exists() -> None:
    services = _compose()["services"]
    assert set(services) == {"keygen", "bind", "redis", "answer", "server"}
    stages = set(re.findall(r"^FROM \S+ AS (\S+)", (ROOT / "Dockerfile").read_text(), re.M))
    for name in ("answer", "server"):
        build = services[name]["build"]
        assert (HERE / build["context"]).resolve() == ROOT and build["target"] in stages
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (HERE / source).exists(), (name, volume)
    assert services["server"]["network_mode"] == "host"  # broadcasts and relays reach it


def test_the_server_config_checks_and_finds_the_published_ports(tmp_path: Path) -> None:
    key = _key(tmp_path)
    text = (HERE / "dhcpbridge.toml").read_text()
    config = tmp_path / "dhcpbridge.toml"
    config.write_text(
        text.replace("/keys/ddns.key", str(key)).replace("/var/lib/dhcpbridge/", f"{tmp_path}/")
    )
    checked = subprocess.run([str(DHCPBRIDGE), "check-config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "bridge-only mode" in checked.stdout
    published = {
        port.rsplit("/", 1)[0].rsplit(":", 1)[0]
        for service in _compose()["services"].values()
        for port in service.get("ports", [])
    }
    assert all(p.startswith("127.0.0.1:") for p in published)  # loopback only
    used = {"127.0.0.1:6379", "127.0.0.1:8067", "127.0.0.1:5353"}
    assert used <= published
    for address in used:  # and the config does use them
        host, port = address.split(":")
        assert port in text and host in text


@pytest.mark.skipif(shutil.which("named-checkconf") is None, reason="named-checkconf is missing (bind9)")
def test_bind_config_and_zones_load_as_the_container_sees_them(tmp_path: Path) -> None:
    key = _key(tmp_path)
    root = tmp_path / "root"
    for folder in ("etc/bind", "keys", "var/lib/bind", "var/cache/bind"):
        (root / folder).mkdir(parents=True)
    shutil.copy(HERE / "bind" / "named.conf", root / "etc/bind/named.conf")
    shutil.copy(key, root / "keys/ddns.key")
    for zone in (HERE / "bind").glob("*.zone"):  # what keygen copies into the zones volume
        shutil.copy(zone, root / "var/lib/bind" / zone.name)
    checked = subprocess.run(
        ["named-checkconf", "-z", "-t", str(root), "/etc/bind/named.conf"], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("loaded serial") == 2
    zones = set(re.findall(r'^zone "([^"]+)"', (HERE / "bind" / "named.conf").read_text(), re.M))
    named = set(re.findall(r'^name = "([^"]+)"', (HERE / "dhcpbridge.toml").read_text(), re.M))
    assert zones == named  # the server updates exactly the zones BIND serves


def test_the_sample_answers_pass_the_answer_service_checks() -> None:
    files = sorted((HERE / "answers").glob("*.json"))
    assert files
    for path in files:
        _entry, problems = check_entry(path.stem, json.loads(path.read_text()), str(path))
        assert problems == [], (path, problems)
