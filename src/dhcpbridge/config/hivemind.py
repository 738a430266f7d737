"""The dhcp-hive-mind ``config.json`` (``hostname``, ``interface``, ``port``, ``subnets[]`` with
``subnet``, ``router``, ``dynStart``, ``dynEnd``, ``leaseTime``) turned into a dhcpbridge config
document, with one line per mapping for ``dhcpbridge check-config`` to show.

``interface`` in hive-mind is where the server listens: an IPv4 address or ``localhost`` becomes
``server.address`` (no broadcast interface: relayed and unicast clients only); any other word is an
interface name for ``server.interfaces``. ``hostname`` names the server and has no equivalent.
Unknown keys are errors, as in every dhcpbridge config.
"""

from __future__ import annotations

import ipaddress
from typing import Any

_TOP = {"hostname", "interface", "port", "subnets"}
_SUBNET = {"subnet", "router", "dynStart", "dynEnd", "leaseTime"}


def is_hivemind(data: dict[str, Any]) -> bool:
    """A hive-mind config.json: ``subnets`` (not ``subnet4``) at the top."""
    return "subnets" in data and "subnet4" not in data


def convert(data: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """(the dhcpbridge document, the mapping lines, the errors with their hive-mind paths)."""
    doc: dict[str, Any] = {"server": {}, "subnet4": []}
    notes: list[str] = []
    errors = [f"{key}: unknown key in a hive-mind config.json" for key in sorted(set(data) - _TOP)]
    if "hostname" in data:
        notes.append(f"hostname {data['hostname']!r}: the server's name, not used")
    if "interface" in data:
        where = str(data["interface"])
        address = "127.0.0.1" if where == "localhost" else where
        try:
            doc["server"]["address"] = str(ipaddress.IPv4Address(address))
            notes.append(f"interface {where!r} -> server.address = {address!r} (relayed and unicast clients)")
        except ValueError:
            doc["server"]["interfaces"] = [where]
            notes.append(f"interface {where!r} -> server.interfaces = [{where!r}]")
    if "port" in data:
        doc["server"]["port"] = data["port"]
        notes.append(f"port {data['port']!r} -> server.port")
    subnets = data.get("subnets")
    if not isinstance(subnets, list):
        return doc, notes, [*errors, "subnets: must be a list"]
    for i, entry in enumerate(subnets):
        if not isinstance(entry, dict):
            errors.append(f"subnets[{i}]: must be an object")
            continue
        errors += [f"subnets[{i}].{key}: unknown key" for key in sorted(set(entry) - _SUBNET)]
        missing = [key for key in ("subnet", "dynStart", "dynEnd") if key not in entry]
        errors += [f"subnets[{i}].{key}: required" for key in missing]
        if missing:
            continue
        subnet: dict[str, Any] = {
            "subnet": entry["subnet"],
            "pools": [f"{entry['dynStart']}-{entry['dynEnd']}"],
        }
        text = f"subnets[{i}] -> subnet4[{i}]: subnet {entry['subnet']}, pools [{entry['dynStart']}-{entry['dynEnd']}]"
        if "leaseTime" in entry:
            subnet["lease-time"] = entry["leaseTime"]
            text += f", lease-time {entry['leaseTime']}"
        if "router" in entry:
            subnet["options"] = {"routers": [entry["router"]]}
            text += f", options.routers [{entry['router']}]"
        doc["subnet4"].append(subnet)
        notes.append(text)
    notes.append("leases.store: not in config.json, the default (sqlite:///var/lib/dhcpbridge/leases.db)")
    return doc, notes, errors
