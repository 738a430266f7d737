"""Which forward zone a lease's name goes in: the zone whose ``networks`` hold the address, else
the first forward zone without networks; with no networks anywhere, the first forward zone
(then the address is not parsed at all)."""

from __future__ import annotations

from pathlib import Path

from dhcpbridge.config.dns import DnsConfig
from dhcpbridge.dns.zones import Zones


def zones(tmp_path: Path, *specs: dict[str, object]) -> Zones:
    cfg = DnsConfig.model_validate({"zone": [{"server": "127.0.0.1", **s} for s in specs]})
    return Zones.from_config(cfg, tmp_path)


def test_networks_choose_the_zone_and_the_rest_go_to_the_first_zone_without_networks(
    tmp_path: Path,
) -> None:
    z = zones(
        tmp_path,
        {"name": "lab.example", "networks": ["10.67.0.0/24", "fd67::/64"]},
        {"name": "other.example"},
        {"name": "0.10.in-addr.arpa"},
    )
    assert z.domain_for("10.67.0.5") == "lab.example."
    assert z.domain_for("fd67::5") == "lab.example."
    assert z.domain_for("10.68.0.5") == "other.example."
    assert z.domain_for("fd68::5") == "other.example."


def test_without_networks_the_first_forward_zone(tmp_path: Path) -> None:
    z = zones(tmp_path, {"name": "0.10.in-addr.arpa"}, {"name": "b.example"}, {"name": "a.example"})
    assert z.domain_for("10.0.0.5") == "b.example."
    assert z.domain_for("fd00::5") == "b.example."
